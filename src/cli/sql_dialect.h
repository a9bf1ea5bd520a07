#pragma once
// Translation of the Snowflake statements the guide uses into SQLite, so its SQL runs unchanged
// in `reco sql`:
//   CREATE OR REPLACE TABLE t ...        -> DROP TABLE IF EXISTS t; CREATE TABLE t ...
//   CREATE TABLE t AS (SELECT ...)       -> CREATE TABLE t AS SELECT ...
//   USE ROLE|WAREHOUSE|DATABASE|SCHEMA x -> nothing (reco has one warehouse and one schema)
//   SHOW [EXTERNAL|USER] FUNCTIONS [LIKE 'p'] -> a query listing reco's SQL functions
//   DESCRIBE|DESC FUNCTION name[(types)]   -> the same for one function (an error if unknown)
//   CREATE [OR REPLACE] TASK n [WAREHOUSE = w] SCHEDULE = 's' AS sql -> create_task (suspended)
//   ALTER TASK n RESUME|SUSPEND, EXECUTE TASK n, DROP TASK n -> resume_task, ..., drop_task
// Statements that set up what reco has built in (CREATE [OR REPLACE] WAREHOUSE / DATABASE /
// SCHEMA / API INTEGRATION / [SECURE] EXTERNAL FUNCTION, GRANT, REVOKE, DESCRIBE INTEGRATION)
// run nothing and get a one-line note saying what reco does instead.
// Element access on semi-structured values, anywhere in a statement (written without spaces,
// as in Snowflake):
//   X[0], X['key'], X:key.sub[1]           -> json_extract(X, '$[0]'), ...('$."key"'), ...
//                                              (AS "X[0]" for a whole select-list item)
//   [LATERAL] FLATTEN(INPUT => X), TABLE(FLATTEN(INPUT => X)) -> json_each(X)
// Anything else is passed through untouched. The stock sqlite3 shell cannot be taught these
// (an extension cannot change SQLite's grammar), so there the guide's two CREATE forms must be
// written the SQLite way.

#include <string>
#include <string_view>
#include <vector>

namespace reco::cli {

struct Translation {
  std::vector<std::string> statements;  // to run in order; empty for an ignored statement
  std::string note;                     // why it was changed, for stderr; empty if unchanged
  std::string error;                    // non-empty: the statement fails with this message
};

Translation translate_snowflake(std::string_view statement);

}  // namespace reco::cli
