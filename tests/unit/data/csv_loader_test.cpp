#include "data/csv_loader.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "warehouse_fixture.h"

namespace reco::data {
namespace {

using storage::ColumnType;
using testing::error_of;
using testing::WarehouseTest;

CsvLoadOptions into(std::string table) {
  CsvLoadOptions o;
  o.table = std::move(table);
  return o;
}

ColumnType infer(std::initializer_list<std::string_view> values) {
  ColumnTypeInference inference;
  for (auto v : values) inference.observe(v);
  return inference.type();
}

TEST(ColumnTypeInference, PicksTheNarrowestTypeThatHoldsEveryValue) {
  EXPECT_EQ(infer({"1", "-2", "", "964982703"}), ColumnType::kInteger);
  EXPECT_EQ(infer({"1", "2.5", ""}), ColumnType::kReal);
  EXPECT_EQ(infer({"1e3", "-0.5"}), ColumnType::kReal);
  EXPECT_EQ(infer({"1", "x"}), ColumnType::kText);
  EXPECT_EQ(infer({"", ""}), ColumnType::kText);
  EXPECT_EQ(infer({}), ColumnType::kText);
  EXPECT_EQ(infer({"0114709", "0112346"}), ColumnType::kText);  // leading zeros are kept
  EXPECT_EQ(infer({"0", "10"}), ColumnType::kInteger);
  EXPECT_EQ(infer({"99999999999999999999"}), ColumnType::kText);  // beyond 64 bits
  EXPECT_EQ(infer({"1.5", "nan"}), ColumnType::kText);
  EXPECT_EQ(infer({"1", " 2"}), ColumnType::kText);
}

TEST(CsvLoader, InfersTypesAndLoadsRows) {
  WarehouseTest t;
  const auto file = t.dir().write("people.csv",
                                  // "nothing" is an SQL keyword: column names are always quoted.
                                  "id,score,name,zip,nothing,mixed\n"
                                  "1,2.5,\"Smith, J.\",02134,,1\n"
                                  "2,,Caf\xC3\xA9,10001,,2.5\n"
                                  "3,4,\"say \"\"hi\"\"\",,,\n");
  const LoadReport report = load_csv(t.warehouse(), file, into("people"));
  EXPECT_EQ(report.layout, "csv");
  ASSERT_EQ(report.tables.size(), 1u);
  const LoadedTable& table = report.tables[0];
  EXPECT_EQ(table.table, "people");
  EXPECT_EQ(table.rows, 3);
  ASSERT_EQ(table.columns.size(), 6u);
  EXPECT_EQ(table.columns[0].type, ColumnType::kInteger);
  EXPECT_EQ(table.columns[1].type, ColumnType::kReal);
  EXPECT_EQ(table.columns[2].type, ColumnType::kText);
  EXPECT_EQ(table.columns[3].type, ColumnType::kText);
  EXPECT_EQ(table.columns[4].type, ColumnType::kText);
  EXPECT_EQ(table.columns[5].type, ColumnType::kReal);
  EXPECT_EQ(t.rows("SELECT name, type FROM pragma_table_info('people')"),
            "id|INTEGER\nscore|REAL\nname|TEXT\nzip|TEXT\nnothing|TEXT\nmixed|REAL");
  EXPECT_EQ(t.rows("SELECT id, score, name, zip, \"nothing\", mixed, typeof(score), typeof(mixed) "
                   "FROM people ORDER BY rowid"),
            "1|2.5|Smith, J.|02134|NULL|1|real|real\n"
            "2|NULL|Caf\xC3\xA9|10001|NULL|2.5|null|real\n"
            "3|4|say \"hi\"|NULL|NULL|NULL|real|null");
}

TEST(CsvLoader, HeaderlessFilesGetNumberedColumns) {
  WarehouseTest t;
  const auto file = t.dir().write("u.data", "196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n");
  CsvLoadOptions o = into("main.ratings100k");
  o.header = false;
  o.delimiter = "\t";
  const LoadReport report = load_csv(t.warehouse(), file, o);
  EXPECT_EQ(report.tables[0].rows, 2);
  EXPECT_EQ(t.rows("SELECT name, type FROM pragma_table_info('ratings100k')"),
            "column1|INTEGER\ncolumn2|INTEGER\ncolumn3|REAL\ncolumn4|INTEGER");
  EXPECT_EQ(t.rows("SELECT * FROM ratings100k"), "196|242|3|881250949\n186|302|3.5|891717742");
}

TEST(CsvLoader, Latin1AndOtherDelimiters) {
  WarehouseTest t;
  const auto file = t.dir().write("m.txt", "id|title\n1|Caf\xE9\n");
  CsvLoadOptions o = into("m");
  o.delimiter = "|";
  o.encoding = TextEncoding::kLatin1;
  load_csv(t.warehouse(), file, o);
  EXPECT_EQ(t.rows("SELECT title FROM m"), "Caf\xC3\xA9");
}

TEST(CsvLoader, ExistingTableNeedsReplace) {
  WarehouseTest t;
  t.warehouse().execute("CREATE TABLE people(a TEXT); INSERT INTO people VALUES ('old');");
  const auto file = t.dir().write("p.csv", "id\n1\n2\n");
  const Error e = error_of([&] { load_csv(t.warehouse(), file, into("PUBLIC.People")); });
  EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  EXPECT_STREQ(e.what(), "table 'People' already exists; use --replace to replace it");
  EXPECT_EQ(t.rows("SELECT * FROM people"), "old");

  CsvLoadOptions o = into("people");
  o.replace = true;
  EXPECT_EQ(load_csv(t.warehouse(), file, o).tables[0].rows, 2);
  EXPECT_EQ(t.rows("SELECT * FROM people"), "1\n2");
}

TEST(CsvLoader, ChecksTheTableName) {
  WarehouseTest t;
  const auto file = t.dir().write("p.csv", "id\n1\n");
  const Error e = error_of([&] { load_csv(t.warehouse(), file, into("x; DROP TABLE y")); });
  EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  EXPECT_EQ(t.tables(), "NULL");
}

TEST(CsvLoader, ChecksTheColumnNames) {
  WarehouseTest t;
  const auto file = t.dir().path() / "h.csv";
  t.dir().write("h.csv", "id,user id\n1,2\n");
  Error e = error_of([&] { load_csv(t.warehouse(), file, into("h")); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()),
            file.string() +
                ":1:4: column name 'user id' is not a plain identifier (letters, digits, _ and $, "
                "not starting with a digit); rename it in the header");
  t.dir().write("h.csv", "id,name,ID\n1,2,3\n");
  e = error_of([&] { load_csv(t.warehouse(), file, into("h")); });
  EXPECT_EQ(std::string(e.what()),
            file.string() +
                ":1:9: duplicate column name 'ID' (column 1 is 'id'; names are compared ignoring "
                "case)");
  t.dir().write("h.csv", "id,,x\n1,2,3\n");
  e = error_of([&] { load_csv(t.warehouse(), file, into("h")); });
  EXPECT_EQ(std::string(e.what()), file.string() + ":1:4: column 2 of the header has no name");
  EXPECT_EQ(t.tables(), "NULL");
}

TEST(CsvLoader, BadRowLeavesTheWarehouseUnchanged) {
  WarehouseTest t;
  t.warehouse().execute("CREATE TABLE p(a TEXT); INSERT INTO p VALUES ('old');");
  const auto file = t.dir().write("p.csv", "a,b\n1,2\n3,4\n5\n6,7\n");
  CsvLoadOptions o = into("p");
  o.replace = true;
  const Error e = error_of([&] { load_csv(t.warehouse(), file, o); });
  EXPECT_EQ(std::string(e.what()),
            file.string() + ":4:2: expected 2 fields (from the header), found 1");
  EXPECT_EQ(t.rows("SELECT * FROM p"), "old");
  EXPECT_EQ(t.tables(), "p");
}

TEST(CsvLoader, HeaderOnlyMakesAnEmptyTable) {
  WarehouseTest t;
  const auto file = t.dir().write("e.csv", "a,b\n");
  const LoadReport report = load_csv(t.warehouse(), file, into("e"));
  EXPECT_EQ(report.tables[0].rows, 0);
  EXPECT_EQ(t.rows("SELECT name, type FROM pragma_table_info('e')"), "a|TEXT\nb|TEXT");
  const auto empty = t.dir().write("empty.csv", "");
  const Error e = error_of([&] { load_csv(t.warehouse(), empty, into("f")); });
  EXPECT_EQ(std::string(e.what()),
            empty.string() + ":1:1: the file is empty (expected a header line)");
  CsvLoadOptions o = into("f");
  o.header = false;
  const Error e2 = error_of([&] { load_csv(t.warehouse(), empty, o); });
  EXPECT_EQ(std::string(e2.what()),
            empty.string() + ":1:1: the file is empty (expected at least one row)");
}

TEST(CsvLoader, ReportsProgressOverBothPasses) {
  WarehouseTest t;
  std::string data = "a,b\n";
  for (int k = 0; k < 100000; ++k) data += std::to_string(k) + ",x" + std::to_string(k) + "\n";
  const auto file = t.dir().write("big.csv", data);
  std::vector<LoadProgress> calls;
  load_csv(t.warehouse(), file, into("big"), [&](const LoadProgress& p) { calls.push_back(p); });
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls.back().bytes_total, 2 * data.size());
  EXPECT_EQ(calls.back().bytes_done, 2 * data.size());
  for (size_t k = 1; k < calls.size(); ++k) EXPECT_GE(calls[k].bytes_done, calls[k - 1].bytes_done);
  EXPECT_EQ(t.rows("SELECT count(*), sum(a), max(b) FROM big"), "100000|4999950000|x99999");
}

}  // namespace
}  // namespace reco::data
