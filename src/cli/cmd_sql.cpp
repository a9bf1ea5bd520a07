// `reco sql`: a SQL shell on the warehouse with reco's SQL functions registered.

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/context.h"
#include "cli/sql_shell.h"
#include "core/error.h"
#include "sqlfunctions/functions.h"
#include "storage/postgres_warehouse.h"
#include "storage/sqlite_warehouse.h"

namespace reco::cli {

namespace {

struct SqlOptions {
  std::vector<std::string> commands;  // -c, in order
  std::string file;                   // FILE or "-"
  std::string mode = "table";
  std::string headers = "on";
  bool echo = false;
  bool bail = false;
};

void run_sql(Context& ctx, const SqlOptions& opts) {
  storage::Warehouse& warehouse = ctx.warehouse();
  auto* sqlite = dynamic_cast<storage::SqliteWarehouse*>(&warehouse);
  ShellSettings settings;
  settings.mode = *parse_output_mode(opts.mode);  // validated by CLI11
  settings.headers = opts.headers == "on";
  settings.echo = opts.echo;
  settings.bail = opts.bail;
  std::string banner;
  std::unique_ptr<SqlShell> shell_owner;
  if (sqlite) {
    sqlite3* db = sqlite->handle();
    const int rc = sqlfunctions::register_all(
        db, sqlfunctions::FunctionEnvironment{ctx.home(), !ctx.options.quiet, nullptr, nullptr});
    if (rc != SQLITE_OK) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("cannot register reco's SQL functions on {}: {}",
                              warehouse.location(), sqlite3_errstr(rc)));
    }
    shell_owner = std::make_unique<SqlShell>(db, settings, stdout, stderr);
    banner = fmt::format("SQLite {}", sqlite3_libversion());
  } else {
    // A warehouse server: its SQL dialect, and reco's functions from its extension there.
    shell_owner = std::make_unique<SqlShell>(warehouse, settings, stdout, stderr);
    auto* postgres = dynamic_cast<storage::PostgresWarehouse*>(&warehouse);
    banner = postgres ? fmt::format("PostgreSQL {}", postgres->server_version())
                      : warehouse.backend_name();
  }
  SqlShell& shell = *shell_owner;

  bool keep_going = true;
  for (std::size_t i = 0; i < opts.commands.size() && keep_going; ++i) {
    keep_going = shell.run_command_string(opts.commands[i], i + 1);
  }
  if (keep_going && !opts.file.empty()) {
    shell.run_file(opts.file);
  } else if (keep_going && opts.commands.empty()) {
    if (::isatty(STDIN_FILENO)) {
      shell.run_interactive(
          ctx.home().root() / ".sql_history",
          fmt::format("reco sql: {} warehouse {}\n"
                      "Statements end with ';'. Enter .help for commands, .quit or Ctrl-D to "
                      "leave.\n",
                      banner, warehouse.location()));
    } else {
      shell.run_stream(stdin, "stdin");
    }
  }
  std::fflush(stdout);
  ctx.exit_code = shell.exit_code();
}

}  // namespace

void register_sql(Command& app, Context& ctx) {
  auto opts = std::make_shared<SqlOptions>();
  Command cmd = app.add_subcommand(
      "sql",
      "Run SQL on the warehouse, with reco's SQL functions: -c strings, then FILE ('-' for "
      "stdin), else an interactive prompt (or stdin when it is not a terminal)");
  cmd.option("-c,--command", opts->commands,
             "SQL (and dot-commands) to run; repeatable, run in order; stops at the first "
             "error")
      .expected(1)
      .no_extra_args()  // `-c SQL FILE`: FILE is the script, not a second -c
      .take_all();
  cmd.option("file", opts->file, "SQL script to run after the -c strings ('-' reads stdin)");
  cmd.option("--mode", opts->mode, "Output mode: table, csv, json or line")
      .choices({"table", "csv", "json", "line"})
      .show_default();
  cmd.option("--headers", opts->headers, "Column names in table and csv output: on or off")
      .choices({"on", "off"})
      .show_default();
  cmd.flag("--echo", opts->echo, "Print each statement before its output");
  cmd.flag("--bail", opts->bail, "Stop at the first error");
  cmd.callback([&ctx, opts] { run_sql(ctx, *opts); });
}

}  // namespace reco::cli
