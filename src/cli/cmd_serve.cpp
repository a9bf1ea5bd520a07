// `reco serve`: the HTTP model server (serving/server.h) in the foreground until SIGTERM or
// SIGINT, which drain it: no new connections, in-flight requests finish, exit 0 within the
// drain timeout. A second signal during the drain ends the process at once.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cli/context.h"
#include "core/error.h"
#include "serving/server.h"
#include "serving/server_options.h"
#include "sqlfunctions/functions.h"
#include "tasks/runner.h"

namespace reco::cli {

namespace {

void run_serve(Context& ctx, serving::ServerOptions o, bool token_from_flag) {
  o.home = ctx.home();
  o.db_location = ctx.db_location();
  if (ctx.options.quiet) o.access_log = false;
  const bool verbose = !ctx.options.quiet;
  if (token_from_flag && verbose)
    fmt::print(stderr,
               "reco serve: warning: a --token on the command line is visible to other users "
               "of this machine (ps); prefer --token-file or RECO_TOKEN\n");

  // Signals are taken synchronously by this thread: block them before the server starts its
  // threads, which inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  serving::Server server(o);
  server.start();
  // Due tasks run here too (one run per scheduled time whatever the number of servers).
  tasks::TaskStore task_store(o.home);
  tasks::TaskRunner task_runner(task_store, o.db_location,
                                sqlfunctions::task_connection_preparer(o.home));
  std::mutex log_mutex;
  tasks::Scheduler scheduler(
      task_store, task_runner, [] { return static_cast<int64_t>(std::time(nullptr)); },
      [verbose, &log_mutex](const std::string& line) {
        if (!verbose) return;
        const std::lock_guard lock(log_mutex);
        fmt::print(stderr, "reco serve: {}\n", line);
      });
  if (o.task_interval.count() > 0) scheduler.start(o.task_interval);
  fmt::print("{}\n", server.url());  // stdout: the address alone, for scripts (--port 0)
  std::fflush(stdout);
  if (verbose) {
    fmt::print(stderr,
               "reco serve: listening on {} ({}; {} workers, queue {}, bodies up to {} bytes, "
               "{})\n",
               server.url(),
               o.model_uri ? "model " + *o.model_uri
                           : (o.default_endpoint ? "endpoints, default " + *o.default_endpoint
                                                 : std::string("endpoints")),
               o.threads ? o.threads : std::max(4u, 2 * std::thread::hardware_concurrency()),
               o.queue, o.max_body_bytes,
               o.token.empty() && o.token_file.empty() ? "no token" : "bearer token required");
  }

  int received = 0;
  bool model_announced = false;
  while (received == 0) {
    const timespec tick{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig > 0) {
      received = sig;
      break;
    }
    if (!server.running()) {
      server.stop();
      throw Error(ErrorKind::kIo, "the server stopped accepting connections (socket error)");
    }
    if (o.model_uri) {
      if (auto err = server.model_error()) {
        server.stop();
        throw Error(err->kind(), fmt::format("cannot serve {}: {}", *o.model_uri, err->what()));
      }
      if (!model_announced && server.model_ready()) {
        model_announced = true;
        if (verbose) fmt::print(stderr, "reco serve: model {} loaded\n", *o.model_uri);
      }
    }
  }
  if (verbose)
    fmt::print(stderr, "reco serve: {} received: draining (up to {:.0f} s)\n",
               received == SIGTERM ? "SIGTERM" : "SIGINT",
               std::chrono::duration<double>(o.drain_timeout).count());
  // A second signal now ends the process with the default action.
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  scheduler.stop(std::chrono::milliseconds(0),
                 fmt::format("the server stopped ({}) while the task was running",
                             received == SIGTERM ? "SIGTERM" : "SIGINT"));
  if (server.stop()) {
    if (verbose) fmt::print(stderr, "reco serve: stopped\n");
    return;
  }
  // A training job is still running and cannot be interrupted: leave now, without running
  // destructors under its feet. Its record reads Failed once this process is gone.
  if (verbose)
    fmt::print(stderr,
               "reco serve: stopped; a training job was still running and is abandoned (its "
               "record will read Failed)\n");
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace

void register_serve(Command& app, Context& ctx) {
  auto given = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
  Command cmd = app.add_subcommand(
      "serve",
      "Serve models over HTTP: the inference protocol (GET /ping, POST /invocations), named "
      "endpoints (/endpoints/{name}/invocations), the warehouse's external functions (POST "
      "/train, /deploy, /invoke), jobs (/jobs), endpoint rollback and history "
      "(/endpoints/{name}/rollback, /history) and Prometheus metrics (/metrics); runs due tasks "
      "(reco tasks).");
  // One flag per setting (serving/server_options.h).
  cmd.table_flags(serving::server_option_table(), given);
  auto markdown = std::make_shared<bool>(false);
  cmd.flag("--markdown", *markdown, "With --list-settings: a Markdown table, as in README.md");
  cmd.flag_callback(
      "--list-settings",
      [markdown] {
        fmt::print("{}", *markdown ? serving::server_options_markdown()
                                   : options_help(serving::server_option_table(), "  ", "setting"));
        std::fflush(stdout);
        throw EarlyExit{};
      },
      "List every setting with its flag, default and range, then exit");
  cmd.footer(
      "Examples:\n"
      "  reco serve                                   # every deployed endpoint on 127.0.0.1:8080\n"
      "  reco serve --model models:/ratings --port 8080   # one model, SageMaker-style container\n"
      "  RECO_TOKEN=$(cat token) reco serve --host 0.0.0.0\n"
      "Requests and answers: see `reco serve` in README.md. SIGTERM drains and exits 0.");
  cmd.callback([given, &ctx] {
    serving::ServerOptions o;
    serving::apply_server_settings(o, *given);
    const char* env = std::getenv("RECO_TOKEN");
    const bool from_flag = std::any_of(given->begin(), given->end(), [&](const auto& g) {
      return g.first == "token" && (env == nullptr || g.second != env);
    });
    run_serve(ctx, std::move(o), from_flag);
  });
}

}  // namespace reco::cli
