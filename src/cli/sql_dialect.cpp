#include "cli/sql_dialect.h"

#include <cctype>

namespace reco::cli {
namespace {

struct Token {
  size_t begin;
  size_t end;
  std::string upper;  // words only, upper-cased; empty for other tokens
  char symbol = 0;    // single-character punctuation
};

// Tokens of a statement, skipping whitespace and comments; strings and quoted identifiers are
// single tokens. Enough to recognise statement shapes, not a full SQL lexer.
std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
      const char close = c == '[' ? ']' : c;
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == close) {
          if (close != ']' && j + 1 < s.size() && s[j + 1] == close) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      out.push_back({i, std::min(j + 1, s.size()), "", 0});
      i = std::min(j + 1, s.size());
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      size_t j = i;
      std::string upper;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '$')) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(s[j])));
        ++j;
      }
      out.push_back({i, j, upper, 0});
      i = j;
    } else {
      out.push_back({i, i + 1, "", c});
      ++i;
    }
  }
  return out;
}

bool is_word(const std::vector<Token>& t, size_t k, const char* word) {
  return k < t.size() && t[k].upper == word;
}

}  // namespace

Translation translate_snowflake(std::string_view sql) {
  Translation tr;
  const auto t = tokenize(sql);
  if (is_word(t, 0, "USE") && t.size() >= 2) {
    tr.note = "reco: '" + std::string(sql.substr(t[0].begin, t.back().end - t[0].begin)) +
              "' ignored: reco has one warehouse and one schema";
    return tr;
  }
  std::string text(sql);
  if (!is_word(t, 0, "CREATE")) {
    tr.statements.push_back(text);
    return tr;
  }
  size_t k = 1;
  bool or_replace = false;
  if (is_word(t, 1, "OR") && is_word(t, 2, "REPLACE")) {
    or_replace = true;
    k = 3;
  }
  if (!is_word(t, k, "TABLE")) {
    tr.statements.push_back(text);
    return tr;
  }
  // The table name: one or more name tokens joined by dots.
  const size_t name_first = k + 1;
  size_t name_last = name_first;
  while (name_last + 2 < t.size() && t[name_last + 1].symbol == '.') name_last += 2;
  if (name_first >= t.size()) {
    tr.statements.push_back(text);
    return tr;
  }
  const std::string name(sql.substr(t[name_first].begin, t[name_last].end - t[name_first].begin));

  // CREATE TABLE t AS ( ... ) with the parentheses enclosing the whole query.
  size_t strip_open = std::string::npos, strip_close = std::string::npos;
  const size_t as = name_last + 1;
  if (is_word(t, as, "AS") && as + 1 < t.size() && t[as + 1].symbol == '(') {
    size_t last = t.size() - 1;
    if (t[last].symbol == ';' && last > 0) --last;
    if (t[last].symbol == ')') {
      int depth = 0;
      bool encloses_all = true;
      for (size_t j = as + 1; j <= last; ++j) {
        if (t[j].symbol == '(') ++depth;
        if (t[j].symbol == ')' && --depth == 0 && j != last) {
          encloses_all = false;
          break;
        }
      }
      if (encloses_all) {
        strip_open = t[as + 1].begin;
        strip_close = t[last].begin;
      }
    }
  }
  if (!or_replace && strip_open == std::string::npos) {
    tr.statements.push_back(text);
    return tr;
  }
  std::string create;
  size_t pos = 0;
  auto copy_to = [&](size_t end) {
    create += text.substr(pos, end - pos);
    pos = end;
  };
  if (or_replace) {
    copy_to(t[0].end);  // "CREATE"
    pos = t[2].end;     // drop " OR REPLACE"
  }
  if (strip_open != std::string::npos) {
    copy_to(strip_open);
    pos = strip_open + 1;
    copy_to(strip_close);
    pos = strip_close + 1;
  }
  copy_to(text.size());
  if (or_replace) tr.statements.push_back("DROP TABLE IF EXISTS " + name);
  tr.statements.push_back(create);
  tr.note = "";  // a faithful translation: nothing worth a message
  return tr;
}

}  // namespace reco::cli
