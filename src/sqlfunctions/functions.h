#pragma once
// reco's SQL functions, registered on a SQLite connection (by `reco sql` and by the loadable
// extension). They run on the caller's connection, so they see its tables and transaction.
//
//   train_and_get_recommendations(input_table, output_table [, options_json])  -> JSON object
//   deploy_model(endpoint_name, model_url [, options]) -> JSON object describing the endpoint
//   rollback_model(endpoint_name [, version])         -> JSON object describing the endpoint
//   create_task(name, schedule, sql [, options]), drop_task(name), suspend_task(name),
//   resume_task(name), execute_task(name)             -> JSON objects (task_functions.cpp)
//   invoke_model(endpoint_name, user_id, item_id)     -> predicted rating (REAL)
//   recommend(endpoint_name, user_id [, k])           -> JSON array of the k best item ids
//   recommend_for(endpoint_name, ratings_json [, k])  -> JSON object: a new user's top-k (fold-in)
//   parse_json(text)                                  -> the JSON text, checked and marked JSON
//   reco_version()                                    -> text
// NULL in any argument gives NULL (SQL convention). deploy_model records the endpoint in the
// home, where `reco serve` and every other process find it; invoke_model and recommend answer
// in-process from the endpoint's model, loaded once and reloaded when the endpoint changes.

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/home.h"
#include "tasks/runner.h"

namespace reco::deployment {
class EndpointStore;
class LiveModels;
}  // namespace reco::deployment

namespace reco::sqlfunctions {

// The subtype SQLite's JSON functions give JSON text results (json1's JSON_SUBTYPE); reco's
// functions that return JSON set it too, so json_extract() and `reco sql` treat it as JSON.
inline constexpr unsigned kJsonSubtype = 'J';

struct FunctionEnvironment {
  Home home;           // where model artifacts and job records go
  bool log_to_stderr;  // print training logs (CV table, progress) on stderr
  // The endpoints and their loaded models; register_all creates them when null. Shared by every
  // function registered from this environment.
  std::shared_ptr<deployment::EndpointStore> endpoints;
  std::shared_ptr<deployment::LiveModels> live_models;
  // Recorded in endpoint histories as what deployed or rolled back: "sql", or "task:NAME" when
  // a task's SQL runs.
  std::string cause = "sql";
  // Called with the id of every training job a function starts (a task's run lists them).
  std::function<void(const std::string& job_id)> on_job = nullptr;
};

// Registers every reco SQL function on db. Returns SQLITE_OK or an SQLite error code.
int register_all(sqlite3* db, const FunctionEnvironment& env);

// What `show functions` and `describe function NAME` list: one entry per function (its arities
// are min_args..max_args), from the same table register_all registers.
struct FunctionInfo {
  const char* name;
  int min_args;
  int max_args;
  const char* signature;  // name(arg, ... [, optional])
  const char* returns;    // SQL type of the result, and what it holds
  const char* description;
};
const std::vector<FunctionInfo>& function_catalog();

// How a task's connection gets reco's functions (tasks/runner.h): registered with the task's
// cause and job callback, and the same home.
tasks::PrepareConnection task_connection_preparer(const Home& home);

}  // namespace reco::sqlfunctions
