// The web console (console/console.h): GET / is its page, GET /console/<file> its assets. They
// are public: they hold code, no data; the data routes they call need the token.
#include "console/console.h"
#include "serving/routes.h"

namespace reco::serving {

std::vector<RouteSpec> console_routes() {
  std::map<std::string, StaticFile, std::less<>> files;
  for (const auto& [path, bytes] : console::embedded_files()) {
    files.emplace(path, StaticFile{content_type_for(path), std::string(bytes)});
  }
  const StaticSource source = files_in_memory(std::move(files));
  std::vector<RouteSpec> routes = static_routes("/console", source, Access::kPublic);
  RouteSpec root = routes.front();  // "/console" answers index.html; so does "/"
  root.pattern = "/";
  root.label = "/";
  routes.insert(routes.begin(), std::move(root));
  // Only the console's own files may run, nothing may frame it, and no address leaks out.
  for (auto& r : routes) {
    r.handler = [inner = std::move(r.handler)](RouteContext& ctx, RouteCall& call, Response& res) {
      inner(ctx, call, res);
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                     "form-action 'self'; base-uri 'none'");
      res.set_header("X-Frame-Options", "DENY");
      res.set_header("Referrer-Policy", "no-referrer");
    };
  }
  return routes;
}

}  // namespace reco::serving
