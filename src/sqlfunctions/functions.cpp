#include "sqlfunctions/functions.h"

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "storage/sqlite_warehouse.h"
#include "training/train_job.h"

namespace reco::sqlfunctions {
namespace {

// Text of argument k, or nullopt for SQL NULL.
std::optional<std::string> text_arg(sqlite3_value** argv, int k) {
  if (sqlite3_value_type(argv[k]) == SQLITE_NULL) return std::nullopt;
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[k]));
  return std::string(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(argv[k])));
}

void result_error(sqlite3_context* ctx, const char* function, const std::exception& e) {
  const std::string msg = fmt::format("{}: {}", function, e.what());
  sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
}

void result_json(sqlite3_context* ctx, const std::string& text) {
  sqlite3_result_text(ctx, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// train_and_get_recommendations(input_table, output_table [, options_json])
void train_and_get_recommendations(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr const char* kName = "train_and_get_recommendations";
  const auto* env = static_cast<const FunctionEnvironment*>(sqlite3_user_data(ctx));
  try {
    const auto input = text_arg(argv, 0);
    const auto output = text_arg(argv, 1);
    if (!input || !output) {
      sqlite3_result_null(ctx);  // SQL convention: NULL in, NULL out
      return;
    }
    training::TrainRequest req;
    req.input_table = *input;
    req.output_table = *output;
    if (argc > 2) {
      if (auto options = text_arg(argv, 2)) training::apply_json_options(*options, req);
    }
    auto warehouse = storage::SqliteWarehouse::borrow(sqlite3_context_db_handle(ctx));
    training::LogSink log;
    if (env->log_to_stderr) {
      log = [](training::LogKind, const std::string& text) {
        std::fprintf(stderr, "%s\n", text.c_str());
      };
    }
    const auto result = training::run_training(*warehouse, env->home, req, log);
    result_json(ctx, result.summary.dump());
  } catch (const std::exception& e) {
    result_error(ctx, kName, e);
  }
}

void reco_version(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_text(ctx, "0.1.0", -1, SQLITE_STATIC);
}

}  // namespace

int register_all(sqlite3* db, const FunctionEnvironment& env) {
  struct Fn {
    const char* name;
    int nargs;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  const Fn fns[] = {
      {"train_and_get_recommendations", 2, train_and_get_recommendations},
      {"train_and_get_recommendations", 3, train_and_get_recommendations},
      {"reco_version", 0, reco_version},
  };
  for (const Fn& f : fns) {
    // Each registration owns a copy of the environment; SQLite frees it (even when registration
    // fails) when the function is replaced or the connection closes.
    auto* owned = new FunctionEnvironment(env);
    const int rc =
        sqlite3_create_function_v2(db, f.name, f.nargs, SQLITE_UTF8, owned, f.fn, nullptr, nullptr,
                                   [](void* p) { delete static_cast<FunctionEnvironment*>(p); });
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace reco::sqlfunctions
