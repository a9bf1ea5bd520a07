#pragma once
// The PostgreSQL warehouse: a table in a PostgreSQL database, reached with libpq.
//
// Why libpq (Debian's libpq-dev) and not libpqxx: it is the C API every PostgreSQL client is
// built on; COPY ... FROM STDIN / TO STDOUT (the fast paths for loading and reading ratings) are
// plain calls on it; PQescapeIdentifier quotes names the server's own way; and errors come back
// as values (SQLSTATE, message, context) that reco turns into its own Error, instead of a second
// exception hierarchy to translate.
//
// --db takes postgresql://… or postgres://… URIs and libpq keyword strings ("host=… dbname=…"),
// and RECO_DB the same. A password is never accepted there (it would end up in shell history,
// process lists and job records): libpq finds it in PGPASSWORD, ~/.pgpass or a service file.
// location() is postgresql://HOST:PORT/DATABASE, with no user or secret.
//
// Names: unquoted identifiers are case-insensitive, as in SQLite: an existing table or column
// matches whatever its case (an exact match first); a new one from a plain name is created in
// lower case, PostgreSQL's own folding, so psql users need no quotes. A three-part name's
// database must be the connected database. Names always reach SQL through PQescapeIdentifier.
//
// Transactions: the outermost is BEGIN .. COMMIT, nested ones SAVEPOINTs; a row inserter is a
// COPY ... FROM STDIN that ends before the next statement (or the commit) on the connection.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "storage/warehouse.h"

// libpq's handles, declared as libpq-fe.h declares them (only the .cpp includes it, so libpq's
// include directory stays private to this module).
typedef struct pg_conn PGconn;
typedef struct pg_cancel PGcancel;
typedef struct pg_result PGresult;

namespace reco::storage {

// Whether a --db value names a PostgreSQL database: a postgres:// or postgresql:// URI, or a
// libpq keyword string whose first word is one of libpq's keywords (host=, dbname=, service=…).
bool is_postgres_location(std::string_view db);

// A --db value checked for PostgreSQL: the connection string for libpq and the location to show.
// Throws Error(kUsage) for a value libpq cannot parse or one holding a password.
struct PostgresTarget {
  std::string conninfo;
  std::string location;  // postgresql://HOST:PORT/DATABASE (libpq's defaults filled in)
};
PostgresTarget parse_postgres_location(const std::string& db);

// One value in COPY's text format: backslash, tab, newline and carriage return escaped.
// Throws Error(kInput) for a NUL byte, which PostgreSQL text cannot hold.
void append_copy_text(std::string& out, std::string_view text);
// The inverse, for one field of COPY ... TO STDOUT ("\N" is NULL and is not passed here).
std::string decode_copy_text(std::string_view field);
// A plain identifier folded the way PostgreSQL folds unquoted names (lower case); others as is.
std::string fold_identifier(std::string_view name);

class PostgresWarehouse final : public Warehouse {
 public:
  static std::unique_ptr<PostgresWarehouse> open(const std::string& db);
  ~PostgresWarehouse() override;
  PostgresWarehouse(const PostgresWarehouse&) = delete;
  PostgresWarehouse& operator=(const PostgresWarehouse&) = delete;

  std::string backend_name() const override { return "postgresql"; }
  std::string location() const override { return location_; }
  std::unique_ptr<Transaction> begin() override;
  bool table_exists(const TableRef& table) override;
  std::string sql_name(const TableRef& table) override;
  std::vector<ColumnInfo> table_columns(const TableRef& table) override;
  void create_table(const TableRef& table, const std::vector<ColumnDef>& columns,
                    bool replace) override;
  void delete_all_rows(const TableRef& table) override;
  std::unique_ptr<RowInserter> inserter(const TableRef& table,
                                        const std::vector<std::string>& columns) override;
  RawRatings read_ratings(const TableRef& table, const RatingColumns& columns) override;
  std::vector<TableSummary> tables() override;
  ResultSet query(std::string_view sql) override;
  // Single-row mode: rows reach `row` as the server sends them.
  void query_rows(std::string_view sql, const std::function<void(const ResultSet&)>& header,
                  const std::function<void(const std::vector<Value>&)>& row) override;
  LimitedResult read_only_query(std::string_view sql, const QueryLimits& limits) override;
  void execute(std::string_view sql) override;
  void cancel_running() noexcept override;

  const std::string& database() const { return database_; }
  std::string server_version() const;

  // Used by the transaction and inserter objects.
  struct Result;
  Result exec(const std::string& sql);
  void put_copy_row(uint64_t copy_id, const std::string& copy_sql, size_t width,
                    const std::vector<Value>& row);
  void end_copy();               // finishes the COPY in progress, if any (throws its error)
  void abandon_copy() noexcept;  // aborts it: its rows are dropped

 private:
  PostgresWarehouse(PGconn* conn, std::string conninfo, std::string location);
  struct Resolved;
  // The table a name means: an exact match first, else one whose name differs only in case, in
  // the named schema or the search path. Checks the database part and the schema.
  Resolved resolve(const TableRef& table);
  std::string qualified(const Resolved& r) const;  // "schema"."table", quoted by libpq
  std::string quote(std::string_view name) const;
  Error error_of(const PGresult* res, std::string_view what) const;
  Error connection_error(std::string_view what) const;
  LimitedResult run_limited(PGconn* conn, std::string_view sql, const QueryLimits& limits);

  PGconn* conn_;
  PGcancel* cancel_ = nullptr;
  std::string conninfo_;
  std::string location_;
  std::string database_;
  // The COPY ... FROM STDIN in progress: its id (0: none), and the rows not yet sent.
  uint64_t copy_id_ = 0;
  uint64_t next_copy_id_ = 1;
  std::string copy_buffer_;
  uint64_t savepoints_ = 0;
};

}  // namespace reco::storage
