#include "cli/sql_dialect.h"

#include <initializer_list>

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
  EXPECT_NE(tr.note.find("ignored: reco has one warehouse"), std::string::npos);
  const auto role = translate_snowflake("use role sysadmin");
  EXPECT_TRUE(role.statements.empty());
  EXPECT_NE(role.note.find("ignored: reco has no roles"), std::string::npos);
}

TEST(SqlDialect, SetUpStatementsOfBuiltInThingsAreExplained) {
  const struct {
    const char* statement;
    const char* words;
    const char* instead;
  } cases[] = {
      {"CREATE OR REPLACE WAREHOUSE COMPUTE_WH WITH WAREHOUSE_SIZE = 'XSMALL'",
       "'create or replace warehouse'", "SQLite file of the home"},
      {"create database MOVIELENS", "'create database'", "one database and one schema"},
      {"create or replace api integration snf api_provider = aws_api_gateway enabled = true",
       "'create or replace api integration'", "no API integration"},
      {"create or replace external function deploy_model(a varchar, b varchar)\n returns "
       "variant api_integration = x as 'https://x/deploy';",
       "'create or replace external function'", "functions are built in: see `show functions`"},
      {"create secure external function f() returns variant as 'u'",
       "'create secure external function'", "built in"},
      {"grant usage on function invoke_model(varchar, number, number) to role sysadmin;", "'grant'",
       "no roles or grants"},
      {"revoke usage on function f() from role r", "'revoke'", "no roles or grants"},
      {"describe integration snf_recommender_api_integration", "'describe integration'",
       "no API integrations"},
  };
  for (const auto& c : cases) {
    const auto tr = translate_snowflake(c.statement);
    EXPECT_TRUE(tr.statements.empty()) << c.statement;
    EXPECT_TRUE(tr.error.empty()) << c.statement;
    EXPECT_NE(tr.note.find(std::string(c.words) + " ignored: "), std::string::npos) << tr.note;
    EXPECT_NE(tr.note.find(c.instead), std::string::npos) << tr.note;
    EXPECT_EQ(tr.note.find('\n'), std::string::npos) << "one line: " << tr.note;
  }
}

TEST(SqlDialect, OrdinaryCreateAndDescribeStatementsAreNotTakenForSnowflakeOnes) {
  for (const char* s : {"create table warehouse (a int)", "create view grants as select 1",
                        "create index external on t(a)", "select 'grant'"}) {
    const auto tr = translate_snowflake(s);
    ASSERT_EQ(tr.statements.size(), 1u) << s;
    EXPECT_EQ(tr.statements[0], s);
    EXPECT_TRUE(tr.note.empty()) << s;
  }
}

TEST(SqlDialect, ShowFunctionsListsEveryRecoFunction) {
  for (const char* s : {"show functions", "SHOW EXTERNAL FUNCTIONS;", "show user functions"}) {
    const auto tr = translate_snowflake(s);
    ASSERT_EQ(tr.statements.size(), 1u) << s;
    EXPECT_TRUE(tr.error.empty());
    for (const char* name : {"train_and_get_recommendations", "evaluate_model", "deploy_model",
                             "invoke_model", "recommend", "reco_version"}) {
      EXPECT_NE(tr.statements[0].find(name), std::string::npos) << name;
    }
  }
  const auto like = translate_snowflake("show functions like '%model%'");
  ASSERT_EQ(like.statements.size(), 1u);
  EXPECT_NE(like.statements[0].find("where name like '%model%'"), std::string::npos);
  EXPECT_FALSE(translate_snowflake("show functions in account").error.empty());
}

TEST(SqlDialect, DescribeFunctionNamesOneFunctionOrFails) {
  const auto tr =
      translate_snowflake("describe function MOVIELENS.PUBLIC.Invoke_Model(varchar, number)");
  ASSERT_EQ(tr.statements.size(), 1u);
  EXPECT_NE(tr.statements[0].find("where name = 'invoke_model'"), std::string::npos);
  const auto unknown = translate_snowflake("desc function no_such_function");
  EXPECT_TRUE(unknown.statements.empty());
  EXPECT_NE(unknown.error.find("no SQL function named 'no_such_function'"), std::string::npos);
  EXPECT_FALSE(translate_snowflake("describe function").error.empty());
}

// Each statement becomes exactly one statement, the expected one.
struct Rewrite {
  const char* in;
  const char* out;
};
void expect_rewrites(std::initializer_list<Rewrite> cases) {
  for (const Rewrite& c : cases) {
    const auto tr = translate_snowflake(c.in);
    ASSERT_EQ(tr.statements.size(), 1u) << c.in;
    EXPECT_EQ(tr.statements[0], c.out);
  }
}

TEST(SqlDialect, SnowflakeTaskStatementsBecomeTaskFunctions) {
  auto tr = translate_snowflake(
      "create or replace task retrain warehouse = compute_wh schedule = '60 MINUTE'\n"
      "  as select train_and_get_recommendations('ratings', 'it''s');");
  ASSERT_EQ(tr.statements.size(), 1u) << tr.error;
  const std::string row =
      "select json_extract(t, '$.name') as task, json_extract(t, '$.state') as state, "
      "json_extract(t, '$.schedule') as schedule from (select ";
  EXPECT_EQ(tr.statements[0],
            row +
                "suspend_task(json_extract(create_task('retrain', '60 MINUTE', 'select "
                "train_and_get_recommendations(''ratings'', ''it''''s'')', '{\"replace\": "
                "true}'), '$.name')) as t)");
  EXPECT_NE(tr.note.find("created suspended, as in Snowflake"), std::string::npos);
  tr = translate_snowflake(
      "CREATE TASK \"t\" SCHEDULE = 'USING CRON 0 3 * * * UTC' AS delete from x");
  ASSERT_EQ(tr.statements.size(), 1u) << tr.error;
  EXPECT_EQ(tr.statements[0], row +
                                  "suspend_task(json_extract(create_task('t', 'USING CRON 0 "
                                  "3 * * * UTC', 'delete from x'), '$.name')) as t)");
  const std::pair<const char*, std::string> simple[] = {
      {"alter task t resume", row + "resume_task('t') as t)"},
      {"ALTER TASK t SUSPEND;", row + "suspend_task('t') as t)"},
      {"execute task t",
       "select json_extract(r, '$.state') as state, json_extract(r, '$.error') as error, "
       "json_extract(r, '$.jobs') as jobs from (select execute_task('t') as r)"},
      {"drop task t", "select json_extract(drop_task('t'), '$.task') as dropped"}};
  for (const auto& [statement, expected] : simple) {
    tr = translate_snowflake(statement);
    ASSERT_EQ(tr.statements.size(), 1u) << statement;
    EXPECT_EQ(tr.statements[0], expected);
  }
  const std::pair<const char*, const char*> errors[] = {
      {"create task t schedule = '1 DAY' when system$stream_has_data('s') as select 1",
       "reco has no streams"},
      {"create task t after other as select 1", "task graphs (AFTER) are not supported"},
      {"create task t comment = 'x' schedule = '1 DAY' as select 1",
       "unsupported parameter 'comment'"},
      {"create task t as select 1", "SCHEDULE = '...' is required"},
      {"create task t schedule = 60 as select 1", "SCHEDULE takes a quoted string"},
      {"create task t schedule = '1 DAY' as", "the SQL after AS is missing"},
      {"alter task t set schedule = '1 DAY'", "reco supports RESUME and SUSPEND"},
      {"drop task", "usage: alter task NAME"}};
  for (const auto& [statement, message] : errors) {
    tr = translate_snowflake(statement);
    EXPECT_TRUE(tr.statements.empty()) << statement;
    EXPECT_NE(tr.error.find(message), std::string::npos) << statement << ": " << tr.error;
  }
  // Not task statements: passed through.
  EXPECT_EQ(translate_snowflake("create table task (a int)").statements[0],
            "create table task (a int)");
}

TEST(SqlDialect, ElementAccessBecomesJsonExtract) {
  expect_rewrites({
      {"select TOP_10_RECOMMENDATIONS[0] from r",
       "select json_extract(TOP_10_RECOMMENDATIONS, '$[0]') AS \"TOP_10_RECOMMENDATIONS[0]\" "
       "from r"},
      {"select TOP_10_RECOMMENDATIONS[0] as best from r",
       "select json_extract(TOP_10_RECOMMENDATIONS, '$[0]') as best from r"},
      {"select distinct a, v:k, (select \"q\"[1]) from t where f(v[0], 1) and v:k > 1",
       "select distinct a, json_extract(v, '$.k') AS \"v:k\", (select json_extract(\"q\", '$[1]') "
       "AS \"\"\"q\"\"[1]\") from t where f(json_extract(v, '$[0]'), 1) and json_extract(v, "
       "'$.k') > 1"},
      {"select count(x[0]), x[1] + 1, case when v:a then 1 end from t",
       "select count(json_extract(x, '$[0]')), json_extract(x, '$[1]') + 1, case when "
       "json_extract(v, '$.a') then 1 end from t"},
      {"select r.x[1][2] + 0, \"q\"[3] q from r",
       "select json_extract(r.x, '$[1][2]') + 0, json_extract(\"q\", '$[3]') q from r"},
      {"select v:a.b[1] ab, v['k'] k from t",
       "select json_extract(v, '$.a.b[1]') ab, json_extract(v, '$.\"k\"') k from t"},
      {"select f(x):status", "select json_extract(f(x), '$.status') AS \"f(x):status\""},
      {"select x from t where v:name = 'it''s'",
       "select x from t where json_extract(v, '$.name') = 'it''s'"},
  });
}

TEST(SqlDialect, WhatOnlyLooksLikeElementAccessIsKept) {
  for (const char* s : {"select :x, @y, ?1 from t where a = :b", "select a [0] from t",
                        "select 'v[0] and v:a' from t", "select a as [my col] from t",
                        "select x[abc] from t", "select v::text from t"}) {
    const auto tr = translate_snowflake(s);
    ASSERT_EQ(tr.statements.size(), 1u) << s;
    EXPECT_EQ(tr.statements[0], s);
  }
}

TEST(SqlDialect, FlattenBecomesJsonEach) {
  expect_rewrites({
      {"select f.value from r, lateral flatten(input => r.recs) f",
       "select f.value from r, json_each(r.recs) f"},
      {"select * from table(flatten(input => parse_json('[1]')))",
       "select * from json_each(parse_json('[1]'))"},
      {"select * from flatten(r.x[0])", "select * from json_each(json_extract(r.x, '$[0]'))"},
  });
  const char* with_path = "select * from table(flatten(input => x, path => 'a'))";
  EXPECT_EQ(translate_snowflake(with_path).statements.at(0), with_path);
}

}  // namespace
}  // namespace reco::cli
