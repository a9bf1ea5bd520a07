// The PostgreSQL backend's pieces that need no server: which --db values are PostgreSQL, the
// location shown for them (never a password), COPY's text escaping, name folding, three-part
// names, and cutting statements out of SQL text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/identifiers.h"
#include "storage/postgres_warehouse.h"
#include "storage/sql_text.h"

namespace reco::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// libpq's defaults come from the environment: pin the ones location() fills in.
class PgEnvironment : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* k : {"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"}) {
      if (const char* v = ::getenv(k)) saved_.emplace_back(k, v);
      ::unsetenv(k);
    }
  }
  void TearDown() override {
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST(PostgresLocation, RecognizesUrisAndKeywordStrings) {
  EXPECT_TRUE(is_postgres_location("postgresql://localhost/reco"));
  EXPECT_TRUE(is_postgres_location("postgres://h:5433/db"));
  EXPECT_TRUE(is_postgres_location("POSTGRESQL://h/db"));
  EXPECT_TRUE(is_postgres_location("host=localhost dbname=reco"));
  EXPECT_TRUE(is_postgres_location("  dbname = reco"));
  EXPECT_TRUE(is_postgres_location("service=warehouse"));
  EXPECT_FALSE(is_postgres_location("warehouse.db"));
  EXPECT_FALSE(is_postgres_location("/tmp/a=b.db"));
  EXPECT_FALSE(is_postgres_location("notakeyword=1"));
  EXPECT_FALSE(is_postgres_location(":memory:"));
  EXPECT_FALSE(is_postgres_location("sqlite:host=x"));
}

TEST_F(PgEnvironment, LocationIsHostPortDatabaseWithoutUser) {
  EXPECT_EQ(
      parse_postgres_location("postgresql://alice@db.example:6543/ratings?sslmode=prefer").location,
      "postgresql://db.example:6543/ratings");
  EXPECT_EQ(parse_postgres_location("host=10.0.0.5 dbname=movielens user=bob").location,
            "postgresql://10.0.0.5:5432/movielens");
  // Left out: libpq's defaults (the environment, then the user's name as the database).
  ::setenv("PGHOST", "pg.internal", 1);
  ::setenv("PGPORT", "7000", 1);
  ::setenv("PGDATABASE", "envdb", 1);
  EXPECT_EQ(parse_postgres_location("postgresql://").location,
            "postgresql://pg.internal:7000/envdb");
  EXPECT_EQ(parse_postgres_location("dbname=other").location,
            "postgresql://pg.internal:7000/other");
  ::setenv("PGHOST", "/var/run/postgresql", 1);  // a socket directory is the local server
  EXPECT_EQ(parse_postgres_location("dbname=x").location, "postgresql://localhost:7000/x");
}

TEST(PostgresLocation, RefusesPasswordsWithoutPrintingThem) {
  for (const std::string db :
       {"postgresql://alice:s3cret-pw@localhost/reco",
        "host=localhost password=s3cret-pw dbname=reco",
        "postgresql://localhost/reco?password=s3cret-pw", "dbname=reco sslpassword=s3cret-pw"}) {
    try {
      parse_postgres_location(db);
      ADD_FAILURE() << "accepted a password";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_THAT(e.what(), HasSubstr("PGPASSWORD"));
      EXPECT_THAT(e.what(), Not(HasSubstr("s3cret")));
    }
  }
}

TEST(PostgresLocation, BadStringsNameTheProblem) {
  try {
    parse_postgres_location("host=localhost nonsense=1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("nonsense"));
  }
  EXPECT_THROW(parse_postgres_location("postgresql://h/db?nosuchparam=1"), Error);
}

TEST(CopyText, EscapesWhatCopyTreatsSpecially) {
  std::string out;
  append_copy_text(out, "plain");
  EXPECT_EQ(out, "plain");
  out.clear();
  append_copy_text(out, "a\tb\nc\rd\\e");
  EXPECT_EQ(out, "a\\tb\\nc\\rd\\\\e");
  out.clear();
  append_copy_text(out, "\\N");  // the text \N, not NULL
  EXPECT_EQ(out, "\\\\N");
  out.clear();
  append_copy_text(out, "Amélie (2001), \"quoted\"");
  EXPECT_EQ(out, "Amélie (2001), \"quoted\"");
  EXPECT_THROW(append_copy_text(out, std::string_view("a\0b", 3)), Error);
}

TEST(CopyText, DecodingUndoesEscaping) {
  for (const std::string text : {"", "x", "a\tb\nc\rd\\e", "\\N", "tab\t\t", "back\\\\slash"}) {
    std::string escaped;
    append_copy_text(escaped, text);
    EXPECT_EQ(decode_copy_text(escaped), text) << escaped;
  }
  EXPECT_EQ(decode_copy_text("\\001x"), std::string("\001x"));
  EXPECT_EQ(decode_copy_text("a\\bb"), "a\bb");
}

TEST(FoldIdentifier, PlainNamesFoldToLowerCase) {
  EXPECT_EQ(fold_identifier("RATINGS_train"), "ratings_train");
  EXPECT_EQ(fold_identifier("TOP_10_RECOMMENDATIONS"), "top_10_recommendations");
  EXPECT_EQ(fold_identifier("My Table"), "My Table");  // only a quoted name can be this
  EXPECT_EQ(fold_identifier("x\"; DROP TABLE t; --"), "x\"; DROP TABLE t; --");
}

TEST(TableNames, ThreePartsKeepTheDatabase) {
  const TableRef ref = parse_table_name("MOVIELENS.PUBLIC.ratings_train_data", "input table");
  ASSERT_TRUE(ref.database.has_value());
  EXPECT_EQ(*ref.database, "MOVIELENS");
  EXPECT_FALSE(ref.schema.has_value());  // PUBLIC: the default schema
  EXPECT_EQ(ref.table, "ratings_train_data");
  const TableRef two = parse_table_name("analytics.ratings", "input table");
  EXPECT_FALSE(two.database.has_value());
  EXPECT_EQ(two.schema.value_or(""), "analytics");
  const TableRef quoted = parse_table_name("\"my db\".\"S\".\"t.x\"", "input table");
  EXPECT_EQ(quoted.database.value_or(""), "my db");
  EXPECT_EQ(quoted.schema.value_or(""), "S");
  EXPECT_EQ(quoted.table, "t.x");
}

TEST(SqlText, StatementEndSkipsQuotesCommentsAndDollarQuoting) {
  EXPECT_EQ(statement_end("select 1; select 2"), 9u);
  EXPECT_EQ(statement_end("select 1"), 8u);
  EXPECT_EQ(statement_end("select ';' ; x"), 12u);
  EXPECT_EQ(statement_end("select \";\" ; x"), 12u);
  EXPECT_EQ(statement_end("select 1 -- ;\n; x"), 15u);
  EXPECT_EQ(statement_end("select /* ; /* ; */ ; */ 1; x"), 27u);
  EXPECT_EQ(statement_end("select $$ ; $$; x"), 15u);
  EXPECT_EQ(statement_end("select $f$ ; $$ ; $f$; x"), 22u);
  EXPECT_EQ(statement_end("select $1; x"), 10u);  // a parameter, not a quote
  EXPECT_EQ(statement_end("select 'it''s;'; x"), 16u);
}

TEST(SqlText, BlankAndFirstKeyword) {
  EXPECT_TRUE(only_blank_or_comments(" ; -- x\n /* y */ ;"));
  EXPECT_FALSE(only_blank_or_comments(" ; drop table t"));
  EXPECT_EQ(first_keyword("  -- c\n /* d */ ( select 1)"), "SELECT");
  EXPECT_EQ(first_keyword("with x as (select 1) select * from x"), "WITH");
  EXPECT_EQ(first_keyword("begin"), "BEGIN");
  EXPECT_EQ(first_keyword("  "), "");
}

TEST(SqlText, NumbersAndIds) {
  double d = 0;
  EXPECT_TRUE(parse_number_text(" +4.5 ", d));
  EXPECT_DOUBLE_EQ(d, 4.5);
  EXPECT_FALSE(parse_number_text("four", d));
  EXPECT_FALSE(parse_number_text("", d));
  EXPECT_FALSE(parse_number_text("NaN", d));
  EXPECT_FALSE(parse_number_text("Infinity", d));
  EXPECT_FALSE(parse_number_text("4.5x", d));
  int64_t id = 0;
  EXPECT_TRUE(integral_id(10.0, id));
  EXPECT_EQ(id, 10);
  EXPECT_FALSE(integral_id(10.5, id));
  EXPECT_FALSE(integral_id(1e16, id));
}

}  // namespace
}  // namespace reco::storage
