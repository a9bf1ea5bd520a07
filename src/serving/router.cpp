#include "serving/router.h"

namespace reco::serving {

RouteMatch match_route(std::string_view path) {
  if (path == "/ping") return {Route::kPing, {}};
  if (path == "/healthz") return {Route::kHealthz, {}};
  if (path == "/invocations") return {Route::kInvocations, {}};
  if (path == "/endpoints") return {Route::kEndpoints, {}};
  if (path == "/train") return {Route::kTrain, {}};
  if (path == "/deploy") return {Route::kDeploy, {}};
  if (path == "/invoke") return {Route::kInvoke, {}};
  if (path == "/jobs") return {Route::kJobs, {}};
  if (path == "/metrics") return {Route::kMetrics, {}};
  constexpr std::string_view kEndpointsPrefix = "/endpoints/";
  constexpr std::string_view kJobsPrefix = "/jobs/";
  if (path.starts_with(kEndpointsPrefix)) {
    std::string_view rest = path.substr(kEndpointsPrefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos)
      return rest.empty() ? RouteMatch{} : RouteMatch{Route::kEndpoint, std::string(rest)};
    if (slash > 0 && rest.substr(slash) == "/invocations")
      return {Route::kEndpointInvocations, std::string(rest.substr(0, slash))};
    return {};
  }
  if (path.starts_with(kJobsPrefix)) {
    std::string_view rest = path.substr(kJobsPrefix.size());
    if (!rest.empty() && rest.find('/') == std::string_view::npos)
      return {Route::kJob, std::string(rest)};
  }
  return {};
}

const char* route_label(Route route) {
  switch (route) {
    case Route::kPing:
      return "/ping";
    case Route::kHealthz:
      return "/healthz";
    case Route::kInvocations:
      return "/invocations";
    case Route::kEndpoints:
      return "/endpoints";
    case Route::kEndpoint:
      return "/endpoints/{name}";
    case Route::kEndpointInvocations:
      return "/endpoints/{name}/invocations";
    case Route::kTrain:
      return "/train";
    case Route::kDeploy:
      return "/deploy";
    case Route::kInvoke:
      return "/invoke";
    case Route::kJobs:
      return "/jobs";
    case Route::kJob:
      return "/jobs/{id}";
    case Route::kMetrics:
      return "/metrics";
    case Route::kUnknown:
      break;
  }
  return "other";
}

const char* allowed_methods(Route route) {
  switch (route) {
    case Route::kInvocations:
    case Route::kEndpointInvocations:
    case Route::kDeploy:
    case Route::kInvoke:
      return "POST";
    case Route::kTrain:
      return "GET, HEAD, POST";  // POST starts, GET polls (async protocol)
    case Route::kUnknown:
      return "";
    default:
      return "GET, HEAD";
  }
}

bool method_allowed(Route route, std::string_view method) {
  const std::string_view allowed = allowed_methods(route);
  if (method.empty()) return false;
  size_t pos = 0;
  while (pos < allowed.size()) {
    size_t end = allowed.find(',', pos);
    if (end == std::string_view::npos) end = allowed.size();
    if (allowed.substr(pos, end - pos) == method) return true;
    pos = end + 2;  // ", "
  }
  return false;
}

bool route_is_public(Route route) {
  return route == Route::kPing || route == Route::kHealthz;
}

bool route_has_body(Route route, std::string_view method) {
  return method == "POST" && route != Route::kUnknown;
}

}  // namespace reco::serving
