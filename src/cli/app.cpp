#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/context.h"
#include "core/error.h"
#include "core/version.h"
#include "training/recovery.h"

namespace reco::cli {

const Home& Context::home() {
  if (!home_) {
    Home home = Home::resolve(options.home);
    if (home.prepare(options.create) && !home.is_explicit() && !options.quiet) {
      fmt::print(stderr,
                 "reco: created the default home {} (--home DIR or RECO_HOME picks another)\n",
                 home.root().string());
    }
    home_ = std::move(home);
    recover();
  }
  return *home_;
}

// What a killed process left is settled before the command looks at the home.
void Context::recover() {
  training::RecoveryReport r;
  try {
    r = training::recover_home(*home_);
  } catch (const std::exception& e) {
    r.notes.push_back(e.what());
  }
  if (options.quiet || r.empty()) return;
  std::vector<std::string> done;
  if (r.versions_committed)
    done.push_back(fmt::format("completed {} model version(s)", r.versions_committed));
  if (r.versions_removed)
    done.push_back(fmt::format("removed {} unfinished model version(s)", r.versions_removed));
  if (r.jobs_settled) done.push_back(fmt::format("settled {} interrupted job(s)", r.jobs_settled));
  if (r.temp_files_removed)
    done.push_back(fmt::format("removed {} temporary file(s)", r.temp_files_removed));
  std::string text;
  for (const auto& d : done) text += (text.empty() ? "" : ", ") + d;
  if (!text.empty()) {
    fmt::print(stderr, "reco: recovered {} after an interrupted run: {}\n", home_->root().string(),
               text);
  }
  for (const auto& note : r.notes) fmt::print(stderr, "reco: recovery: {}\n", note);
}

std::string Context::db_location() {
  if (options.db && !options.db->empty()) return *options.db;
  return home().warehouse_path().string();
}

storage::Warehouse& Context::warehouse() {
  if (!warehouse_) warehouse_ = storage::open_warehouse(db_location());
  return *warehouse_;
}

bool Context::progress_enabled() const {
  return !options.quiet && ::isatty(STDERR_FILENO);
}

int run(int argc, char** argv) {
  Context ctx;
  const auto define = [&ctx](Command& app) {
    app.option("--home", ctx.options.home,
               "Home directory for the warehouse, models and jobs (default: $RECO_HOME, else "
               "~/.local/share/reco, created on first use); it must exist unless --create is "
               "given (`reco init` makes one)")
        .env("RECO_HOME");
    app.option("--db", ctx.options.db,
               "Warehouse database: a SQLite file (default: <home>/warehouse.db), or PostgreSQL: "
               "postgresql://HOST[:PORT]/DB or \"host=... dbname=...\" (the password from "
               "PGPASSWORD, ~/.pgpass or a service file)")
        .env("RECO_DB");
    app.flag("--create", ctx.options.create,
             "Create the --home / RECO_HOME folder when it does not exist (else an error)");
    app.flag("-q,--quiet", ctx.options.quiet, "No progress or log output on stderr");
    register_init(app, ctx);
    register_load(app, ctx);
    register_fetch(app, ctx);
    register_generate(app, ctx);
    register_sql(app, ctx);
    register_train(app, ctx);
    register_evaluate(app, ctx);
    register_tune(app, ctx);
    register_models(app, ctx);
    register_recommend(app, ctx);
    register_predict(app, ctx);
    register_serve(app, ctx);
    register_endpoints(app, ctx);
    register_jobs(app, ctx);
    register_tasks(app, ctx);
  };
  try {
    return parse_and_run(
        argc, argv, "reco",
        "reco: a recommendation engine. Load ratings into a SQL warehouse, train models from SQL "
        "or the command line, and serve predictions.",
        std::string("reco ") + version(), define, [&ctx] { return ctx.exit_code; });
  } catch (const Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "reco: error: {}\n", e.what());
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "reco: internal error: {}\n", e.what());
    return 70;
  }
}

}  // namespace reco::cli
