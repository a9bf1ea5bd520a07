#include "core/identifiers.h"

#include <cctype>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"

namespace reco {

bool is_plain_identifier(std::string_view name) {
  if (name.empty()) return false;
  const auto c0 = static_cast<unsigned char>(name[0]);
  if (!(std::isalpha(c0) || c0 == '_')) return false;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (!(std::isalnum(c) || c == '_' || c == '$')) return false;
  }
  return true;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string quote_table(const TableRef& ref) {
  return ref.schema ? quote_identifier(*ref.schema) + "." + quote_identifier(ref.table)
                    : quote_identifier(ref.table);
}

TableRef parse_table_name(std::string_view text, std::string_view what) {
  auto fail = [&](std::string_view why) {
    return Error(ErrorKind::kUsage, fmt::format("invalid {} name '{}': {}", what, text, why));
  };
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    std::string part;
    if (pos < text.size() && text[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < text.size()) {
        if (text[pos] == '"') {
          if (pos + 1 < text.size() && text[pos + 1] == '"') {
            part += '"';
            pos += 2;
            continue;
          }
          closed = true;
          ++pos;
          break;
        }
        part += text[pos++];
      }
      if (!closed) throw fail("unterminated quoted identifier");
      if (part.empty()) throw fail("empty quoted identifier");
      if (part.find('\0') != std::string::npos) throw fail("NUL in identifier");
    } else {
      const size_t end = text.find('.', pos);
      part = std::string(
          text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
      if (!is_plain_identifier(part)) {
        throw fail(part.empty() ? "empty name part"
                                : fmt::format("'{}' is not a plain identifier (letters, digits, _ "
                                              "and $, not starting with a digit); quote it with "
                                              "double quotes if it really is the name",
                                              part));
      }
      pos = end == std::string_view::npos ? text.size() : end;
    }
    parts.push_back(std::move(part));
    if (pos == text.size()) break;
    if (text[pos] != '.') throw fail("unexpected text after a quoted identifier");
    ++pos;
  }
  if (parts.size() > 3) throw fail("too many dots (expected [database.][schema.]table)");
  TableRef ref;
  ref.table = parts.back();
  if (parts.size() >= 2) {
    const std::string& schema = parts[parts.size() - 2];
    std::string lower;
    for (char c : schema) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != "public") ref.schema = schema;
  }
  if (parts.size() == 3) ref.database = parts[0];
  return ref;
}

}  // namespace reco
