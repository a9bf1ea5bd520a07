#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "cli/context.h"
#include "core/error.h"
#include "core/version.h"

namespace reco::cli {

const Home& Context::home() {
  if (!home_) {
    home_ = Home::resolve(options.home);
    home_->create();
  }
  return *home_;
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
               "~/.local/share/reco)")
        .env("RECO_HOME");
    app.option("--db", ctx.options.db, "Warehouse database (default: <home>/warehouse.db)")
        .env("RECO_DB");
    app.flag("-q,--quiet", ctx.options.quiet, "No progress or log output on stderr");
    register_load(app, ctx);
    register_fetch(app, ctx);
    register_generate(app, ctx);
    register_sql(app, ctx);
    register_train(app, ctx);
    register_models(app, ctx);
    register_recommend(app, ctx);
    register_predict(app, ctx);
    register_serve(app, ctx);
    register_endpoints(app, ctx);
    register_jobs(app, ctx);
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
