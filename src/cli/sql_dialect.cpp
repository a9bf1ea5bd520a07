#include "cli/sql_dialect.h"

#include <cctype>
#include <optional>

#include "sqlfunctions/functions.h"

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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string sql_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// reco's SQL functions as a query (so every output mode prints them), optionally filtered.
std::string catalog_query(const std::string& where) {
  std::string rows;
  for (const sqlfunctions::FunctionInfo& f : sqlfunctions::function_catalog()) {
    rows += rows.empty() ? "(" : ", (";
    rows += sql_literal(f.name) + ", " + sql_literal(f.signature) + ", " + sql_literal(f.returns) +
            ", " + sql_literal(f.description) + ")";
  }
  return "select column1 as name, column2 as signature, column3 as returns, column4 as "
         "description from (values " +
         rows + ")" + (where.empty() ? "" : " where " + where) + " order by name";
}

// The statement's leading words as written, e.g. "create or replace external function".
std::string words_of(std::string_view sql, const std::vector<Token>& t, size_t count) {
  return lower(sql.substr(t[0].begin, t[count - 1].end - t[0].begin));
}

// What reco does instead of a Snowflake statement that sets up something reco has built in;
// nullopt for any other statement. `words` is set to how many leading words were matched.
std::optional<std::string> built_in_instead(const std::vector<Token>& t, size_t& words) {
  if (is_word(t, 0, "GRANT") || is_word(t, 0, "REVOKE")) {
    words = 1;
    return "reco has no roles or grants: access is the file permissions of the home, and "
           "`reco serve --token` guards HTTP";
  }
  if ((is_word(t, 0, "DESCRIBE") || is_word(t, 0, "DESC")) && is_word(t, 1, "INTEGRATION")) {
    words = 2;
    return "reco has no API integrations: its functions run in-process (see `show functions`) "
           "and `reco serve` is its HTTP endpoint";
  }
  if (!is_word(t, 0, "CREATE")) return std::nullopt;
  size_t k = 1;
  if (is_word(t, k, "OR") && is_word(t, k + 1, "REPLACE")) k += 2;
  if (is_word(t, k, "SECURE")) ++k;
  if (is_word(t, k, "WAREHOUSE")) {
    words = k + 1;
    return "reco's warehouse is the SQLite file of the home (`--home DIR` or `--db FILE` picks "
           "another); it has no sizes and needs no starting";
  }
  if (is_word(t, k, "DATABASE") || is_word(t, k, "SCHEMA")) {
    words = k + 1;
    return "reco has one database and one schema (PUBLIC); DB.PUBLIC.TABLE names work as they are";
  }
  if (is_word(t, k, "API") && is_word(t, k + 1, "INTEGRATION")) {
    words = k + 2;
    return "reco needs no API integration: its functions run in-process (see `show functions`) "
           "and `reco serve` is its HTTP endpoint";
  }
  if (is_word(t, k, "EXTERNAL") && is_word(t, k + 1, "FUNCTION")) {
    words = k + 2;
    return "reco's functions are built in: see `show functions`";
  }
  return std::nullopt;
}

// SHOW [EXTERNAL|USER] FUNCTIONS [LIKE 'pattern'] and DESCRIBE|DESC FUNCTION name[(types)].
std::optional<Translation> function_listing(std::string_view sql, const std::vector<Token>& t) {
  Translation tr;
  if (is_word(t, 0, "SHOW")) {
    size_t k = 1;
    if (is_word(t, k, "EXTERNAL") || is_word(t, k, "USER")) ++k;
    if (!is_word(t, k, "FUNCTIONS")) return std::nullopt;
    ++k;
    std::string where;
    if (is_word(t, k, "LIKE") && k + 1 < t.size() && sql[t[k + 1].begin] == '\'') {
      where = "name like " + std::string(sql.substr(t[k + 1].begin, t[k + 1].end - t[k + 1].begin));
      k += 2;
    }
    if (k < t.size() && t[k].symbol != ';') {
      tr.error = "usage: show functions [like 'pattern'] (reco's SQL functions)";
      return tr;
    }
    tr.statements.push_back(catalog_query(where));
    return tr;
  }
  if (!(is_word(t, 0, "DESCRIBE") || is_word(t, 0, "DESC")) || !is_word(t, 1, "FUNCTION")) {
    return std::nullopt;
  }
  // The name: the last part of a dotted name; argument types in parentheses are ignored.
  size_t k = 2;
  while (k + 2 < t.size() && t[k + 1].symbol == '.') k += 2;
  if (k >= t.size() || t[k].upper.empty()) {
    tr.error = "usage: describe function NAME (see `show functions` for the names)";
    return tr;
  }
  const std::string name = lower(sql.substr(t[k].begin, t[k].end - t[k].begin));
  for (const sqlfunctions::FunctionInfo& f : sqlfunctions::function_catalog()) {
    if (name == f.name) {
      tr.statements.push_back(catalog_query("name = " + sql_literal(name)));
      return tr;
    }
  }
  tr.error = "describe function: reco has no SQL function named '" + name +
             "' (see `show functions`; SQLite's own functions are documented at sqlite.org)";
  return tr;
}

// The text of a string literal token ('it''s' -> it's), or nullopt for another token.
std::optional<std::string> string_value(std::string_view sql, const Token& token) {
  if (token.end - token.begin < 2 || sql[token.begin] != '\'' || sql[token.end - 1] != '\'')
    return std::nullopt;
  std::string out;
  for (size_t i = token.begin + 1; i + 1 < token.end; ++i) {
    out += sql[i];
    if (sql[i] == '\'' && sql[i + 1] == '\'') ++i;
  }
  return out;
}

// A task's name as written: a word, or a "quoted" identifier without its quotes.
std::string task_name(std::string_view sql, const Token& token) {
  std::string_view name = sql.substr(token.begin, token.end - token.begin);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
    name = name.substr(1, name.size() - 2);
  return std::string(name);
}

// Snowflake's task statements as reco's task functions (tasks/task_store.h):
//   CREATE [OR REPLACE] TASK name [WAREHOUSE = w] SCHEDULE = 's' AS sql
//     -> create_task('name', 's', 'sql'), then suspend_task: a new task is suspended, as in
//        Snowflake, until ALTER TASK name RESUME
//   ALTER TASK name RESUME | SUSPEND -> resume_task / suspend_task
//   EXECUTE TASK name -> execute_task;  DROP TASK name -> drop_task
// WHEN (reco has no streams: create_task's when_changed option instead), AFTER (task graphs)
// and other parameters are errors naming them.
std::optional<Translation> task_statement(std::string_view sql, const std::vector<Token>& t) {
  Translation tr;
  // The answer as a short row (task, state, ...) rather than the function's JSON object.
  auto task_row = [&](const std::string& call) {
    tr.statements.push_back(
        "select json_extract(t, '$.name') as task, json_extract(t, '$.state') as state, "
        "json_extract(t, '$.schedule') as schedule from (select " +
        call + " as t)");
  };
  auto call = [&](const char* function, const std::string& name) {
    return std::string(function) + "(" + sql_literal(name) + ")";
  };
  size_t k = 1;
  if (is_word(t, 0, "CREATE")) {
    const bool replace = is_word(t, 1, "OR") && is_word(t, 2, "REPLACE");
    k = replace ? 3 : 1;
    if (!is_word(t, k, "TASK")) return std::nullopt;
    if (++k >= t.size()) {
      tr.error = "usage: create [or replace] task NAME [warehouse = W] schedule = 'S' as SQL";
      return tr;
    }
    const std::string name = task_name(sql, t[k++]);
    std::optional<std::string> schedule;
    while (k < t.size() && !is_word(t, k, "AS")) {
      const std::string word = t[k].upper;
      if ((word == "WAREHOUSE" || word == "SCHEDULE") && k + 2 < t.size() &&
          t[k + 1].symbol == '=') {
        if (word == "SCHEDULE") {
          schedule = string_value(sql, t[k + 2]);
          if (!schedule) {
            tr.error = "create task: SCHEDULE takes a quoted string such as '60 MINUTE'";
            return tr;
          }
        }
        k += 3;
        continue;
      }
      if (word == "WHEN") {
        tr.error =
            "create task: reco has no streams, so no WHEN condition: create the task with "
            "create_task(name, schedule, sql, '{\"when_changed\": \"TABLE\"}') to run it only "
            "when a table changed";
      } else if (word == "AFTER") {
        tr.error = "create task: task graphs (AFTER) are not supported: give each task a schedule";
      } else {
        tr.error = "create task: unsupported parameter '" +
                   std::string(sql.substr(t[k].begin, t[k].end - t[k].begin)) +
                   "' (supported: WAREHOUSE = w, ignored; SCHEDULE = 's')";
      }
      return tr;
    }
    if (!schedule || k + 1 >= t.size()) {
      tr.error = !schedule ? "create task: SCHEDULE = '...' is required (reco runs no task "
                             "without a schedule)"
                           : "create task: the SQL after AS is missing";
      return tr;
    }
    size_t end = t.back().end;
    if (t.back().symbol == ';') end = t.back().begin;
    const std::string body(sql.substr(t[k + 1].begin, end - t[k + 1].begin));
    task_row("suspend_task(json_extract(create_task(" + sql_literal(name) + ", " +
             sql_literal(*schedule) + ", " + sql_literal(body) +
             (replace ? ", '{\"replace\": true}'" : "") + "), '$.name'))");
    tr.note = "reco: task " + name + " is created suspended, as in Snowflake: `alter task " + name +
              " resume` starts it (reco serve runs it)";
    return tr;
  }
  const bool alter = is_word(t, 0, "ALTER"), execute = is_word(t, 0, "EXECUTE"),
             drop = is_word(t, 0, "DROP");
  if (!(alter || execute || drop) || !is_word(t, 1, "TASK")) return std::nullopt;
  if (t.size() < 3 || (t[2].upper.empty() && sql[t[2].begin] != '"')) {
    tr.error = "usage: alter task NAME resume|suspend, execute task NAME, drop task NAME";
    return tr;
  }
  const std::string name = task_name(sql, t[2]);
  if (execute) {
    tr.statements.push_back(
        "select json_extract(r, '$.state') as state, json_extract(r, '$.error') as error, "
        "json_extract(r, '$.jobs') as jobs from (select " +
        call("execute_task", name) + " as r)");
  } else if (drop) {
    tr.statements.push_back("select json_extract(" + call("drop_task", name) +
                            ", '$.task') as dropped");
  } else if (is_word(t, 3, "RESUME") || is_word(t, 3, "SUSPEND")) {
    task_row(call(is_word(t, 3, "RESUME") ? "resume_task" : "suspend_task", name));
  } else {
    tr.error =
        "alter task: reco supports RESUME and SUSPEND (change a task with create or "
        "replace task)";
  }
  return tr;
}

bool adjacent(const std::vector<Token>& t, size_t a, size_t b) {
  return b < t.size() && t[a].end == t[b].begin;
}

// A name an element path can start from: a word or a "quoted" identifier.
bool is_name(std::string_view sql, const Token& token) {
  return !token.upper.empty() || (token.end > token.begin && sql[token.begin] == '"');
}

// The inside of a [..] token as a JSON path step: [3] -> "[3]", ['k'] or ["k"] -> ."k".
std::optional<std::string> subscript_step(std::string_view sql, const Token& token) {
  if (token.end - token.begin < 3 || sql[token.begin] != '[' || sql[token.end - 1] != ']') {
    return std::nullopt;
  }
  const std::string_view inside = sql.substr(token.begin + 1, token.end - token.begin - 2);
  bool digits = true;
  for (char c : inside) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) return "[" + std::string(inside) + "]";
  if (inside.size() >= 2 && (inside.front() == '\'' || inside.front() == '"') &&
      inside.back() == inside.front()) {
    const std::string_view key = inside.substr(1, inside.size() - 2);
    if (key.find_first_of("\"'") == std::string_view::npos) return ".\"" + std::string(key) + "\"";
  }
  return std::nullopt;
}

// Whether tokens [first, end) are a whole item of a SELECT list: after SELECT (or DISTINCT,
// ALL) or a comma, before a comma, FROM, ')' or the end, with the nearest clause keyword at the
// same parenthesis level being SELECT (so function arguments and WHERE terms are not items).
bool whole_select_item(const std::vector<Token>& t, size_t first, size_t end) {
  if (first == 0) return false;
  const Token& before = t[first - 1];
  if (!(before.symbol == ',' || before.upper == "SELECT" || before.upper == "DISTINCT" ||
        before.upper == "ALL")) {
    return false;
  }
  if (end < t.size() && !(t[end].symbol == ',' || t[end].symbol == ';' || t[end].symbol == ')' ||
                          t[end].upper == "FROM")) {
    return false;
  }
  int depth = 0;
  for (size_t j = first; j-- > 0;) {
    if (t[j].symbol == ')') ++depth;
    if (t[j].symbol == '(' && depth-- == 0) return false;  // inside parentheses of its own
    if (depth != 0) continue;
    if (t[j].upper == "SELECT") return true;
    for (const char* clause : {"FROM", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "ON", "BY",
                               "VALUES", "SET", "RETURNING", "WHEN", "THEN", "ELSE", "CASE"}) {
      if (t[j].upper == clause) return false;
    }
  }
  return false;
}

// Snowflake's element access on semi-structured values, written without spaces as in
// Snowflake: X[0], X['key'], X:key.sub[1] -> json_extract(X, '$[0]') etc. X may be qualified
// (t.X). Anything else is left as it is.
std::string rewrite_element_access(std::string_view sql) {
  const auto t = tokenize(sql);
  std::string out;
  size_t copied = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!(is_name(sql, t[i]) || t[i].symbol == ')') || !adjacent(t, i, i + 1)) continue;
    std::string path;
    size_t k = i + 1;
    bool in_colon_path = false;
    while (k < t.size() && adjacent(t, k - 1, k)) {
      if (std::optional<std::string> step = subscript_step(sql, t[k])) {
        path += *step;
        ++k;
      } else if (t[k].symbol == ':' && !in_colon_path && path.empty() && adjacent(t, k, k + 1) &&
                 !t[k + 1].upper.empty()) {
        path += "." + std::string(sql.substr(t[k + 1].begin, t[k + 1].end - t[k + 1].begin));
        in_colon_path = true;
        k += 2;
      } else if (t[k].symbol == '.' && in_colon_path && adjacent(t, k, k + 1) &&
                 !t[k + 1].upper.empty()) {
        path += "." + std::string(sql.substr(t[k + 1].begin, t[k + 1].end - t[k + 1].begin));
        k += 2;
      } else {
        break;
      }
    }
    if (path.empty()) continue;
    // The value: this name and the qualifiers joined to it by dots (t.X, db.t.X), or a
    // parenthesised expression or function call: f(x):key.
    size_t first = i;
    if (t[i].symbol == ')') {
      int depth = 0;
      for (size_t j = i + 1; j-- > 0;) {
        if (t[j].symbol == ')') ++depth;
        if (t[j].symbol == '(' && --depth == 0) {
          first = j;
          break;
        }
      }
      if (depth != 0) continue;
      if (first >= 1 && !t[first - 1].upper.empty() && adjacent(t, first - 1, first)) --first;
    }
    while (first >= 2 && t[first - 1].symbol == '.' && adjacent(t, first - 1, first) &&
           adjacent(t, first - 2, first - 1) && is_name(sql, t[first - 2])) {
      first -= 2;
    }
    if (t[first].begin < copied) continue;  // already part of a rewritten expression
    out += sql.substr(copied, t[first].begin - copied);
    out += "json_extract(" + std::string(sql.substr(t[first].begin, t[i].end - t[first].begin)) +
           ", " + sql_literal("$" + path) + ")";
    // A whole select-list item keeps the name Snowflake gives it: the expression as written.
    if (whole_select_item(t, first, k)) {
      std::string name;
      for (char c : sql.substr(t[first].begin, t[k - 1].end - t[first].begin)) {
        name += c;
        if (c == '"') name += '"';
      }
      out += " AS \"" + name + "\"";
    }
    copied = t[k - 1].end;
    i = k - 1;
  }
  out += sql.substr(copied);
  return out;
}

// Snowflake's FLATTEN(INPUT => X), also as LATERAL FLATTEN(...) and TABLE(FLATTEN(...)), is
// SQLite's json_each(X): one row per element with key (array index or object key), value,
// type, fullkey and path. FLATTEN with other arguments (PATH, OUTER, RECURSIVE, MODE) is left
// as it is.
std::string rewrite_flatten(std::string_view sql) {
  const auto t = tokenize(sql);
  std::string out;
  size_t copied = 0;
  for (size_t f = 0; f + 1 < t.size(); ++f) {
    if (!is_word(t, f, "FLATTEN") || t[f + 1].symbol != '(') continue;
    size_t close = f + 1;
    size_t comma = 0;
    int depth = 0;
    for (; close < t.size(); ++close) {
      if (t[close].symbol == '(') ++depth;
      if (t[close].symbol == ')' && --depth == 0) break;
      if (t[close].symbol == ',' && depth == 1 && comma == 0) comma = close;
    }
    if (close >= t.size() || comma != 0) continue;
    size_t arg = f + 2;
    if (is_word(t, arg, "INPUT") && arg + 2 < close && t[arg + 1].symbol == '=' &&
        t[arg + 2].symbol == '>') {
      arg += 3;
    }
    if (arg >= close) continue;
    size_t begin = f;
    size_t end = close;
    if (f >= 1 && is_word(t, f - 1, "LATERAL")) begin = f - 1;
    if (f >= 2 && t[f - 1].symbol == '(' && is_word(t, f - 2, "TABLE") && close + 1 < t.size() &&
        t[close + 1].symbol == ')') {
      begin = f - 2;
      end = close + 1;
    }
    out += sql.substr(copied, t[begin].begin - copied);
    out +=
        "json_each(" + std::string(sql.substr(t[arg].begin, t[close].begin - t[arg].begin)) + ")";
    copied = t[end].end;
    f = end;
  }
  out += sql.substr(copied);
  return out;
}

}  // namespace

Translation translate_snowflake(std::string_view original) {
  Translation tr;
  const std::string rewritten = rewrite_flatten(rewrite_element_access(original));
  const std::string_view sql = rewritten;
  const auto t = tokenize(sql);
  if (is_word(t, 0, "USE") && t.size() >= 2) {
    const bool role = is_word(t, 1, "ROLE") || is_word(t, 1, "SECONDARY");
    tr.note = "reco: '" + std::string(sql.substr(t[0].begin, t.back().end - t[0].begin)) +
              "' ignored: " +
              (role ? "reco has no roles: access is the file permissions of the home"
                    : "reco has one warehouse and one schema");
    return tr;
  }
  size_t words = 0;
  if (std::optional<std::string> instead = built_in_instead(t, words)) {
    tr.note = "reco: '" + words_of(sql, t, words) + "' ignored: " + *instead;
    return tr;
  }
  if (std::optional<Translation> listing = function_listing(sql, t)) return *listing;
  if (std::optional<Translation> task = task_statement(sql, t)) return *task;
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
