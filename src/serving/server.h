#pragma once
// `reco serve` as a library: an HTTP server that answers the inference protocol (/ping,
// /invocations), named endpoints (/endpoints/...), the warehouse's external-function protocol
// (/train, /deploy, /invoke), jobs (/jobs) and Prometheus metrics (/metrics). Start and stop
// it in-process (tests do) or from the command line (cli/cmd_serve.cpp).
//
// Modes:
//  - container mode (model_uri set): one model, loaded in the background after the server
//    starts listening; /ping is 503 until it is loaded, then 200; /invocations uses it.
//  - endpoint mode (default): /invocations and /ping use the default endpoint: the one named
//    by default_endpoint, else the only deployed endpoint when exactly one exists. With none,
//    /ping is 503 and /invocations 503 (Retry-After: a deployment may come); with several and
//    no default_endpoint, /ping is 503 and /invocations 404 naming them. Deployments made by
//    other processes (deploy_model in SQL, another server) are picked up within
//    refresh_interval.
// Named endpoints, jobs and the external functions work in both modes.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <vector>

#include "core/error.h"
#include "core/home.h"
#include "serving/route.h"

namespace reco::serving {

// Every setting of a server. The member initializers are the defaults; each user-facing setting
// is a row of server_options() (server_options.h), from which the flags of `reco serve`, its
// --help and the README's table are derived.
struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Server::port())
  Home home{"."};
  std::string db_location;  // warehouse for /train; "" means <home>/warehouse.db

  std::optional<std::string> model_uri;         // container mode
  std::optional<std::string> default_endpoint;  // endpoint behind /ping and /invocations
  // Bearer token; empty means none. start() refuses a non-loopback host without one.
  std::string token;
  std::string token_file;  // read by start() when set (exclusive with token)

  size_t threads = 0;              // workers; 0: max(4, 2 x cores)
  size_t queue = 64;               // complete requests waiting for a worker
  size_t max_connections = 10000;  // open connections (idle and slow ones cost memory only)
  size_t max_body_bytes = 6 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{5000};
  size_t keep_alive_max = 1000;
  std::chrono::milliseconds refresh_interval{250};
  std::chrono::milliseconds drain_timeout{25000};  // stop(): in-flight requests get this long
  // How often `reco serve` checks for due tasks (cli/cmd_serve.cpp runs the scheduler); 0: never.
  std::chrono::milliseconds task_interval{1000};

  int training_jobs = 1;       // training jobs run at once
  size_t max_queued_jobs = 8;  // /train answers 429 beyond this many unfinished jobs
  bool access_log = true;      // one line per request on stderr

  // Extra routes (a web page, a plugin, a test): they take part in routing, access control,
  // metrics and the access log like reco's own (route.h). Matched after reco's routes.
  std::vector<RouteSpec> extra_routes;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop()s if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Validates the options, binds, and starts serving on background threads. Returns once the
  // socket accepts connections. Throws Error(kUsage) for bad options (e.g. a public host
  // without a token), Error(kIo) when the address cannot be bound.
  void start();
  int port() const;
  std::string url() const;  // http://host:port

  // Graceful stop: no new connections; queued and in-flight requests finish (bounded by
  // drain_timeout); training jobs get what is left of it. Returns true when nothing had to be
  // cut short, false when a training job was still running (its record will read Failed once
  // this process exits). Idempotent.
  bool stop();
  // Blocks until the server stops by itself (it never does) or stop() is called elsewhere.
  void wait();
  // True from start() until stop(), unless the accept loop ended on its own (a socket error).
  bool running() const;

  // Container mode: true once the model is loaded; why loading failed otherwise (nullopt
  // while loading). The command line exits with the error; a library user decides.
  bool model_ready() const;
  std::optional<Error> model_error() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace reco::serving
