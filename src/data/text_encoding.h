#pragma once
// Text encodings of input files. Everything reco stores is UTF-8; sources are either UTF-8
// (validated strictly, so bad bytes are reported where they are instead of reaching the
// warehouse) or Latin-1 (ISO-8859-1: older MovieLens files such as ml-100k u.item and ml-1m
// movies.dat), which maps byte-for-byte onto U+0000..U+00FF.

#include <cstddef>
#include <string>
#include <string_view>

namespace reco::data {

enum class TextEncoding {
  kUtf8,
  kLatin1,
  kAuto,  // UTF-8 when the whole input is valid UTF-8, otherwise Latin-1
};

// Accepts utf-8/utf8, latin-1/latin1/iso-8859-1, auto (any case). Throws Error(kUsage).
TextEncoding parse_text_encoding(std::string_view name);
const char* text_encoding_name(TextEncoding encoding);

// Byte offset of the first byte of the first ill-formed sequence (overlong forms, surrogates,
// code points above U+10FFFF, stray or missing continuation bytes), or npos when `text` is
// valid UTF-8.
size_t validate_utf8(std::string_view text);
inline bool is_valid_utf8(std::string_view text) {
  return validate_utf8(text) == std::string_view::npos;
}

// Appends `text`, read as Latin-1, to `out` as UTF-8.
void append_latin1_as_utf8(std::string& out, std::string_view text);
std::string latin1_to_utf8(std::string_view text);

// True when `text` starts with the UTF-8 byte order mark EF BB BF.
inline bool starts_with_utf8_bom(std::string_view text) {
  return text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
         static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF;
}

}  // namespace reco::data
