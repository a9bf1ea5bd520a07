#pragma once
// Helpers shared by the SQL function implementations (internal to this module).

#include <sqlite3.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "sqlfunctions/functions.h"

namespace reco::sqlfunctions {

// Text of argument k, or nullopt for SQL NULL.
std::optional<std::string> text_arg(sqlite3_value** argv, int k);
// Argument k as an id: INTEGER, an integral REAL or text such as "10" / "10.0". nullopt for
// NULL; throws Error(kUsage) naming the function and the parameter for anything else.
std::optional<int64_t> id_arg(sqlite3_value** argv, int k, const char* function,
                              const char* parameter);
void result_error(sqlite3_context* ctx, const char* function, const std::exception& e);
void result_json(sqlite3_context* ctx, const std::string& text);
const FunctionEnvironment& environment(sqlite3_context* ctx);

// Implemented in model_functions.cpp.
void deploy_model(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void rollback_model(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void invoke_model(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void recommend(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void recommend_for(sqlite3_context* ctx, int argc, sqlite3_value** argv);
// Implemented in task_functions.cpp.
void create_task(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void drop_task(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void suspend_task(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void resume_task(sqlite3_context* ctx, int argc, sqlite3_value** argv);
void execute_task(sqlite3_context* ctx, int argc, sqlite3_value** argv);
// Implemented in json_functions.cpp.
void parse_json(sqlite3_context* ctx, int argc, sqlite3_value** argv);

}  // namespace reco::sqlfunctions
