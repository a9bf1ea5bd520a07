#pragma once
// Internal to the serving module: the state behind serving::Server and the route handlers
// (routes_*.cpp), which share it. Not part of the public API.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "deployment/endpoints.h"
#include "deployment/live_models.h"
#include "serving/http_server.h"
#include "serving/metrics.h"
#include "serving/payloads.h"
#include "serving/router.h"
#include "serving/server.h"
#include "training/jobs.h"

namespace reco::serving {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

// The status a reco::Error answers with. 4xx only for what retrying cannot fix (the warehouse
// fails the query on 4xx and retries 429/5xx, PROTOCOLS.md §3).
int http_status_for(ErrorKind kind);

void send_json(Response& res, int status, const json& body);
// {"error": message, "status": status, ...extra}
void send_error(Response& res, int status, const std::string& message,
                const json& extra = json::object());
void send_error(Response& res, const Error& e);

// The model in service behind /invocations in container mode.
struct ContainerModel {
  std::shared_ptr<const registry::Artifact> artifact;
  std::string artifact_uri;
  std::string error;  // why loading failed; "" while loading or once loaded
  ErrorKind error_kind = ErrorKind::kInternal;
};

// Deletes /train batch records older than `keep` (they only serve polls and retries).
void prune_train_batches(const Home& home, std::chrono::hours keep);

struct Server::Impl {
  explicit Impl(ServerOptions o);

  ServerOptions options;
  deployment::EndpointStore store;
  deployment::LiveModels live;
  std::unique_ptr<training::JobRunner> jobs;
  Metrics metrics;
  std::unique_ptr<HttpServer> http;
  int port = 0;
  std::chrono::system_clock::time_point started_at;

  std::thread listen_thread;
  std::thread refresh_thread;
  std::thread model_thread;
  std::mutex lifecycle_mutex;
  std::condition_variable lifecycle_cv;
  bool started = false;
  bool stopping = false;
  bool stopped = false;
  bool stop_result = true;
  bool accepting = true;  // false once the accept loop has ended

  mutable std::mutex container_mutex;
  ContainerModel container;

  // Endpoint states as of the last refresh (read by /ping and /metrics without touching disk).
  mutable std::mutex snapshot_mutex;
  std::shared_ptr<const std::vector<deployment::EndpointStatus>> snapshot;

  std::mutex log_mutex;

  // --- lifecycle (server.cpp) ---
  void install_handlers();
  void refresh_loop();
  void refresh_snapshot();
  std::shared_ptr<const std::vector<deployment::EndpointStatus>> current_snapshot() const;
  void load_container_model();
  void log_line(const std::string& line);

  // --- request plumbing (server.cpp) ---
  httplib::Server::HandlerResponse pre_routing(const Request& req, Response& res);
  void dispatch_get(const Request& req, Response& res);
  void dispatch_post(const Request& req, Response& res, const httplib::ContentReader& reader);
  void after_response(const Request& req, const Response& res);
  // The decoded request body, or nullopt after an error answer has been written.
  std::optional<std::string> read_body(const Request& req, Response& res,
                                       const httplib::ContentReader& reader);

  // --- inference protocol and endpoints (routes_inference.cpp) ---
  struct Target {
    std::string endpoint;  // label / name ("" in container mode)
    std::shared_ptr<const registry::Artifact> artifact;
    std::shared_ptr<const deployment::LiveModel> live;  // keeps the model alive (hot swap)
  };
  // The endpoint behind /invocations and /ping: its name, or an error answer (status, text).
  struct DefaultEndpoint {
    std::string name;
    int status = 200;
    std::string error;
  };
  DefaultEndpoint default_endpoint() const;
  void handle_ping(const Request& req, Response& res);
  void handle_invocations(const Request& req, Response& res, const std::string& body,
                          const std::optional<std::string>& endpoint);
  void handle_endpoints(const Request& req, Response& res);
  void handle_endpoint(const Request& req, Response& res, const std::string& name);
  json endpoint_json(const deployment::EndpointStatus& status) const;

  // --- external functions (routes_external.cpp) ---
  void handle_invoke(const Request& req, Response& res, const std::string& body);
  void handle_deploy(const Request& req, Response& res, const std::string& body);
  void handle_train_post(const Request& req, Response& res, const std::string& body);
  void handle_train_poll(const Request& req, Response& res);

  // --- jobs, metrics, health (routes_admin.cpp) ---
  void handle_jobs(const Request& req, Response& res);
  void handle_job(const Request& req, Response& res, const std::string& id);
  void handle_metrics(const Request& req, Response& res);
  void handle_healthz(const Request& req, Response& res);
};

}  // namespace reco::serving
