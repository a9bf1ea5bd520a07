#include "storage/warehouse.h"

#include "storage/postgres_warehouse.h"
#include "storage/sqlite_warehouse.h"

namespace reco::storage {

std::unique_ptr<Warehouse> open_warehouse(const std::string& db) {
  if (is_postgres_location(db)) return PostgresWarehouse::open(db);
  std::string path = db;
  if (path.rfind("sqlite:", 0) == 0) path = path.substr(7);
  return SqliteWarehouse::open(path);
}

}  // namespace reco::storage
