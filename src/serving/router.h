#pragma once
// The server's routes as data: which path means what, which methods it allows (for 405 with
// Allow), and the label it carries in metrics and the access log. Pure, so the whole table is
// unit-tested without a socket. Paths are matched exactly (no trailing slash, no prefixes).

#include <string>
#include <string_view>

namespace reco::serving {

enum class Route {
  kPing,                 // GET  /ping                          inference protocol health
  kHealthz,              // GET  /healthz                       liveness (always 200)
  kInvocations,          // POST /invocations                   the default model
  kEndpoints,            // GET  /endpoints
  kEndpoint,             // GET  /endpoints/{name}
  kEndpointInvocations,  // POST /endpoints/{name}/invocations
  kTrain,                // POST /train (start), GET /train (poll)   external functions
  kDeploy,               // POST /deploy
  kInvoke,               // POST /invoke
  kJobs,                 // GET  /jobs
  kJob,                  // GET  /jobs/{id}
  kMetrics,              // GET  /metrics
  kUnknown,
};

struct RouteMatch {
  Route route = Route::kUnknown;
  std::string param;  // {name} or {id}; may be any text, validated by the handler
};

RouteMatch match_route(std::string_view path);

// "/endpoints/{name}/invocations"; "other" for kUnknown (bounded metrics cardinality).
const char* route_label(Route route);
// The Allow header: "GET, HEAD" or "POST" (HEAD is allowed wherever GET is).
const char* allowed_methods(Route route);
bool method_allowed(Route route, std::string_view method);
// Routes a token is not required for: orchestrators' health checks carry none.
bool route_is_public(Route route);
// Routes that take a request body (POST).
bool route_has_body(Route route, std::string_view method);

}  // namespace reco::serving
