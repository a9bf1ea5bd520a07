// `reco init [--home DIR]`: creates a reco home (the folder and its empty warehouse).

#include <cstdio>

#include <fmt/format.h>

#include "cli/context.h"

namespace reco::cli {

void register_init(Command& app, Context& ctx) {
  Command cmd = app.add_subcommand(
      "init",
      "Create a reco home: the --home folder (else RECO_HOME, else ~/.local/share/reco) and its "
      "warehouse. Prints the home's path. Nothing changes when it exists already");
  cmd.footer(
      "Other commands refuse a --home or RECO_HOME folder that does not exist (a typo would "
      "otherwise start an empty warehouse); `reco init` or the --create flag makes it.\n");
  cmd.callback([&ctx] {
    ctx.options.create = true;
    const bool existed = Home::resolve(ctx.options.home).exists();
    const Home& home = ctx.home();
    const std::string warehouse = ctx.warehouse().location();
    // Creating the default home is said by Context::home() already.
    if (!ctx.options.quiet && (existed || home.is_explicit())) {
      fmt::print(stderr, "reco: {} {} (warehouse {})\n",
                 existed ? "the home is already there:" : "created the home", home.root().string(),
                 warehouse);
    }
    fmt::print("{}\n", home.root().string());
  });
}

}  // namespace reco::cli
