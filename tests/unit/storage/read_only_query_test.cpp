// The console's warehouse views: tables() and read_only_query() (one statement that only reads,
// bounded in rows and time), on a file database (a second, read-only connection) and in memory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "core/error.h"
#include "storage/catalog.h"
#include "storage/sqlite_warehouse.h"

namespace reco::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ReadOnlyQuery : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      std::string tmpl = "/tmp/reco-ro-test-XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      wh_ = SqliteWarehouse::open((dir_ / "w.db").string());
    } else {
      wh_ = SqliteWarehouse::open(":memory:");
    }
    wh_->execute(
        "CREATE TABLE ratings (userid INTEGER, movieid INTEGER, rating REAL);"
        "INSERT INTO ratings VALUES (1, 10, 4.5), (1, 11, 3), (2, 10, 5);"
        "CREATE TABLE movies (movieId INTEGER, Title TEXT);"
        "INSERT INTO movies VALUES (10, 'Ten <b>bold</b>'), (11, 'Eleven');"
        "CREATE TABLE _reco_publications (x);"
        "CREATE VIEW five AS SELECT * FROM ratings WHERE rating = 5;");
  }
  void TearDown() override {
    wh_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  Error refused(std::string_view sql, QueryLimits limits = {}) {
    try {
      wh_->read_only_query(sql, limits);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "not refused: " << sql;
    return Error(ErrorKind::kInternal, "");
  }

  fs::path dir_;
  std::unique_ptr<SqliteWarehouse> wh_;
};

TEST_P(ReadOnlyQuery, ListsUserTablesWithCountsAndLeavesReco) {
  const auto tables = wh_->tables();
  ASSERT_EQ(tables.size(), 3u);
  EXPECT_EQ(tables[0].name, "five");
  EXPECT_TRUE(tables[0].view);
  EXPECT_FALSE(tables[0].rows.has_value());
  EXPECT_EQ(tables[1].name, "movies");
  EXPECT_EQ(tables[1].rows, 2);
  EXPECT_EQ(tables[2].name, "ratings");
  EXPECT_EQ(tables[2].rows, 3);
  ASSERT_EQ(tables[2].columns.size(), 3u);
  EXPECT_EQ(tables[2].columns[2].name, "rating");
  EXPECT_EQ(tables[2].columns[2].declared_type, "REAL");
}

TEST_P(ReadOnlyQuery, ReadsAndStopsAtTheRowLimit) {
  QueryLimits limits;
  limits.max_rows = 2;
  const LimitedResult all = wh_->read_only_query("select * from ratings order by rowid", limits);
  EXPECT_EQ(all.columns, (std::vector<std::string>{"userid", "movieid", "rating"}));
  ASSERT_EQ(all.rows.size(), 2u);
  EXPECT_TRUE(all.truncated);
  EXPECT_EQ(std::get<double>(all.rows[0][2]), 4.5);
  limits.max_rows = 3;
  EXPECT_FALSE(wh_->read_only_query("select * from ratings; -- done\n", limits).truncated);
  const auto cte = wh_->read_only_query(
      "with recursive c(x) as (select 1 union all select x + 1 from c where x < 10) "
      "select sum(x) from c",
      {});
  EXPECT_EQ(std::get<int64_t>(cte.rows[0][0]), 55);
}

TEST_P(ReadOnlyQuery, RefusesEverythingThatIsNotOneReadingStatement) {
  EXPECT_THAT(refused("delete from ratings").what(), HasSubstr("only reads: DELETE"));
  EXPECT_THAT(refused("insert into ratings values (3, 3, 3)").what(), HasSubstr("INSERT"));
  EXPECT_THAT(refused("update ratings set rating = 1").what(), HasSubstr("UPDATE"));
  EXPECT_THAT(refused("drop table ratings").what(), HasSubstr("only reads"));
  EXPECT_THAT(refused("create table t (x)").what(), HasSubstr("only reads"));
  EXPECT_THAT(refused("pragma journal_mode = delete").what(), HasSubstr("PRAGMA"));
  EXPECT_THAT(refused("attach database '/tmp/x.db' as x").what(), HasSubstr("ATTACH"));
  EXPECT_THAT(refused("begin").what(), HasSubstr("transaction"));
  EXPECT_THAT(refused("select 1; delete from ratings").what(), HasSubstr("one statement"));
  EXPECT_THAT(refused("select 1; select 2").what(), HasSubstr("one statement"));
  EXPECT_THAT(refused("  -- nothing\n").what(), HasSubstr("no SQL statement"));
  EXPECT_EQ(refused("select * from nowhere").kind(), ErrorKind::kInput);
  EXPECT_EQ(refused("delete from ratings").kind(), ErrorKind::kUsage);
  // Nothing was written, and the main connection works as before.
  EXPECT_EQ(wh_->query("select count(*) from ratings").rows[0][0], Value(int64_t{3}));
  wh_->execute("insert into ratings values (3, 11, 1)");
}

TEST_P(ReadOnlyQuery, StopsAQueryAtItsDeadline) {
  QueryLimits limits;
  limits.max_seconds = 0.2;
  const Error e = refused(
      "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
      limits);
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_THAT(e.what(), HasSubstr("stopped after 0.2 s"));
}

TEST_P(ReadOnlyQuery, TitlesAndOneUsersRatings) {
  const int64_t ids[] = {10, 11, 12};
  const auto titles = item_titles(*wh_, ids);
  ASSERT_EQ(titles.size(), 2u);
  EXPECT_EQ(titles.at(10), "Ten <b>bold</b>");
  const auto rated = user_ratings(*wh_, TableRef{std::nullopt, "ratings"},
                                  RatingColumns{"userid", "movieid", "rating", ""}, 1);
  ASSERT_EQ(rated.size(), 2u);
  EXPECT_EQ(rated[0].item, 10);
  EXPECT_EQ(rated[0].rating, 4.5);
  EXPECT_EQ(rated[1].item, 11);
}

INSTANTIATE_TEST_SUITE_P(FileAndMemory, ReadOnlyQuery, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "File" : "Memory"; });

}  // namespace
}  // namespace reco::storage
