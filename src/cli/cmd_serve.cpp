// `reco serve`: the HTTP model server (serving/server.h) in the foreground until SIGTERM or
// SIGINT, which drain it: no new connections, in-flight requests finish, exit 0 within the
// drain timeout. A second signal during the drain ends the process at once.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "cli/context.h"
#include "core/error.h"
#include "core/fs.h"
#include "serving/server.h"

namespace reco::cli {

namespace {

struct ServeArgs {
  serving::ServerOptions server;
  std::optional<std::string> model;
  std::optional<std::string> endpoint;
  std::string token;
  std::string token_file;
  double read_timeout = 5;
  double write_timeout = 10;
  double request_timeout = 30;
  double keep_alive_timeout = 5;
  double drain_timeout = 25;
  int refresh_ms = 250;
  bool no_access_log = false;
};

std::chrono::milliseconds seconds_option(double s, const char* name) {
  if (!(s > 0) || s > 86400)
    throw Error(ErrorKind::kUsage, fmt::format("{} must be between 0 and 86400 seconds", name));
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

std::string read_token_file(const std::string& path) {
  std::string text = read_file(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.empty()) throw Error(ErrorKind::kUsage, fmt::format("--token-file {} is empty", path));
  return text;
}

void run_serve(Context& ctx, ServeArgs& a, bool token_from_flag) {
  serving::ServerOptions o = a.server;
  o.home = ctx.home();
  o.db_location = ctx.db_location();
  o.model_uri = a.model;
  o.default_endpoint = a.endpoint;
  if (!a.token_file.empty()) {
    if (!a.token.empty())
      throw Error(ErrorKind::kUsage, "--token-file and --token/RECO_TOKEN are exclusive");
    o.token = read_token_file(a.token_file);
  } else {
    o.token = a.token;
  }
  o.read_timeout = seconds_option(a.read_timeout, "--read-timeout");
  o.write_timeout = seconds_option(a.write_timeout, "--write-timeout");
  o.request_timeout = seconds_option(a.request_timeout, "--request-timeout");
  o.keep_alive_timeout = seconds_option(a.keep_alive_timeout, "--keep-alive-timeout");
  o.drain_timeout = seconds_option(a.drain_timeout, "--drain-timeout");
  if (a.refresh_ms < 10 || a.refresh_ms > 60000)
    throw Error(ErrorKind::kUsage, "--refresh-interval must be between 10 and 60000 ms");
  o.refresh_interval = std::chrono::milliseconds(a.refresh_ms);
  o.access_log = !a.no_access_log && !ctx.options.quiet;
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
               o.queue, o.max_body_bytes, o.token.empty() ? "no token" : "bearer token required");
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
               received == SIGTERM ? "SIGTERM" : "SIGINT", a.drain_timeout);
  // A second signal now ends the process with the default action.
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
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

void register_serve(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve models over HTTP: the inference protocol (GET /ping, POST /invocations), named "
      "endpoints (/endpoints/{name}/invocations), the warehouse's external functions (POST "
      "/train, /deploy, /invoke), jobs (/jobs) and Prometheus metrics (/metrics).");
  auto& s = a->server;
  cmd->add_option("--host", s.host, "Address to listen on; anything but loopback requires a token")
      ->capture_default_str();
  cmd->add_option("-p,--port", s.port,
                  "TCP port; 0 picks a free one (the URL is printed on stdout)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("-m,--model", a->model,
                  "Container mode: serve this one model at /invocations (models:/NAME[/VERSION], "
                  "file:// URI or artifact path)");
  cmd->add_option("-e,--endpoint", a->endpoint,
                  "Endpoint behind /ping and /invocations (default: the only deployed one)");
  cmd->add_option("--token", a->token,
                  "Bearer token every request must carry (except /ping and /healthz)")
      ->envname("RECO_TOKEN");
  cmd->add_option("--token-file", a->token_file, "Read the bearer token from this file");
  cmd->add_option("-t,--threads", s.threads, "Worker threads (0: max(4, 2 x cores))")
      ->capture_default_str();
  cmd->add_option("--queue", s.queue,
                  "Connections that may wait for a worker; beyond it requests get 503 with "
                  "Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--max-body", s.max_body_bytes,
                  "Largest request body in bytes, compressed or not (suffixes KB, MB = 1024-based)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--read-timeout", a->read_timeout,
                  "Seconds a client may stay silent while sending a request")
      ->capture_default_str();
  cmd->add_option("--request-timeout", a->request_timeout,
                  "Seconds a whole request (headers and body) may take to arrive")
      ->capture_default_str();
  cmd->add_option("--write-timeout", a->write_timeout,
                  "Seconds an answer may stall while the client does not read it")
      ->capture_default_str();
  cmd->add_option("--keep-alive-timeout", a->keep_alive_timeout,
                  "Seconds an idle keep-alive connection is kept (less when others wait)")
      ->capture_default_str();
  cmd->add_option("--keep-alive-max", s.keep_alive_max, "Requests per connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--drain-timeout", a->drain_timeout,
                  "Seconds SIGTERM/SIGINT waits for in-flight requests before closing them")
      ->capture_default_str();
  cmd->add_option("--refresh-interval", a->refresh_ms,
                  "Milliseconds between checks for deployments made by other processes")
      ->capture_default_str();
  cmd->add_option("--jobs", s.training_jobs, "Training jobs (POST /train) run at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-queued-jobs", s.max_queued_jobs,
                  "Unfinished training jobs beyond which POST /train answers 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_flag("--no-access-log", a->no_access_log,
                "No per-request lines on stderr (--quiet implies it)");
  cmd->footer(
      "Examples:\n"
      "  reco serve                                   # every deployed endpoint on 127.0.0.1:8080\n"
      "  reco serve --model models:/ratings --port 8080   # one model, SageMaker-style container\n"
      "  RECO_TOKEN=$(cat token) reco serve --host 0.0.0.0\n"
      "Requests and answers: see `reco serve` in README.md. SIGTERM drains and exits 0.");
  cmd->callback([a, cmd, &ctx] {
    const char* env = std::getenv("RECO_TOKEN");
    const bool from_flag =
        cmd->get_option("--token")->count() > 0 && (env == nullptr || a->token != env);
    run_serve(ctx, *a, from_flag);
  });
}

}  // namespace reco::cli
