// parse_json(text): Snowflake's PARSE_JSON on SQLite. The text is checked (with a message naming
// the position of the first error), then normalised by SQLite's own json() on the same
// connection, so key order and numbers stay as written, and marked as JSON (subtype 'J') for
// json_extract(), json_each() and `reco sql`'s JSON output.

#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "core/json.h"
#include "sqlfunctions/function_support.h"

namespace reco::sqlfunctions {

void parse_json(sqlite3_context* ctx, int, sqlite3_value** argv) {
  static constexpr const char* kName = "parse_json";
  const std::optional<std::string> text = text_arg(argv, 0);
  if (!text) {
    sqlite3_result_null(ctx);
    return;
  }
  try {
    reco::parse_json(*text);  // throws naming the position of the first error
  } catch (const std::exception& e) {
    result_error(
        ctx, kName,
        Error(ErrorKind::kInput, fmt::format("the argument is not valid JSON: {}", e.what())));
    return;
  }
  sqlite3* db = sqlite3_context_db_handle(ctx);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "select json(?1)", -1, &stmt, nullptr) != SQLITE_OK) {
    result_error(ctx, kName, Error(ErrorKind::kInternal, sqlite3_errmsg(db)));
    return;
  }
  sqlite3_bind_text(stmt, 1, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* normal = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    result_json(
        ctx, std::string(normal ? normal : "", static_cast<size_t>(sqlite3_column_bytes(stmt, 0))));
  } else {
    result_error(ctx, kName, Error(ErrorKind::kInternal, sqlite3_errmsg(db)));
  }
  sqlite3_finalize(stmt);
}

}  // namespace reco::sqlfunctions
