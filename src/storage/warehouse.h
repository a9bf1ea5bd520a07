#pragma once
// The warehouse interface: everything training, loading and the SQL functions need from a SQL
// database. SQLite (embedded, the default, sqlite_warehouse.h) and PostgreSQL
// (postgres_warehouse.h) implement it.
//
// Identifiers that come from users are passed as TableRef / column names and are always quoted
// by the implementation; raw SQL is only accepted through query()/execute(), which are for SQL
// the user wrote.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/identifiers.h"
#include "core/ratings.h"

namespace reco::storage {

// A SQL value. monostate is NULL.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

enum class ColumnType { kInteger, kReal, kText, kJson };
const char* column_type_sql(ColumnType type);  // SQL type name used in CREATE TABLE

struct ColumnDef {
  std::string name;
  ColumnType type;
};

struct ColumnInfo {
  std::string name;           // as declared
  std::string declared_type;  // as declared (may be empty in SQLite)
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  // Per column, whether its values are JSON documents (PostgreSQL's json and jsonb); empty when
  // the backend cannot tell (SQLite).
  std::vector<bool> json_columns;
};

// A table as the console lists it.
struct TableSummary {
  std::string name;
  bool view = false;
  std::optional<int64_t> rows;  // unset for views (counting would run the query)
  std::vector<ColumnInfo> columns;
};

// Bounds of a query typed by someone else than the operator (the console's SQL box).
struct QueryLimits {
  size_t max_rows = 1000;
  size_t max_bytes = 16 << 20;  // of all values together
  double max_seconds = 5.0;
};
struct LimitedResult : ResultSet {
  bool truncated = false;  // more rows than max_rows (or max_bytes) were available
};

// Names of the three columns to read, exactly as declared in the table.
struct RatingColumns {
  std::string user;
  std::string item;
  std::string rating;
  std::string timestamp;  // empty: not read; else an integer (epoch seconds) per row
};

// A transaction (a SAVEPOINT, so it nests inside a caller's transaction). Destroying it without
// commit() rolls everything back.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual void commit() = 0;
};

// Appends rows to one table inside the current transaction, through a prepared statement.
class RowInserter {
 public:
  virtual ~RowInserter() = default;
  virtual void insert(const std::vector<Value>& row) = 0;
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;

  virtual std::string backend_name() const = 0;  // "sqlite" or "postgresql"
  virtual std::string location() const = 0;      // file path or connection URI (no secrets)

  virtual std::unique_ptr<Transaction> begin() = 0;

  virtual bool table_exists(const TableRef& table) = 0;
  // The table as SQL written for this warehouse names it, quoted ("schema"."table"): on
  // PostgreSQL the existing table whatever its case, checked like table_exists().
  virtual std::string sql_name(const TableRef& table) = 0;
  // Columns in declaration order; throws Error(kNotFound) naming the table if it does not exist.
  virtual std::vector<ColumnInfo> table_columns(const TableRef& table) = 0;
  // CREATE TABLE; when replace is true an existing table is dropped first.
  virtual void create_table(const TableRef& table, const std::vector<ColumnDef>& columns,
                            bool replace) = 0;
  virtual void delete_all_rows(const TableRef& table) = 0;
  // Column names as declared in the table; values are bound in that order.
  virtual std::unique_ptr<RowInserter> inserter(const TableRef& table,
                                                const std::vector<std::string>& columns) = 0;

  // Reads the three columns of every row, in table (rowid) order. Every value must be a number;
  // ids must be integral (10 and 10.0 and '10' are all user 10). Throws Error(kInput) naming the
  // table, the column, the row number and the bad value for NULL or non-numeric values. With
  // columns.timestamp, the timestamps too (integers; a fractional number is truncated).
  virtual RawRatings read_ratings(const TableRef& table, const RatingColumns& columns) = 0;

  // The user's tables and views, by name; reco's own (_reco_*) and the database's internal ones
  // are left out.
  virtual std::vector<TableSummary> tables() = 0;

  // SQL written by the user.
  virtual ResultSet query(std::string_view sql) = 0;
  // The same, row by row as they arrive (a shell printing a large result): header gets the
  // columns (rows empty) before the first row. By default query() then each of its rows.
  virtual void query_rows(std::string_view sql, const std::function<void(const ResultSet&)>& header,
                          const std::function<void(const std::vector<Value>&)>& row) {
    const ResultSet rs = query(sql);
    ResultSet head{rs.columns, {}, rs.json_columns};
    header(head);
    for (const auto& r : rs.rows) row(r);
  }
  // One statement that only reads, on a connection that cannot write: anything else (a write,
  // DDL, PRAGMA, ATTACH, a transaction, several statements) is refused with Error(kUsage) before
  // it runs. The first max_rows rows; stopped with Error(kInput) after max_seconds.
  virtual LimitedResult read_only_query(std::string_view sql, const QueryLimits& limits) = 0;
  virtual void execute(std::string_view sql) = 0;
  // Asks the statement running on this warehouse (from another thread or a signal handler) to
  // stop; it then fails. Async-signal-safe.
  virtual void cancel_running() noexcept = 0;
};

// Opens the warehouse named by a --db value: a SQLite file path (or sqlite:PATH), or a
// PostgreSQL URI / libpq keyword string (postgres_warehouse.h).
std::unique_ptr<Warehouse> open_warehouse(const std::string& db);

}  // namespace reco::storage
