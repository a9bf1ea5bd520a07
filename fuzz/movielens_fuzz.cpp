// The MovieLens loader (src/data/movielens_loader.h) on an arbitrary ratings.csv beside a fixed
// movies.csv, into an in-memory SQLite warehouse: a clean error or a loaded table whose every
// rating is on the documented scale.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "data/movielens_loader.h"
#include "storage/sqlite_warehouse.h"

namespace fs = std::filesystem;

namespace {

fs::path scratch() {
  static const fs::path dir = [] {
    std::string tmpl = (fs::temp_directory_path() / "reco-fuzz-movielens-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    std::ofstream(fs::path(tmpl) / "movies.csv") << "movieId,title,genres\n1,A (1995),Comedy\n";
    return fs::path(tmpl);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const fs::path dir = scratch();
  {
    std::ofstream out(dir / "ratings.csv", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(size));
  }
  auto warehouse = reco::storage::SqliteWarehouse::open(":memory:");
  try {
    reco::data::load_movielens(*warehouse, dir);
    const auto rs = warehouse->query(
        "SELECT count(*) FROM ratings WHERE rating < 0.5 OR rating > 5 OR rating * 2 <> "
        "CAST(rating * 2 AS INTEGER)");
    if (std::get<int64_t>(rs.rows.at(0).at(0)) != 0) std::abort();
  } catch (const reco::Error&) {
  }
  return 0;
}
