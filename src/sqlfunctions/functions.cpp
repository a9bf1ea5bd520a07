#include "sqlfunctions/functions.h"
#include "core/json.h"
#include "core/version.h"

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "core/identifiers.h"
#include "core/ids.h"
#include "deployment/live_models.h"
#include "sqlfunctions/function_support.h"
#include "storage/sqlite_warehouse.h"
#include "training/jobs.h"

namespace reco::sqlfunctions {

std::optional<std::string> text_arg(sqlite3_value** argv, int k) {
  if (sqlite3_value_type(argv[k]) == SQLITE_NULL) return std::nullopt;
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[k]));
  return std::string(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(argv[k])));
}

std::optional<int64_t> id_arg(sqlite3_value** argv, int k, const char* function,
                              const char* parameter) {
  std::optional<int64_t> id;
  switch (sqlite3_value_type(argv[k])) {
    case SQLITE_NULL:
      return std::nullopt;
    case SQLITE_INTEGER:
      return sqlite3_value_int64(argv[k]);
    case SQLITE_FLOAT:
      id = id_from_double(sqlite3_value_double(argv[k]));
      break;
    default:
      id = id_from_text(*text_arg(argv, k));
  }
  if (id) return id;
  const std::string shown = *text_arg(argv, k);
  throw Error(ErrorKind::kUsage,
              fmt::format("{}: {} must be an integer id (10, 10.0, '10' or '10.0'), got '{}'",
                          function, parameter, shown.substr(0, 100)));
}

void result_error(sqlite3_context* ctx, const char* function, const std::exception& e) {
  // Messages from id_arg already start with the function name.
  const std::string what = e.what();
  const std::string prefix = std::string(function) + ": ";
  const std::string msg = what.rfind(prefix, 0) == 0 ? what : prefix + what;
  sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
}

void result_json(sqlite3_context* ctx, const std::string& text) {
  sqlite3_result_text(ctx, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  sqlite3_result_subtype(ctx, kJsonSubtype);
}

const FunctionEnvironment& environment(sqlite3_context* ctx) {
  return *static_cast<const FunctionEnvironment*>(sqlite3_user_data(ctx));
}

namespace {

// Whether `text` names a table only the caller's connection can see: its temp schema, a
// database it attached, or an unqualified name its temp schema holds.
bool private_to_connection(sqlite3* db, const std::string& text, std::string_view what) {
  if (text.empty()) return false;
  const TableRef t = parse_table_name(text, what);
  if (t.schema) return sqlite3_stricmp(t.schema->c_str(), "main") != 0;
  auto temp = storage::SqliteWarehouse::borrow(db);
  return temp->table_exists(TableRef{std::string("temp"), t.table});
}

bool in_wal_mode(sqlite3* db) {
  const auto rs = storage::SqliteWarehouse::borrow(db)->query("PRAGMA main.journal_mode");
  const auto* mode = rs.rows.empty() ? nullptr : std::get_if<std::string>(&rs.rows[0][0]);
  return mode && sqlite3_stricmp(mode->c_str(), "wal") == 0;
}

// The connection a training job runs on. Its own connection to the same file when it can: the
// job then reads a fresh snapshot, holds none while it trains, and takes the write lock (BEGIN
// IMMEDIATE) only for the short final write, so it never fails on "database is locked" because
// another writer committed while it trained. The caller's connection when only that one can
// do the job: an in-memory database, a write transaction of the caller's (whose lock a second
// connection would wait for in vain), a rollback-journal database (where the caller's own
// statement keeps a second connection from committing), or a table only the caller can see
// (temp, attached).
std::unique_ptr<storage::SqliteWarehouse> job_warehouse(sqlite3* db,
                                                        const training::JobSpec& spec) {
  const char* file = sqlite3_db_filename(db, "main");
  const bool shareable = file && *file && storage::SqliteWarehouse::is_file_database(file) &&
                         sqlite3_txn_state(db, "main") != SQLITE_TXN_WRITE && in_wal_mode(db) &&
                         !private_to_connection(db, spec.input_table, "input table") &&
                         !private_to_connection(db, spec.output_table, "output table");
  if (shareable) return storage::SqliteWarehouse::open(file);
  return storage::SqliteWarehouse::borrow(db);
}

// Runs a training or evaluation job from a SQL function, recorded in the home's jobs, its log on
// stderr when the shell asks for it.
training::TrainResult run_job(sqlite3_context* ctx, training::TrainRequest req) {
  const FunctionEnvironment& env = environment(ctx);
  auto warehouse = job_warehouse(sqlite3_context_db_handle(ctx), req.spec);
  training::LogSink log;
  if (env.log_to_stderr) {
    log = [](training::LogKind, const std::string& text) {
      std::fprintf(stderr, "%s\n", text.c_str());
    };
  }
  training::JobStore jobs(env.home);
  training::JobRecord record = jobs.create(req.evaluate_only ? "evaluate" : "train",
                                           training::job_request_json(req.spec, env.cause));
  if (env.on_job) env.on_job(record.id);
  return training::run_recorded(*warehouse, env.home, jobs, record, std::move(req), log);
}

// train_and_get_recommendations(input_table, output_table [, options_json])
void train_and_get_recommendations(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr const char* kName = "train_and_get_recommendations";
  try {
    const auto input = text_arg(argv, 0);
    const auto output = text_arg(argv, 1);
    if (!input || !output) {
      sqlite3_result_null(ctx);  // SQL convention: NULL in, NULL out
      return;
    }
    const auto options = argc > 2 ? text_arg(argv, 2) : std::nullopt;
    training::TrainRequest req;
    req.spec = training::parse_job_options(*input, *output, options.value_or(""));
    result_json(ctx, run_job(ctx, std::move(req)).result_json());
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

// evaluate_model(input_table [, options_json]): the cross-validation of training, publishing
// nothing; returns the report (JSON object with per-fold metrics).
void evaluate_model(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr const char* kName = "evaluate_model";
  try {
    const auto input = text_arg(argv, 0);
    if (!input) {
      sqlite3_result_null(ctx);
      return;
    }
    const auto options = argc > 1 ? text_arg(argv, 1) : std::nullopt;
    training::TrainRequest req;
    req.spec = training::parse_job_options(*input, "", options.value_or(""));
    req.evaluate_only = true;
    result_json(ctx, run_job(ctx, std::move(req)).result_json());
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

void reco_version(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_text(ctx, version(), -1, SQLITE_STATIC);
}

using Implementation = void (*)(sqlite3_context*, int, sqlite3_value**);

struct Function {
  FunctionInfo info;
  Implementation fn;
};

const std::vector<Function>& functions() {
  static const std::vector<Function> table = {
      {{"train_and_get_recommendations", 2, 3,
        "train_and_get_recommendations(input_table, output_table [, options_json])",
        "text (JSON object: job, model, version, artifact_uri, rmse, mae, timings, counts)",
        "cross-validates, trains on the whole input table, writes every user's top-k to "
        "output_table and saves a new model version"},
       train_and_get_recommendations},
      {{"evaluate_model", 1, 2, "evaluate_model(input_table [, options_json])",
        "text (JSON object: rmse, mae, per-fold cv, timings)",
        "cross-validation only: publishes no model and writes no table"},
       evaluate_model},
      {{"deploy_model", 2, 3, "deploy_model(endpoint_name, model_url [, options_json])",
        "text (JSON object: name, model, version, artifact_uri, generation, status, promoted, "
        "reason)",
        "creates or updates an endpoint serving models:/NAME[/VERSION], a file:// URI or a path; "
        "options {\"promote_if\": {\"metric\": \"rmse\", \"margin\": 0.001}} deploy only a "
        "better model"},
       deploy_model},
      {{"rollback_model", 1, 2, "rollback_model(endpoint_name [, version])",
        "text (JSON object: name, model, version, generation, status, previous)",
        "puts the endpoint back on the version it served before (or on version N of its model)"},
       rollback_model},
      {{"invoke_model", 3, 3, "invoke_model(endpoint_name, user_id, item_id)",
        "real (predicted rating, clipped to the rating scale)",
        "one predicted rating from the endpoint's model, computed in-process"},
       invoke_model},
      {{"recommend", 2, 3, "recommend(endpoint_name, user_id [, k = 10])",
        "text (JSON array of item ids, best first)",
        "the k items the user has not rated with the highest predicted ratings"},
       recommend},
      {{"recommend_for", 2, 3, "recommend_for(endpoint_name, ratings_json [, k = 10])",
        "text (JSON object: recommendations [{rank, item, score, prediction}], used, ignored, "
        "fallback, note)",
        "top-k for a user the model has never seen, from their ratings ([[item, rating], ...] or "
        "{\"item\": rating}), without retraining (fold-in)"},
       recommend_for},
      {{"create_task", 3, 4, "create_task(name, schedule, sql [, options_json])",
        "text (JSON object: the task)",
        "schedules SQL: a cron expression ('0 3 * * * Europe/Paris') or an interval ('60 "
        "MINUTE'); options {\"when_changed\": \"TABLE\", \"replace\": true}; reco serve "
        "runs it"},
       create_task},
      {{"drop_task", 1, 1, "drop_task(name)", "text (JSON object: task, dropped)",
        "removes a task (its run history stays)"},
       drop_task},
      {{"suspend_task", 1, 1, "suspend_task(name)", "text (JSON object: the task)",
        "stops scheduling a task"},
       suspend_task},
      {{"resume_task", 1, 1, "resume_task(name)", "text (JSON object: the task)",
        "schedules a suspended task again, from now"},
       resume_task},
      {{"execute_task", 1, 1, "execute_task(name)",
        "text (JSON object: the run: state, error, jobs)",
        "runs a task now, in this process (its when_changed condition still applies)"},
       execute_task},
      {{"parse_json", 1, 1, "parse_json(text)", "text (JSON, as SQLite's json() writes it)",
        "checks JSON text (an error names the first mistake) and marks it as JSON, like "
        "Snowflake's PARSE_JSON"},
       parse_json},
      {{"reco_version", 0, 0, "reco_version()", "text", "the version of reco"}, reco_version},
  };
  return table;
}

}  // namespace

const std::vector<FunctionInfo>& function_catalog() {
  static const std::vector<FunctionInfo> catalog = [] {
    std::vector<FunctionInfo> out;
    for (const Function& f : functions()) out.push_back(f.info);
    return out;
  }();
  return catalog;
}

tasks::PrepareConnection task_connection_preparer(const Home& home) {
  return [home](sqlite3* db, const std::string& cause,
                std::function<void(const std::string&)> on_job) {
    FunctionEnvironment env{home, false, nullptr, nullptr, cause, std::move(on_job)};
    const int rc = register_all(db, env);
    if (rc != SQLITE_OK)
      throw Error(ErrorKind::kInternal,
                  fmt::format("cannot register reco's SQL functions: {}", sqlite3_errstr(rc)));
  };
}

int register_all(sqlite3* db, const FunctionEnvironment& env) {
  FunctionEnvironment shared = env;
  if (!shared.endpoints) shared.endpoints = std::make_shared<deployment::EndpointStore>(env.home);
  if (!shared.live_models)
    shared.live_models = std::make_shared<deployment::LiveModels>(*shared.endpoints);
  for (const Function& f : functions()) {
    for (int nargs = f.info.min_args; nargs <= f.info.max_args; ++nargs) {
      // Each registration owns a copy of the environment; SQLite frees it (even when
      // registration fails) when the function is replaced or the connection closes.
      auto* owned = new FunctionEnvironment(shared);
      const int rc = sqlite3_create_function_v2(
          db, f.info.name, nargs, SQLITE_UTF8, owned, f.fn, nullptr, nullptr,
          [](void* p) { delete static_cast<FunctionEnvironment*>(p); });
      if (rc != SQLITE_OK) return rc;
    }
  }
  return SQLITE_OK;
}

}  // namespace reco::sqlfunctions
