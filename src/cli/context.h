#pragma once
// State shared by all subcommands: the global flags and lazily opened resources.

#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/run.h"
#include "core/home.h"
#include "storage/warehouse.h"

namespace reco::cli {

struct GlobalOptions {
  std::optional<std::string> home;  // --home
  std::optional<std::string> db;    // --db (default: <home>/warehouse.db)
  bool quiet = false;               // --quiet: no progress or logs on stderr
  bool create = false;              // --create: make a missing --home / $RECO_HOME
};

class Context {
 public:
  GlobalOptions options;
  int exit_code = 0;  // a command that finishes with a non-zero status sets this

  // Resolved on first use. A missing explicit home (--home, $RECO_HOME) is an error naming it
  // unless --create; the default home is created, and that is said on stderr.
  const Home& home();
  storage::Warehouse& warehouse();  // opened on first use
  std::string db_location();        // the --db value, or the home's warehouse file
  bool progress_enabled() const;    // stderr is a terminal and not --quiet

 private:
  void recover();  // training/recovery.h, reported on stderr

  std::optional<Home> home_;
  std::unique_ptr<storage::Warehouse> warehouse_;
};

// Each subcommand lives in its own file and registers itself here. The callback runs the
// command; errors propagate as reco::Error and are reported by run().
void register_init(Command& app, Context& ctx);
void register_load(Command& app, Context& ctx);
void register_fetch(Command& app, Context& ctx);
void register_generate(Command& app, Context& ctx);
void register_sql(Command& app, Context& ctx);
void register_train(Command& app, Context& ctx);
void register_evaluate(Command& app, Context& ctx);
void register_tune(Command& app, Context& ctx);
void register_models(Command& app, Context& ctx);
void register_recommend(Command& app, Context& ctx);
void register_predict(Command& app, Context& ctx);
void register_serve(Command& app, Context& ctx);
void register_endpoints(Command& app, Context& ctx);
void register_jobs(Command& app, Context& ctx);
void register_tasks(Command& app, Context& ctx);

}  // namespace reco::cli
