#pragma once
// Internal to the serving module: the state behind serving::Server. The route handlers do not
// see it: they get a RouteContext (route_context.h) built from it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "serving/http_server.h"
#include "serving/router.h"
#include "serving/routes.h"
#include "serving/server.h"

namespace reco::serving {

struct Server::Impl {
  explicit Impl(ServerOptions o);

  ServerOptions options;
  deployment::EndpointStore store;
  deployment::LiveModels live;
  std::unique_ptr<training::JobRunner> jobs;
  Metrics metrics;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<RouteContext> context;
  std::unique_ptr<Router> router;
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

  // --- lifecycle ---
  HttpServer::Handlers handlers();
  void refresh_loop();
  void refresh_snapshot();
  std::shared_ptr<const std::vector<deployment::EndpointStatus>> current_snapshot() const;
  void load_container_model();
  void log_line(const std::string& line);

  // --- request plumbing: every route goes through these ---
  // After the headers (on the HTTP front's event thread): routing, access control and the
  // body checks; true when it answered (the body is then not read).
  bool pre_routing(Request& req, RequestContext& ctx, Response& res);
  // The whole request, on a worker (or the event thread for health checks and metrics).
  void dispatch(Request& req, RequestContext& ctx, Response& res);
  void after_response(const Request& req, const RequestContext& ctx, const Response& res);
  // The decoded request body, or nullopt after an error answer has been written.
  std::optional<std::string> decode_body(Request& req, const RequestContext& ctx, Response& res);
};

}  // namespace reco::serving
