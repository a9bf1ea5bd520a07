#include "storage/sql_text.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace reco::storage {

bool parse_number_text(std::string_view text, double& out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(out);
}

bool integral_id(double value, int64_t& out) {
  if (value != std::floor(value) || std::fabs(value) > 9.0e15) return false;
  out = static_cast<int64_t>(value);
  return true;
}

namespace {

// The end of a comment, literal or quoted name starting at i, or i when none starts there.
size_t skip_quoted(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '-' && s.substr(i, 2) == "--") {
    const size_t end = s.find('\n', i);
    return end == std::string_view::npos ? s.size() : end + 1;
  }
  if (c == '/' && s.substr(i, 2) == "/*") {  // PostgreSQL's block comments nest
    int depth = 0;
    while (i < s.size()) {
      if (s.substr(i, 2) == "/*") {
        ++depth;
        i += 2;
      } else if (s.substr(i, 2) == "*/") {
        i += 2;
        if (--depth == 0) return i;
      } else {
        ++i;
      }
    }
    return s.size();
  }
  if (c == '\'' || c == '"' || c == '`') {
    ++i;
    while (i < s.size()) {
      if (s[i] == c) {
        if (i + 1 < s.size() && s[i + 1] == c) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      ++i;
    }
    return s.size();
  }
  if (c == '$') {  // $$...$$ or $tag$...$tag$ (a $1 parameter is not a quote)
    size_t j = i + 1;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    if (j < s.size() && s[j] == '$' &&
        (j == i + 1 || !std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      const std::string_view tag = s.substr(i, j - i + 1);
      const size_t end = s.find(tag, j + 1);
      return end == std::string_view::npos ? s.size() : end + tag.size();
    }
  }
  return i;
}

}  // namespace

size_t statement_end(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    const size_t next = skip_quoted(sql, i);
    if (next != i) {
      i = next;
    } else if (sql[i] == ';') {
      return i + 1;
    } else {
      ++i;
    }
  }
  return sql.size();
}

bool only_blank_or_comments(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ';') {
      ++i;
    } else if (text.substr(i, 2) == "--" || text.substr(i, 2) == "/*") {
      i = skip_quoted(text, i);
    } else {
      return false;
    }
  }
  return true;
}

std::string first_keyword(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '(') {
      ++i;
    } else if (sql.substr(i, 2) == "--" || sql.substr(i, 2) == "/*") {
      i = skip_quoted(sql, i);
    } else {
      break;
    }
  }
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++])));
  }
  return word;
}

}  // namespace reco::storage
