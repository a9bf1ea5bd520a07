#pragma once
// reco's SQL functions, registered on a SQLite connection (by `reco sql` and by the loadable
// extension). They run on the caller's connection, so they see its tables and transaction.
//
//   train_and_get_recommendations(input_table, output_table [, options_json])  -> JSON object
//   (more are added by later work: deploy_model, invoke_model, recommend, ...)

#include <sqlite3.h>

#include <functional>
#include <string>

#include "core/home.h"

namespace reco::sqlfunctions {

struct FunctionEnvironment {
  Home home;           // where model artifacts and job records go
  bool log_to_stderr;  // print training logs (CV table, progress) on stderr
};

// Registers every reco SQL function on db. Returns SQLITE_OK or an SQLite error code.
int register_all(sqlite3* db, const FunctionEnvironment& env);

}  // namespace reco::sqlfunctions
