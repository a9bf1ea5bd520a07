#pragma once
// The embedded SQLite warehouse (WAL mode). It either owns its connection (opened from a path)
// or borrows one (inside SQL functions, where the caller's connection must be used so the
// function sees the caller's transaction and temp tables).

#include <sqlite3.h>

#include <string>

#include "storage/warehouse.h"

namespace reco::storage {

class SqliteWarehouse final : public Warehouse {
 public:
  static std::unique_ptr<SqliteWarehouse> open(const std::string& path);  // creates if absent
  static std::unique_ptr<SqliteWarehouse> borrow(sqlite3* db);
  ~SqliteWarehouse() override;
  SqliteWarehouse(const SqliteWarehouse&) = delete;
  SqliteWarehouse& operator=(const SqliteWarehouse&) = delete;

  sqlite3* handle() const { return db_; }

  std::string backend_name() const override { return "sqlite"; }
  std::string location() const override { return path_; }
  std::unique_ptr<Transaction> begin() override;
  bool table_exists(const TableRef& table) override;
  std::vector<ColumnInfo> table_columns(const TableRef& table) override;
  void create_table(const TableRef& table, const std::vector<ColumnDef>& columns,
                    bool replace) override;
  void delete_all_rows(const TableRef& table) override;
  std::unique_ptr<RowInserter> inserter(const TableRef& table,
                                        const std::vector<std::string>& columns) override;
  RawRatings read_ratings(const TableRef& table, const RatingColumns& columns) override;
  ResultSet query(std::string_view sql) override;
  void execute(std::string_view sql) override;

 private:
  SqliteWarehouse(sqlite3* db, bool owned, std::string path);
  sqlite3* db_;
  bool owned_;
  std::string path_;
};

}  // namespace reco::storage
