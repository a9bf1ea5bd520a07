#pragma once
// SQL identifiers that arrive as data (table names passed to SQL functions or flags) are parsed
// and validated here and only ever reach SQL quoted, never concatenated raw.
//
// Accepted: `table`, `schema.table`, `database.schema.table` (as in the guide's
// 'MOVIELENS.PUBLIC.ratings_train_data'); each part a plain identifier ([A-Za-z_][A-Za-z0-9_$]*)
// or a double-quoted one. SQLite's warehouse is one database, so it ignores the database part;
// PostgreSQL's checks it against the connected database. A schema named PUBLIC (any case) means
// the default schema.

#include <optional>
#include <string>
#include <string_view>

namespace reco {

struct TableRef {
  std::optional<std::string> schema;  // empty: the default schema
  std::string table;
  std::optional<std::string> database = std::nullopt;  // the first of three parts, as written

  std::string display() const { return schema ? *schema + "." + table : table; }
};

// Throws Error(kUsage) naming `what` (e.g. "output table") and the offending text.
TableRef parse_table_name(std::string_view text, std::string_view what);
bool is_plain_identifier(std::string_view name);
std::string quote_identifier(std::string_view name);  // "name" with embedded quotes doubled
std::string quote_table(const TableRef& ref);         // "schema"."table" or "table"

}  // namespace reco
