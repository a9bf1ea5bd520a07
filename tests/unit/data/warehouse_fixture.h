#pragma once
// A temporary SQLite warehouse for loader tests, and a compact way to compare query results.

#include <memory>
#include <string>
#include <variant>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"

#include "storage/sqlite_warehouse.h"
#include "temp_dir.h"

namespace reco::data::testing {

inline std::string show(const storage::Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "NULL";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return std::get<std::string>(v);
}

// Rows joined by '\n', fields by '|'.
inline std::string rows_of(storage::Warehouse& w, const std::string& sql) {
  const auto rs = w.query(sql);
  std::string out;
  for (const auto& row : rs.rows) {
    if (!out.empty()) out += '\n';
    for (size_t k = 0; k < row.size(); ++k) {
      if (k) out += '|';
      out += show(row[k]);
    }
  }
  return out;
}

class WarehouseTest {
 public:
  WarehouseTest() : warehouse_(storage::SqliteWarehouse::open((dir_.path() / "w.db").string())) {}
  storage::Warehouse& warehouse() { return *warehouse_; }
  const TempDir& dir() const { return dir_; }
  std::string rows(const std::string& sql) { return rows_of(*warehouse_, sql); }
  std::string tables() {
    return rows(
        "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE "
        "type = 'table' ORDER BY name)");
  }

 private:
  TempDir dir_;
  std::unique_ptr<storage::SqliteWarehouse> warehouse_;
};

// The reco::Error that f throws; a test failure if it throws none.
template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error thrown";
  return Error(ErrorKind::kInternal, "");
}

}  // namespace reco::data::testing
