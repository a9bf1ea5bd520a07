// create_task, drop_task, suspend_task, resume_task and execute_task: Snowflake-style tasks on
// the embedded warehouse (tasks/task_store.h). `reco serve` runs them on schedule;
// execute_task runs one now, in the calling process, on its own connection to the caller's
// database file.
#include <ctime>

#include <fmt/format.h>

#include "core/error.h"
#include "core/json.h"
#include "sqlfunctions/function_support.h"
#include "tasks/runner.h"

namespace reco::sqlfunctions {
using nlohmann::json;

namespace {

std::string required(sqlite3_value** argv, int k, const char* parameter) {
  const auto text = text_arg(argv, k);
  if (text && !text->empty()) return *text;
  throw Error(ErrorKind::kUsage, std::string(parameter) + " is empty");
}

int64_t now() {
  return static_cast<int64_t>(std::time(nullptr));
}

// The function body for one task name: NULL gives NULL, errors are SQL errors.
template <typename F>
void with_task(sqlite3_context* ctx, sqlite3_value** argv, const char* function, F&& f) {
  try {
    if (!text_arg(argv, 0)) return sqlite3_result_null(ctx);
    const auto& env = environment(ctx);
    tasks::TaskStore store(env.home);
    result_json(ctx, json_text(f(store, required(argv, 0, "name"))));
  } catch (const std::exception& e) {
    result_error(ctx, function, e);
  }
}

}  // namespace

// create_task(name, schedule, sql [, options_json])
void create_task(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  try {
    for (int k = 0; k < 3; ++k)
      if (!text_arg(argv, k)) return sqlite3_result_null(ctx);
    const auto options = argc > 3 ? text_arg(argv, 3) : std::nullopt;
    const tasks::TaskOptions o = tasks::parse_task_options(options.value_or(""));
    tasks::Task t;
    t.name = required(argv, 0, "name");
    t.schedule = required(argv, 1, "schedule");
    t.sql = *text_arg(argv, 2);
    t.when_changed = o.when_changed;
    tasks::TaskStore store(environment(ctx).home);
    result_json(ctx, json_text(store.create(t, now(), o.replace).to_json()));
  } catch (const std::exception& e) {
    result_error(ctx, "create_task", e);
  }
}

void drop_task(sqlite3_context* ctx, int, sqlite3_value** argv) {
  with_task(ctx, argv, "drop_task", [](tasks::TaskStore& store, const std::string& name) {
    if (!store.drop(name)) store.get(name);  // throws Error(kNotFound) naming the tasks
    return json{{"task", name}, {"dropped", true}};
  });
}

void suspend_task(sqlite3_context* ctx, int, sqlite3_value** argv) {
  with_task(ctx, argv, "suspend_task", [](tasks::TaskStore& store, const std::string& name) {
    return store.set_suspended(name, true, now()).to_json();
  });
}

void resume_task(sqlite3_context* ctx, int, sqlite3_value** argv) {
  with_task(ctx, argv, "resume_task", [](tasks::TaskStore& store, const std::string& name) {
    return store.set_suspended(name, false, now()).to_json();
  });
}

// execute_task(name): runs the task now on a connection of its own to the caller's database
// file, and returns the run's record.
void execute_task(sqlite3_context* ctx, int, sqlite3_value** argv) {
  with_task(ctx, argv, "execute_task", [ctx](tasks::TaskStore& store, const std::string& name) {
    const tasks::Task task = store.get(name);
    const char* file = sqlite3_db_filename(sqlite3_context_db_handle(ctx), "main");
    if (!file || !*file)
      throw Error(ErrorKind::kUsage,
                  "execute_task needs a warehouse in a file (the task runs on its own "
                  "connection to it), not an in-memory database");
    tasks::TaskRunner runner(store, file, task_connection_preparer(environment(ctx).home));
    return runner.run(task, 0, "sql").to_json();
  });
}

}  // namespace reco::sqlfunctions
