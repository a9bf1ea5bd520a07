#include "data/text_encoding.h"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::data {

TextEncoding parse_text_encoding(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "utf-8" || lower == "utf8") return TextEncoding::kUtf8;
  if (lower == "latin-1" || lower == "latin1" || lower == "iso-8859-1" || lower == "iso8859-1") {
    return TextEncoding::kLatin1;
  }
  if (lower == "auto") return TextEncoding::kAuto;
  throw Error(ErrorKind::kUsage,
              fmt::format("unknown encoding '{}' (expected utf-8, latin-1 or auto)", name));
}

const char* text_encoding_name(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      return "utf-8";
    case TextEncoding::kLatin1:
      return "latin-1";
    case TextEncoding::kAuto:
      return "auto";
  }
  return "utf-8";
}

size_t validate_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Most of a MovieLens file is ASCII: skip it eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Well-formed sequences per Unicode Table 3-7: the second byte's range depends on the lead
    // byte, which is what excludes overlongs, surrogates and code points above U+10FFFF.
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if (c >= 0xE1 && c <= 0xEC) {
      len = 3;
    } else if (c == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (c >= 0xEE && c <= 0xEF) {
      len = 3;
    } else if (c == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

void append_latin1_as_utf8(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + text.size() / 8);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
}

std::string latin1_to_utf8(std::string_view text) {
  std::string out;
  append_latin1_as_utf8(out, text);
  return out;
}

}  // namespace reco::data
