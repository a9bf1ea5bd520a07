// reco tasks: scheduled SQL (create_task and friends from the command line) and its runs.
#include <ctime>

#include <fmt/format.h>

#include "cli/context.h"
#include "cli/table_format.h"
#include "core/error.h"
#include "core/json.h"
#include "sqlfunctions/functions.h"
#include "tasks/runner.h"

namespace reco::cli {
namespace {

int64_t now() {
  return static_cast<int64_t>(std::time(nullptr));
}

std::string next_run(const tasks::Task& t) {
  if (t.suspended) return "(suspended)";
  const int64_t next = tasks::Schedule::parse(t.schedule).next_after(t.last_scheduled, t.anchor);
  return next < 0 ? "never" : tasks::utc_text(next);
}

nlohmann::json task_json(const tasks::Task& t) {
  nlohmann::json j = t.to_json();
  j["next_run"] = next_run(t);
  return j;
}

void print_task(const tasks::Task& t) {
  TextTable table({"field", "value"});
  table.add({"task", t.name});
  table.add({"state", t.suspended ? "Suspended" : "Started"});
  table.add({"schedule", t.schedule});
  table.add({"when_changed", t.when_changed.empty() ? "(always)" : t.when_changed});
  table.add({"next run", next_run(t)});
  table.add({"created", t.created_at});
  table.add({"sql", t.sql});
  fmt::print("{}", table.render());
}

void print_runs(const std::vector<tasks::Run>& runs) {
  TextTable table({"run", "state", "trigger", "scheduled", "started", "finished", "jobs", "error"});
  for (const auto& r : runs) {
    std::string jobs;
    for (const auto& j : r.jobs) jobs += (jobs.empty() ? "" : " ") + j;
    table.add({r.id, tasks::to_string(r.state), r.trigger,
               r.scheduled ? tasks::utc_text(r.scheduled) : "", r.started_at, r.finished_at, jobs,
               r.error});
  }
  fmt::print("{}", table.render());
}

}  // namespace

void register_tasks(Command& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  Command cmd = app.add_subcommand(
      "tasks", "Scheduled SQL: create, list, show, run, suspend, resume and drop tasks");
  cmd.flag("--json", *json, "Print JSON instead of a table");
  cmd.footer(
      "Without a subcommand, lists the tasks. `reco serve` runs them on schedule (one run per "
      "scheduled time, whatever the number of servers on the home).\n"
      "Examples:\n"
      "  reco tasks create retrain --schedule '60 MINUTE' --when-changed ratings \\\n"
      "      --sql \"select deploy_model('ep', json_extract(train_and_get_recommendations("
      "'ratings', 'recs'), '$.artifact_uri'), '{\\\"promote_if\\\": \\\"rmse\\\"}')\"\n"
      "  reco tasks create nightly --schedule '0 3 * * * Europe/Paris' --sql 'delete from log'\n"
      "  reco tasks run retrain\n"
      "  reco tasks history retrain");
  cmd.callback([cmd, json, &ctx] {
    if (cmd.subcommand_given()) return;
    const auto all = tasks::TaskStore(ctx.home()).list();
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : all) out.push_back(task_json(t));
      fmt::print("{}\n", json_text(out, 2));
      return;
    }
    TextTable table({"task", "state", "schedule", "when_changed", "next run"});
    for (const auto& t : all)
      table.add(
          {t.name, t.suspended ? "Suspended" : "Started", t.schedule, t.when_changed, next_run(t)});
    fmt::print("{}", table.render());
    if (all.empty())
      fmt::print("(no tasks: create one with `reco tasks create NAME --schedule S --sql SQL`)\n");
  });

  auto name = std::make_shared<std::string>();
  auto schedule = std::make_shared<std::string>();
  auto sql = std::make_shared<std::string>();
  auto when_changed = std::make_shared<std::string>();
  auto replace = std::make_shared<bool>(false);
  Command create = cmd.add_subcommand("create", "Create (or --replace) a task");
  create.option("name", *name, "Task name").required();
  create
      .option("-s,--schedule", *schedule,
              "A 5-field cron expression, optionally followed by a time zone ('0 3 * * * "
              "Europe/Paris'; UTC otherwise), or an interval ('60 MINUTE', '1 DAY')")
      .required();
  create.option("--sql", *sql, "The SQL to run (SQLite SQL with reco's functions)").required();
  create.option("--when-changed", *when_changed,
                "Run only when this table's contents changed since the last successful run");
  create.flag("--replace", *replace, "Replace a task of the same name");
  create.callback([name, schedule, sql, when_changed, replace, json, &ctx] {
    tasks::Task t;
    t.name = *name;
    t.schedule = *schedule;
    t.sql = *sql;
    t.when_changed = *when_changed;
    const auto created = tasks::TaskStore(ctx.home()).create(t, now(), *replace);
    if (*json) return fmt::print("{}\n", json_text(task_json(created), 2));
    fmt::print("created task {} (next run {})\n", created.name, next_run(created));
  });

  Command show = cmd.add_subcommand("show", "Show a task");
  show.option("name", *name, "Task name").required();
  show.callback([name, json, &ctx] {
    const auto t = tasks::TaskStore(ctx.home()).get(*name);
    if (*json) return fmt::print("{}\n", json_text(task_json(t), 2));
    print_task(t);
  });

  Command history = cmd.add_subcommand("history", "Show a task's runs, oldest first");
  history.option("name", *name, "Task name").required();
  history.callback([name, json, &ctx] {
    tasks::TaskStore store(ctx.home());
    const auto runs = store.runs(*name);
    if (runs.empty() && !store.find(*name)) store.get(*name);  // throws naming the tasks
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : runs) out.push_back(r.to_json());
      return fmt::print("{}\n", json_text(out, 2));
    }
    print_runs(runs);
  });

  Command run = cmd.add_subcommand(
      "run", "Run a task now, in this process (its when_changed condition still applies)");
  run.option("name", *name, "Task name").required();
  run.callback([name, json, &ctx] {
    tasks::TaskStore store(ctx.home());
    const auto task = store.get(*name);
    tasks::TaskRunner runner(store, ctx.db_location(),
                             sqlfunctions::task_connection_preparer(ctx.home()));
    const tasks::Run r = runner.run(task, 0, "cli");
    if (*json) {
      fmt::print("{}\n", json_text(r.to_json(), 2));
    } else {
      print_runs({r});
    }
    if (r.state == tasks::RunState::kFailed) ctx.exit_code = 1;  // like a failed SQL statement
  });

  Command drop = cmd.add_subcommand("drop", "Drop a task (its run history stays)");
  drop.option("name", *name, "Task name").required();
  drop.callback([name, &ctx] {
    tasks::TaskStore store(ctx.home());
    if (!store.drop(*name)) store.get(*name);
    fmt::print("dropped task {}\n", *name);
  });

  for (const bool suspend : {true, false}) {
    Command c = cmd.add_subcommand(
        suspend ? "suspend" : "resume",
        suspend ? "Stop scheduling a task" : "Schedule a suspended task again, from now");
    c.option("name", *name, "Task name").required();
    c.callback([name, json, suspend, &ctx] {
      const auto t = tasks::TaskStore(ctx.home()).set_suspended(*name, suspend, now());
      if (*json) return fmt::print("{}\n", json_text(task_json(t), 2));
      fmt::print("{} task {} (next run {})\n", suspend ? "suspended" : "resumed", t.name,
                 next_run(t));
    });
  }
}

}  // namespace reco::cli
