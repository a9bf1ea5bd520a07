#pragma once
// Finds the route (route.h) for a request: the first row whose pattern matches the path and
// whose method is the request's (GET rows answer HEAD too). When rows match the path but none
// the method, the answer is 405 with the methods they allow. Pure, so the table is unit-tested
// without a socket. Paths are matched exactly: no trailing slash, no prefixes.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serving/route.h"

namespace reco::serving {

// The {x} / {*x} parts of `path` when it matches `pattern`, else nullopt.
std::optional<std::vector<std::string>> match_pattern(std::string_view pattern,
                                                      std::string_view path);

struct RouteMatch {
  const RouteSpec* route = nullptr;  // null: no route answers this method and path
  std::vector<std::string> params;
  bool path_known = false;  // some route has this path (405 rather than 404)
  std::string allowed;      // "GET, HEAD, POST": the methods routes of this path allow
  std::string label;        // the route's label; for an unknown path "other"
};

class Router {
 public:
  explicit Router(std::vector<RouteSpec> routes);

  RouteMatch match(std::string_view method, std::string_view path) const;
  const std::vector<RouteSpec>& routes() const { return routes_; }
  // "GET /ping, POST /invocations, ...": every route, for the 404 message.
  std::string summary() const;

 private:
  std::vector<RouteSpec> routes_;
};

}  // namespace reco::serving
