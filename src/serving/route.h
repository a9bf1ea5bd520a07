#pragma once
// The server's routes as data. Each row says which method and path pattern it answers, whether
// it needs the bearer token, what body it takes, whether it is still answered under overload,
// its label in metrics and the access log, and the handler that answers it. reco's own routes
// are such rows (routes_*.cpp); ServerOptions::extra_routes adds more (a web page, a plugin, a
// test) without touching the server: the router, access control, body checks, metrics and the
// access log treat them all alike.
//
// Handlers receive the request (RouteCall) and a small context (route_context.h: endpoints,
// live models, jobs, metrics, limits), never the server itself.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serving/http_message.h"

namespace reco::serving {

struct RouteContext;

enum class Access {
  kPublic,  // no token needed: orchestrators' health checks carry none
  kToken,   // the server's bearer token, when it has one
};

// What a POST body must be. The server checks size, Content-Type, charset and encoding before the
// handler runs, and hands it the decoded body.
enum class BodyKind {
  kNone,      // no body (GET)
  kPayload,   // inference: text/csv (user_id,item_id lines) or application/json {"instances"}
  kBatch,     // the warehouse's external functions: application/json {"data": [...]}
  kAny,       // any type, any content
  kOptional,  // like kAny, or no body at all (the handler sees an empty one)
};

// One request as a handler sees it; the handler fills in the last two fields.
struct RouteCall {
  const Request& http;
  std::vector<std::string> params;  // the {name} parts of the pattern, in order
  std::string body;                 // decoded request body (routes with a body)
  std::string endpoint;             // the endpoint served, for metrics and the access log
  size_t predictions = 0;           // predictions made, for metrics and the access log
};

using RouteHandler =
    std::function<void(RouteContext& context, RouteCall& call, Response& response)>;

struct RouteSpec {
  std::string method;   // "GET" (HEAD is answered by it too), "POST", ...
  std::string pattern;  // "/endpoints/{name}/invocations": {x} is one non-empty path segment,
                        // {*x} (last) the non-empty rest of the path; no trailing slash
  Access access = Access::kToken;
  BodyKind body = BodyKind::kNone;
  bool answered_when_overloaded = false;  // health checks and metrics stay green under load
  std::string label;                      // for metrics and the access log; "" means pattern
  RouteHandler handler;

  const std::string& metrics_label() const { return label.empty() ? pattern : label; }
};

// --- static files (a web page's assets) --------------------------------------------------------

struct StaticFile {
  std::string content_type;
  std::string bytes;
};
// The file at a relative path ("app.js", "img/logo.svg"), or nullopt.
using StaticSource = std::function<std::optional<StaticFile>(std::string_view relative_path)>;

// GET (and HEAD) of `prefix` + "/<path>" answered from `source`: the file with its content type
// and a strong ETag (304 for a matching If-None-Match), 404 for anything else. `prefix` itself
// serves "index.html".
std::vector<RouteSpec> static_routes(const std::string& prefix, StaticSource source,
                                     Access access = Access::kPublic);
// Regular files under `dir`. Paths with empty, "." or ".." segments, hidden files, symbolic
// links out of the folder and anything that is not a regular file are not served.
StaticSource files_in_directory(std::filesystem::path dir);
// Files compiled into the program: relative path -> file.
StaticSource files_in_memory(std::map<std::string, StaticFile, std::less<>> files);
// "text/html; charset=utf-8" for ".html", ... ("application/octet-stream" when unknown).
std::string content_type_for(std::string_view path);

}  // namespace reco::serving
