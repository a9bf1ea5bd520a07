#pragma once
// What route handlers (route.h) work with: the server's state, without its lifecycle. Built by
// the server once; every handler gets the same one.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "deployment/endpoints.h"
#include "deployment/live_models.h"
#include "serving/metrics.h"
#include "serving/server.h"
#include "training/jobs.h"

namespace reco::serving {

class HttpServer;

// The model in service behind /invocations in container mode (ServerOptions::model_uri).
struct ContainerModel {
  std::shared_ptr<const registry::Artifact> artifact;
  std::string artifact_uri;
  std::string error;  // why loading failed; "" while loading or once loaded
  ErrorKind error_kind = ErrorKind::kInternal;
};

struct RouteContext {
  const ServerOptions& options;
  deployment::EndpointStore& endpoints;
  deployment::LiveModels& live;
  training::JobRunner& jobs;
  Metrics& metrics;
  const HttpServer& http;  // limits, pool statistics, draining (serving/http_server.h)
  std::chrono::system_clock::time_point started_at;

  // The endpoints' states as of the last refresh (no disk access).
  std::function<std::shared_ptr<const std::vector<deployment::EndpointStatus>>()> snapshot;
  // Re-reads the endpoints now (after a deployment made by this server).
  std::function<void()> refresh;
  // Container mode's model, as it is now.
  std::function<ContainerModel()> container;
  // One line on the server's log (stderr), never interleaved with another.
  std::function<void(const std::string&)> log;
};

}  // namespace reco::serving
