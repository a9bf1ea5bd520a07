#include "storage/sqlite_warehouse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ScratchDb {
 public:
  ScratchDb() {
    std::string tmpl = "/tmp/reco-storage-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~ScratchDb() {
    ::unsetenv("RECO_BUSY_TIMEOUT");
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path() const { return (dir_ / "w.db").string(); }

 private:
  fs::path dir_;
};

Error error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorKind::kInternal, "(no error)");
}

void make_ratings(Warehouse& w, const std::string& table, int rows) {
  auto tx = w.begin();
  w.create_table(TableRef{std::nullopt, table},
                 {{"userId", ColumnType::kInteger},
                  {"movieId", ColumnType::kInteger},
                  {"rating", ColumnType::kReal}},
                 true);
  auto ins = w.inserter(TableRef{std::nullopt, table}, {"userId", "movieId", "rating"});
  for (int i = 0; i < rows; ++i) ins->insert({int64_t{i % 7}, int64_t{i}, 3.5});
  ins.reset();
  tx->commit();
}

TEST(SqliteConcurrency, ASecondWriterWaitsForTheFirstInsteadOfFailing) {
  ScratchDb db;
  auto a = SqliteWarehouse::open(db.path());
  auto b = SqliteWarehouse::open(db.path());
  make_ratings(*a, "r", 10);
  auto held = a->begin();
  a->create_table(TableRef{std::nullopt, "t1"}, {{"x", ColumnType::kInteger}}, false);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    held->commit();
  });
  const auto start = std::chrono::steady_clock::now();
  {
    auto tx = b->begin();  // waits for a's commit
    b->create_table(TableRef{std::nullopt, "t2"}, {{"x", ColumnType::kInteger}}, false);
    tx->commit();
  }
  release.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_TRUE(b->table_exists(TableRef{std::nullopt, "t1"}));
  EXPECT_TRUE(a->table_exists(TableRef{std::nullopt, "t2"}));
}

TEST(SqliteConcurrency, AWriterWhoseReadSnapshotWentStaleStillWrites) {
  // The old failure: read, another connection commits, then write -> "database is locked".
  ScratchDb db;
  auto a = SqliteWarehouse::open(db.path());
  auto b = SqliteWarehouse::open(db.path());
  make_ratings(*a, "r", 100);
  const auto raw = a->read_ratings(TableRef{std::nullopt, "r"}, {"userId", "movieId", "rating", ""});
  EXPECT_EQ(raw.size(), 100u);
  make_ratings(*b, "other", 5);  // commits while a "trains"
  auto tx = a->begin();
  a->create_table(TableRef{std::nullopt, "out"}, {{"x", ColumnType::kInteger}}, true);
  tx->commit();
  EXPECT_TRUE(b->table_exists(TableRef{std::nullopt, "out"}));
}

TEST(SqliteConcurrency, AWaitThatTimesOutNamesTheHolder) {
  ScratchDb db;
  auto a = SqliteWarehouse::open(db.path());
  ::setenv("RECO_BUSY_TIMEOUT", "0.2", 1);
  auto b = SqliteWarehouse::open(db.path());
  auto held = a->begin();
  const Error e = error_of([&] { b->begin(); });
  EXPECT_EQ(e.kind(), ErrorKind::kIo);
  EXPECT_THAT(e.what(),
              HasSubstr(fmt::format("the warehouse {} is busy: waited 0.2 s for its write "
                                    "lock, held by pid {} (",
                                    db.path(), ::getpid())));
  EXPECT_THAT(e.what(), HasSubstr("set RECO_BUSY_TIMEOUT to wait longer"));
  held.reset();  // rolled back: the note goes
  EXPECT_FALSE(fs::exists(db.path() + "-writer"));
  auto tx = b->begin();
  tx->commit();
}

TEST(SqliteConcurrency, BadBusyTimeoutIsAUsageError) {
  ScratchDb db;
  ::setenv("RECO_BUSY_TIMEOUT", "soon", 1);
  const Error e = error_of([&] { SqliteWarehouse::open(db.path()); });
  EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  EXPECT_EQ(std::string(e.what()),
            "RECO_BUSY_TIMEOUT must be a number of seconds >= 0, got 'soon'");
}

TEST(SqliteTransactions, NestedTransactionsAreSavepoints) {
  ScratchDb db;
  auto a = SqliteWarehouse::open(db.path());
  auto outer = a->begin();
  a->create_table(TableRef{std::nullopt, "kept"}, {{"x", ColumnType::kInteger}}, false);
  {
    auto inner = a->begin();
    a->create_table(TableRef{std::nullopt, "dropped"}, {{"x", ColumnType::kInteger}}, false);
  }  // rolled back to the savepoint
  outer->commit();
  EXPECT_TRUE(a->table_exists(TableRef{std::nullopt, "kept"}));
  EXPECT_FALSE(a->table_exists(TableRef{std::nullopt, "dropped"}));
}

TEST(SqliteNames, UnknownSchemaIsNamedAsSuch) {
  ScratchDb db;
  auto a = SqliteWarehouse::open(db.path());
  const Error e =
      error_of([&] { a->table_exists(parse_table_name("MOVIELENS.OTHER.t", "table")); });
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  EXPECT_EQ(std::string(e.what()),
            "unknown schema 'OTHER' in table name 'OTHER.t' (this warehouse has: main)");
  EXPECT_FALSE(a->table_exists(parse_table_name("MOVIELENS.PUBLIC.t", "table")));
  EXPECT_FALSE(a->table_exists(parse_table_name("main.t", "table")));
}

TEST(SqliteNames, TemporaryTablesAreRefusedOnReco_sOwnConnection) {
  ScratchDb db;
  auto a = SqliteWarehouse::open(db.path());
  const Error e = error_of([&] {
    a->create_table(parse_table_name("temp.t", "table"), {{"x", ColumnType::kInteger}}, false);
  });
  EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  EXPECT_THAT(e.what(), HasSubstr("cannot create table 'temp.t': a temporary table lives only as "
                                  "long as this command's connection"));
  // A borrowed connection (a SQL function in the caller's session) may use its temp schema.
  auto borrowed = SqliteWarehouse::borrow(a->handle());
  borrowed->create_table(parse_table_name("temp.t", "table"), {{"x", ColumnType::kInteger}}, false);
  EXPECT_TRUE(borrowed->table_exists(parse_table_name("temp.t", "table")));
}

}  // namespace
}  // namespace reco::storage
