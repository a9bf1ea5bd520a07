#include "cli/sql_dialect.h"

#include <gtest/gtest.h>

namespace reco::cli {
namespace {

TEST(SqlDialect, PassesOrdinaryStatementsThrough) {
  for (const char* s :
       {"select 1", "create table t (a int)", "insert into t values ('create or replace')",
        "CREATE TABLE t AS SELECT 1", "create view v as (select 1)"}) {
    const auto tr = translate_snowflake(s);
    ASSERT_EQ(tr.statements.size(), 1u) << s;
    EXPECT_EQ(tr.statements[0], s);
  }
}

TEST(SqlDialect, CreateOrReplaceDropsFirst) {
  const auto tr = translate_snowflake(
      "create or replace table user_movie_recommendations (USERID float, X variant)");
  ASSERT_EQ(tr.statements.size(), 2u);
  EXPECT_EQ(tr.statements[0], "DROP TABLE IF EXISTS user_movie_recommendations");
  EXPECT_EQ(tr.statements[1], "create table user_movie_recommendations (USERID float, X variant)");
}

TEST(SqlDialect, ParenthesisedCreateTableAsSelect) {
  const auto tr = translate_snowflake(
      "create or replace table ratings_train_data as \n    (select USERID, MOVIEID, RATING \n    "
      "from ratings limit "
      "10000);");
  ASSERT_EQ(tr.statements.size(), 2u);
  EXPECT_EQ(tr.statements[0], "DROP TABLE IF EXISTS ratings_train_data");
  EXPECT_EQ(tr.statements[1],
            "create table ratings_train_data as \n    select USERID, MOVIEID, RATING \n    from "
            "ratings limit 10000;");
}

TEST(SqlDialect, KeepsParenthesesThatDoNotEncloseTheWholeQuery) {
  const char* s = "create table t as (select 1) union (select 2)";
  const auto tr = translate_snowflake(s);
  ASSERT_EQ(tr.statements.size(), 1u);
  EXPECT_EQ(tr.statements[0], s);
}

TEST(SqlDialect, QuotedNamesAndCommentsAreRespected) {
  const auto tr = translate_snowflake(
      "-- c\nCREATE /* x */ OR REPLACE TABLE \"My (Table)\" AS (select ')' as p)");
  ASSERT_EQ(tr.statements.size(), 2u);
  EXPECT_EQ(tr.statements[0], "DROP TABLE IF EXISTS \"My (Table)\"");
  // The words OR REPLACE are removed together with what lies between them and CREATE.
  EXPECT_EQ(tr.statements[1], "-- c\nCREATE TABLE \"My (Table)\" AS select ')' as p");
}

TEST(SqlDialect, UseStatementsAreIgnoredWithANote) {
  const auto tr = translate_snowflake("use warehouse COMPUTE_WH;");
  EXPECT_TRUE(tr.statements.empty());
  EXPECT_NE(tr.note.find("ignored"), std::string::npos);
}

}  // namespace
}  // namespace reco::cli
