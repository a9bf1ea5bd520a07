#include "data/movielens_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "core/error.h"
#include "warehouse_fixture.h"

namespace reco::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::WarehouseTest;

void write_latest(const testing::TempDir& dir, const fs::path& sub = {}) {
  dir.write((sub / "movies.csv").string(),
            "movieId,title,genres\n"
            "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
            "11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
            "2057,\"\"\"Great Performances\"\" Cats (1998)\",Musical\n"
            "8,Caf\xC3\xA9 au lait (1993),(no genres listed)\n");
  dir.write((sub / "ratings.csv").string(),
            "userId,movieId,rating,timestamp\r\n"
            "1,1,4.0,964982703\r\n"
            "1,11,0.5,964982931\r\n"
            "2,2057,5,1445714835\r\n");
  dir.write((sub / "links.csv").string(),
            "movieId,imdbId,tmdbId\n"
            "1,0114709,862\n"
            "11,0112346,9087\n"
            "2057,0173714,\n");
  dir.write((sub / "tags.csv").string(),
            "userId,movieId,tag,timestamp\n"
            "2,11,\"politics, romance\",1445714994\n"
            "2,1,pixar,1445714996\n");
}

TEST(MovieLensLoader, LoadsTheMlLatestLayout) {
  WarehouseTest t;
  write_latest(t.dir());
  std::vector<LoadProgress> calls;
  const LoadReport report = load_movielens(t.warehouse(), t.dir().path(),
                                           [&](const LoadProgress& p) { calls.push_back(p); });
  EXPECT_EQ(report.layout, "ml-latest");
  ASSERT_EQ(report.tables.size(), 4u);
  EXPECT_EQ(report.tables[0].table, "movies");
  EXPECT_EQ(report.tables[0].rows, 4);
  EXPECT_EQ(report.tables[1].table, "ratings");
  EXPECT_EQ(report.tables[1].rows, 3);
  EXPECT_EQ(report.tables[2].table, "links");
  EXPECT_EQ(report.tables[2].rows, 3);
  EXPECT_EQ(report.tables[3].table, "tags");
  EXPECT_EQ(report.tables[3].rows, 2);
  EXPECT_EQ(report.total_rows(), 12);
  EXPECT_GE(report.seconds, 0.0);

  EXPECT_EQ(t.rows("SELECT movieid, title, genres FROM movies ORDER BY rowid"),
            "1|Toy Story (1995)|Adventure|Animation|Children|Comedy|Fantasy\n"
            "11|American President, The (1995)|Comedy|Drama|Romance\n"
            "2057|\"Great Performances\" Cats (1998)|Musical\n"
            "8|Caf\xC3\xA9 au lait (1993)|(no genres listed)");
  EXPECT_EQ(t.rows("SELECT userid, movieid, rating, timestamp, typeof(userid), typeof(rating), "
                   "typeof(timestamp) FROM ratings ORDER BY rowid"),
            "1|1|4|964982703|integer|real|integer\n"
            "1|11|0.5|964982931|integer|real|integer\n"
            "2|2057|5|1445714835|integer|real|integer");
  EXPECT_EQ(t.rows("SELECT movieid, imdbid, tmdbid, typeof(imdbid), typeof(tmdbid) FROM links "
                   "ORDER BY rowid"),
            "1|0114709|862|text|integer\n"
            "11|0112346|9087|text|integer\n"
            "2057|0173714|NULL|text|null");
  EXPECT_EQ(t.rows("SELECT userid, movieid, tag, timestamp FROM tags ORDER BY rowid"),
            "2|11|politics, romance|1445714994\n2|1|pixar|1445714996");
  EXPECT_EQ(t.rows("SELECT name, type FROM pragma_table_info('ratings')"),
            "userid|INTEGER\nmovieid|INTEGER\nrating|REAL\ntimestamp|INTEGER");

  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().bytes_done, calls.back().bytes_total);
  uint64_t total = 0;
  for (const char* f : {"movies.csv", "ratings.csv", "links.csv", "tags.csv"}) {
    total += fs::file_size(t.dir().path() / f);
  }
  EXPECT_EQ(calls.back().bytes_total, total);
}

TEST(MovieLensLoader, LinksAndTagsAreOptional) {
  WarehouseTest t;
  write_latest(t.dir());
  fs::remove(t.dir().path() / "links.csv");
  fs::remove(t.dir().path() / "tags.csv");
  const LoadReport report = load_movielens(t.warehouse(), t.dir().path());
  ASSERT_EQ(report.tables.size(), 2u);
  EXPECT_EQ(t.tables(), "movies,ratings");
}

TEST(MovieLensLoader, FindsTheLayoutInTheOnlySubdirectory) {
  WarehouseTest t;
  write_latest(t.dir(), "unpacked/ml-latest-small");
  const auto source = detect_movielens(t.dir().path() / "unpacked");
  ASSERT_TRUE(source.has_value());
  EXPECT_EQ(source->dir, t.dir().path() / "unpacked" / "ml-latest-small");
  const LoadReport report = load_movielens(t.warehouse(), t.dir().path() / "unpacked");
  EXPECT_EQ(report.source, t.dir().path() / "unpacked" / "ml-latest-small");
  EXPECT_EQ(report.tables[1].rows, 3);
}

TEST(MovieLensLoader, LoadsTheMl100kLayout) {
  WarehouseTest t;
  t.dir().write("u.genre", "unknown|0\nAction|1\nChildren's|2\nComedy|3\n\n");
  t.dir().write(
      "u.item",
      "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story|0|0|1|1\n"
      "2|Caf\xE9 au lait (1994)|01-Jan-1994||http://x|0|1|0|0\n"
      "3|\"Quoted\", Title (1996)|01-Jan-1996||http://y|0|0|0|0\n");
  t.dir().write("u.data", "196\t1\t3\t881250949\n186\t2\t3\t891717742\n22\t3\t1\t878887116\n");
  const LoadReport report = load_movielens(t.warehouse(), t.dir().path());
  EXPECT_EQ(report.layout, "ml-100k");
  ASSERT_EQ(report.tables.size(), 2u);
  EXPECT_EQ(report.tables[0].rows, 3);
  EXPECT_EQ(report.tables[1].rows, 3);
  EXPECT_EQ(t.rows("SELECT movieid, title, genres FROM movies ORDER BY movieid"),
            "1|Toy Story (1995)|Children's|Comedy\n"
            "2|Caf\xC3\xA9 au lait (1994)|Action\n"
            "3|\"Quoted\", Title (1996)|(no genres listed)");
  EXPECT_EQ(t.rows("SELECT userid, movieid, rating, timestamp, typeof(rating) FROM ratings"),
            "196|1|3|881250949|real\n186|2|3|891717742|real\n22|3|1|878887116|real");
  EXPECT_EQ(t.tables(), "movies,ratings");
}

TEST(MovieLensLoader, Ml100kChecksTheGenreFlags) {
  WarehouseTest t;
  t.dir().write("u.genre", "unknown|0\nAction|1\n");
  t.dir().write("u.item", "1|A (1995)|||x|0|1\n2|B (1995)|||x|0|2\n");
  t.dir().write("u.data", "1\t1\t3\t881250949\n");
  const Error e = error_of([&] { load_movielens(t.warehouse(), t.dir().path()); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()), (t.dir().path() / "u.item").string() +
                                       ":2:18: genre flag 'Action' must be 0 or 1, found '2'");
  t.dir().write("u.item", "1|A (1995)|||x|0|1|0\n");
  const Error wrong = error_of([&] { load_movielens(t.warehouse(), t.dir().path()); });
  EXPECT_EQ(std::string(wrong.what()),
            (t.dir().path() / "u.item").string() +
                ":1:1: expected 7 fields (5 + the 2 genres of u.genre), found 8");
  EXPECT_EQ(t.tables(), "NULL");
}

TEST(MovieLensLoader, LoadsTheMl1mLayoutFromLatin1) {
  WarehouseTest t;
  t.dir().write("movies.dat",
                "1::Toy Story (1995)::Animation|Children's|Comedy\n"
                "2057::\"Great Performances\" Cats (1998)::Musical\n"
                "3::Caf\xE9 au lait (1993)::Comedy\n");
  t.dir().write("ratings.dat", "1::1::5::978300760\n1::2057::3::978302109\n");
  t.dir().write("users.dat", "1::F::1::10::48067\n");
  const LoadReport report = load_movielens(t.warehouse(), t.dir().path());
  EXPECT_EQ(report.layout, "ml-1m/ml-10m");
  ASSERT_EQ(report.tables.size(), 2u);
  EXPECT_EQ(t.rows("SELECT movieid, title, genres FROM movies ORDER BY rowid"),
            "1|Toy Story (1995)|Animation|Children's|Comedy\n"
            "2057|\"Great Performances\" Cats (1998)|Musical\n"
            "3|Caf\xC3\xA9 au lait (1993)|Comedy");
  EXPECT_EQ(t.rows("SELECT * FROM ratings"), "1|1|5|978300760\n1|2057|3|978302109");
}

TEST(MovieLensLoader, LoadsTheMl10mLayoutWithTagsAndUtf8) {
  WarehouseTest t;
  t.dir().write("movies.dat", "1::Caf\xC3\xA9 (1995)::Comedy\n");
  t.dir().write("ratings.dat", "1::1::4.5::978300760\n");
  t.dir().write("tags.dat", "15::1::excellent!::1215184630\n20::1::a, b::1215184631\n");
  const LoadReport report = load_movielens(t.warehouse(), t.dir().path());
  ASSERT_EQ(report.tables.size(), 3u);
  EXPECT_EQ(report.tables[2].table, "tags");
  EXPECT_EQ(t.rows("SELECT title FROM movies"), "Caf\xC3\xA9 (1995)");  // not converted twice
  EXPECT_EQ(t.rows("SELECT rating FROM ratings"), "4.5");
  EXPECT_EQ(t.rows("SELECT userid, tag FROM tags"), "15|excellent!\n20|a, b");
}

TEST(MovieLensLoader, UnknownLayoutListsTheExpectedFiles) {
  WarehouseTest t;
  t.dir().write("data/ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,1\n");
  const Error e = error_of([&] { load_movielens(t.warehouse(), t.dir().path() / "data"); });
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  EXPECT_EQ(std::string(e.what()),
            "no MovieLens data set in " + (t.dir().path() / "data").string() +
                ": expected ratings.csv and movies.csv (ml-latest-small, ml-25m, ml-latest; "
                "links.csv and tags.csv optional), or u.data, u.item and u.genre (ml-100k), or "
                "ratings.dat and movies.dat (ml-1m, ml-10m; tags.dat optional); found ratings.csv");
  const Error missing = error_of([&] { load_movielens(t.warehouse(), t.dir().path() / "nope"); });
  EXPECT_EQ(missing.kind(), ErrorKind::kNotFound);
  EXPECT_EQ(std::string(missing.what()),
            "directory not found: " + (t.dir().path() / "nope").string());
}

TEST(MovieLensLoader, ChecksTheHeader) {
  WarehouseTest t;
  write_latest(t.dir());
  t.dir().write("ratings.csv", "user,movie,rating,timestamp\n1,1,4.0,964982703\n");
  const Error e = error_of([&] { load_movielens(t.warehouse(), t.dir().path()); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()),
            (t.dir().path() / "ratings.csv").string() +
                ":1:1: unexpected header 'user,movie,rating,timestamp'; expected "
                "'userId,movieId,rating,timestamp'");
}

TEST(MovieLensLoader, ValidatesValuesWithFileLineColumn) {
  WarehouseTest t;
  write_latest(t.dir());
  const auto ratings = (t.dir().path() / "ratings.csv").string();
  t.dir().write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,x,9\n");
  EXPECT_EQ(std::string(error_of([&] { load_movielens(t.warehouse(), t.dir().path()); }).what()),
            ratings + ":3:5: column 'rating': expected a finite number, found 'x'");
  t.dir().write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,9.5\n");
  EXPECT_EQ(std::string(error_of([&] { load_movielens(t.warehouse(), t.dir().path()); }).what()),
            ratings + ":2:9: column 'timestamp': expected an integer, found '9.5'");
  t.dir().write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,inf,9\n");
  EXPECT_EQ(std::string(error_of([&] { load_movielens(t.warehouse(), t.dir().path()); }).what()),
            ratings + ":2:5: column 'rating': expected a finite number, found 'inf'");
  t.dir().write("ratings.csv", "userId,movieId,rating,timestamp\n");
  EXPECT_EQ(std::string(error_of([&] { load_movielens(t.warehouse(), t.dir().path()); }).what()),
            ratings + ":2:1: no data rows after the header");
  t.dir().write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,3\n");
  EXPECT_EQ(std::string(error_of([&] { load_movielens(t.warehouse(), t.dir().path()); }).what()),
            ratings + ":3:6: expected 4 fields (from the header), found 3");
  t.dir().write("movies.csv", "movieId,title,genres\n1,Caf\xE9,Comedy\n");
  EXPECT_EQ(std::string(error_of([&] { load_movielens(t.warehouse(), t.dir().path()); }).what()),
            (t.dir().path() / "movies.csv").string() +
                ":2:6: invalid UTF-8 (byte 0xE9); the file must be UTF-8, or be loaded as Latin-1");
  EXPECT_EQ(t.tables(), "NULL");
}

TEST(MovieLensLoader, RatingsMustBeOnTheDataSetsDocumentedScale) {
  WarehouseTest t;
  write_latest(t.dir());
  const auto ratings = (t.dir().path() / "ratings.csv").string();
  const std::string half =
      "is not on the data set's scale: 0.5 to 5 in steps of 0.5 (the README of ml-latest, "
      "ml-25m, ml-20m and ml-10m)";
  for (const char* bad : {"-1", "7.5", "1e308", "0", "4.25", "5.5"}) {
    t.dir().write("ratings.csv",
                  std::string("userId,movieId,rating,timestamp\n1,1,4.0,9\n1,2,") + bad + ",9\n");
    EXPECT_EQ(std::string(error_of([&] { load_movielens(t.warehouse(), t.dir().path()); }).what()),
              ratings + ":3:5: column 'rating': rating " + bad + " " + half)
        << bad;
  }
  EXPECT_EQ(t.tables(), "NULL");
  t.dir().write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,0.5,9\n1,2,5.0,9\n1,3,3,9\n");
  EXPECT_EQ(load_movielens(t.warehouse(), t.dir().path()).tables[1].rows, 3);

  // ml-100k and ml-1m: whole stars from 1 to 5.
  WarehouseTest w;
  w.dir().write("movies.dat", "1::Toy Story (1995)::Comedy\n");
  w.dir().write("users.dat", "1::F::1::10::48067\n");
  w.dir().write("ratings.dat", "1::1::5::978300760\n1::1::4.5::978300760\n");
  EXPECT_EQ(std::string(error_of([&] { load_movielens(w.warehouse(), w.dir().path()); }).what()),
            (w.dir().path() / "ratings.dat").string() +
                ":2:7: column 'Rating': rating 4.5 is not on the data set's scale: 1 to 5 in "
                "steps of 1 (the README of ml-100k and ml-1m)");
}

TEST(MovieLensLoader, FailedLoadLeavesNoTables) {
  WarehouseTest t;
  write_latest(t.dir());
  // The last file (tags.csv) has a bad row in its middle.
  t.dir().write("tags.csv",
                "userId,movieId,tag,timestamp\n2,11,a,1445714994\n2,1,b,yesterday\n3,1,c,1\n");
  const Error e = error_of([&] { load_movielens(t.warehouse(), t.dir().path()); });
  EXPECT_EQ(std::string(e.what()), (t.dir().path() / "tags.csv").string() +
                                       ":3:7: column 'timestamp': expected an integer, found "
                                       "'yesterday'");
  EXPECT_EQ(t.tables(), "NULL");
}

TEST(MovieLensLoader, FailedLoadLeavesExistingTablesUnchanged) {
  WarehouseTest t;
  t.warehouse().execute(
      "CREATE TABLE movies(movieid INTEGER, title TEXT, genres TEXT);"
      "INSERT INTO movies VALUES (99, 'Old', 'Drama');"
      "CREATE TABLE ratings(x TEXT);"
      "CREATE TABLE mine(a INTEGER); INSERT INTO mine VALUES (7);");
  write_latest(t.dir());
  t.dir().write("tags.csv", "userId,movieId,tag,timestamp\n2,11,a,1\n2,1,\"b,2\n");
  const Error e = error_of([&] { load_movielens(t.warehouse(), t.dir().path()); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(t.tables(), "mine,movies,ratings");
  EXPECT_EQ(t.rows("SELECT * FROM movies"), "99|Old|Drama");
  EXPECT_EQ(t.rows("SELECT name FROM pragma_table_info('ratings')"), "x");
  EXPECT_EQ(t.rows("SELECT * FROM mine"), "7");
  // A successful load then replaces the tables it loads and leaves the others alone.
  write_latest(t.dir());
  load_movielens(t.warehouse(), t.dir().path());
  EXPECT_EQ(t.tables(), "links,mine,movies,ratings,tags");
  EXPECT_EQ(t.rows("SELECT count(*) FROM movies"), "4");
  EXPECT_EQ(t.rows("SELECT count(*) FROM ratings"), "3");
  EXPECT_EQ(t.rows("SELECT * FROM mine"), "7");
  load_movielens(t.warehouse(), t.dir().path());  // loading again replaces, never appends
  EXPECT_EQ(t.rows("SELECT count(*) FROM ratings"), "3");
}

TEST(MovieLensLoader, RealMlLatestSmall) {
  const fs::path dir = RECO_MOVIELENS_SMALL;
  if (!fs::exists(dir / "ratings.csv")) {
    GTEST_SKIP() << "\n\n*** MovieLens ml-latest-small not found at " << dir
                 << ": the real-data load test did NOT run ***\n";
  }
  WarehouseTest t;
  const LoadReport report = load_movielens(t.warehouse(), dir);
  EXPECT_EQ(report.layout, "ml-latest");
  ASSERT_EQ(report.tables.size(), 4u);
  EXPECT_EQ(report.tables[0].rows, 9742);
  EXPECT_EQ(report.tables[1].rows, 100836);
  EXPECT_EQ(report.tables[2].rows, 9742);
  EXPECT_EQ(report.tables[3].rows, 3683);
  EXPECT_EQ(t.rows("SELECT count(*) FROM ratings"), "100836");
  EXPECT_EQ(t.rows("SELECT count(*) FROM movies"), "9742");
  EXPECT_EQ(t.rows("SELECT count(*) FROM links"), "9742");
  EXPECT_EQ(t.rows("SELECT count(*) FROM tags"), "3683");
  EXPECT_EQ(t.rows("SELECT title, genres FROM movies WHERE movieid = 1"),
            "Toy Story (1995)|Adventure|Animation|Children|Comedy|Fantasy");
  EXPECT_EQ(t.rows("SELECT imdbid, tmdbid FROM links WHERE movieid = 1"), "0114709|862");
  EXPECT_EQ(t.rows("SELECT count(*) FROM links WHERE tmdbid IS NULL"), "8");
  EXPECT_EQ(t.rows("SELECT min(rating), max(rating), count(DISTINCT userid) FROM ratings"),
            "0.5|5|610");
  const double rows_per_second = static_cast<double>(report.total_rows()) / report.seconds;
  std::cout << "[ timing   ] ml-latest-small: " << report.total_rows() << " rows in "
            << report.seconds << " s (" << static_cast<int64_t>(rows_per_second) << " rows/s)\n";
  ::testing::Test::RecordProperty("load_seconds", std::to_string(report.seconds));
}

}  // namespace
}  // namespace reco::data
