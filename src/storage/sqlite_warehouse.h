#pragma once
// The embedded SQLite warehouse (WAL mode). It either owns its connection (opened from a path)
// or borrows one (inside SQL functions, when the caller's connection must be used: an in-memory
// database, a caller's open write transaction, temp tables).
//
// Concurrency: an outermost transaction is BEGIN IMMEDIATE, so writers queue for SQLite's single
// write lock instead of failing on "database is locked" half-way; reads hold their snapshot only
// while they read. A writer waits up to RECO_BUSY_TIMEOUT seconds (default 600) and then fails
// naming the holder, which "<db>-writer" records for reco processes.
//
// Degraded homes: when the database cannot be opened for writing (read-only directory or file,
// full disk), it is opened read-only, so reads, invoke_model and serving keep working, and every
// write fails with Error(kConflict) naming the path and the reason.

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "storage/warehouse.h"

namespace reco::storage {

inline constexpr double kDefaultBusyTimeoutSeconds = 600;

// The "<db>-writer" note: which reco process holds the write lock, and since when.
class WriterNote {
 public:
  explicit WriterNote(std::string db_path);
  void held();
  void released();
  std::string describe_holder() const;  // "pid 123 (reco load csv ...), for 4 s"

 private:
  std::string path_;
};

class SqliteWarehouse final : public Warehouse {
 public:
  static std::unique_ptr<SqliteWarehouse> open(const std::string& path);  // creates if absent
  static std::unique_ptr<SqliteWarehouse> borrow(sqlite3* db);
  ~SqliteWarehouse() override;
  SqliteWarehouse(const SqliteWarehouse&) = delete;
  SqliteWarehouse& operator=(const SqliteWarehouse&) = delete;

  sqlite3* handle() const { return db_; }
  // A path SQLite stores in a file (not ":memory:").
  static bool is_file_database(const std::string& path);

  std::string backend_name() const override { return "sqlite"; }
  std::string location() const override { return path_; }
  std::unique_ptr<Transaction> begin() override;
  bool table_exists(const TableRef& table) override;
  std::string sql_name(const TableRef& table) override { return quote_table(table); }
  std::vector<ColumnInfo> table_columns(const TableRef& table) override;
  void create_table(const TableRef& table, const std::vector<ColumnDef>& columns,
                    bool replace) override;
  void delete_all_rows(const TableRef& table) override;
  std::unique_ptr<RowInserter> inserter(const TableRef& table,
                                        const std::vector<std::string>& columns) override;
  RawRatings read_ratings(const TableRef& table, const RatingColumns& columns) override;
  std::vector<TableSummary> tables() override;
  ResultSet query(std::string_view sql) override;
  LimitedResult read_only_query(std::string_view sql, const QueryLimits& limits) override;
  void execute(std::string_view sql) override;
  void cancel_running() noexcept override { sqlite3_interrupt(db_); }

 private:
  SqliteWarehouse(sqlite3* db, bool owned, std::string path);
  static int busy_handler(void* self, int count);
  Error busy_error(const Error& e) const;
  std::vector<std::string> schemas();
  // Error(kNotFound) naming the schema when the table's schema is not attached.
  void check_schema(const TableRef& table);

  sqlite3* db_;
  bool owned_;
  std::string path_;
  std::unique_ptr<WriterNote> note_;  // owned file databases only
  // Why the database could only be opened read-only (a read-only home, a full disk); "" when
  // it is writable. Writes then fail naming the path.
  std::string read_only_reason_;
  double busy_timeout_ = kDefaultBusyTimeoutSeconds;
  std::chrono::steady_clock::time_point busy_since_;
  bool busy_announced_ = false;
  bool busy_timed_out_ = false;
};

}  // namespace reco::storage
