// Changing endpoints over HTTP, with the same hot swap as deploy_model (the server installs the
// new model once it is loaded and validated; requests in flight finish on the old one):
//   PUT  /endpoints/{name}           {"model_url": "...", "promote_if": {...}}   deploy
//   POST /endpoints/{name}/rollback  {"version": N} (optional body)             roll back
//   GET  /endpoints/{name}/history                                              its history
// (POST /deploy, the external function, is in routes_external.cpp.) The cause recorded in the
// history is "http".
#include <fmt/format.h>

#include "registry/model_registry.h"
#include "serving/routes.h"

namespace reco::serving {
namespace {

constexpr const char* kCause = "http";

// The request body as a JSON object; an empty body is {} when `empty_ok`. Nullopt after a 400.
std::optional<json> body_object(RouteCall& call, Response& res, bool empty_ok,
                                const char* expected) {
  if (empty_ok && call.body.find_first_not_of(" \t\r\n") == std::string::npos)
    return json::object();
  std::optional<json> body = try_parse_json(call.body);
  if (!body || !body->is_object()) {
    send_error(res, 400, fmt::format("the body must be a JSON object {}", expected));
    return std::nullopt;
  }
  return body;
}

// Installs what a deployment or rollback put in service, so this server swaps at once (others
// notice the record within their refresh interval).
void answer(RouteContext& ctx, const deployment::DeployOutcome& outcome, Response& res) {
  if (outcome.applied) {
    ctx.live.install(outcome.deployed);
    ctx.refresh();
  }
  send_json(res, outcome.created ? 201 : 200, deployment::deploy_result(outcome));
}

// PUT /endpoints/{name} {"model_url": "models:/NAME/3", "promote_if": {...}}: deploys (creates
// or updates) the endpoint; 201 when created, else 200 (also when a promotion is refused: the
// answer's "status" is "PromotionRefused" and "reason" says why).
void put_endpoint(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  constexpr const char* kExpected =
      R"({"model_url": "models:/NAME[/VERSION]"} (optionally "promote_if": {"metric": "rmse", "margin": 0.001}))";
  const auto body = body_object(call, res, false, kExpected);
  if (!body) return;
  if (!body->contains("model_url") || !(*body)["model_url"].is_string())
    return send_error(res, 400, fmt::format("the body must be a JSON object {}", kExpected));
  deployment::EndpointStore::validate_name(name);
  call.endpoint = name;
  deployment::DeployRequest request;
  request.name = name;
  request.model_uri = (*body)["model_url"].get<std::string>();
  request.cause = kCause;
  json options = *body;
  options.erase("model_url");
  request.promote_if = deployment::promotion_from_json(options);
  try {
    answer(ctx, ctx.endpoints.deploy(request), res);
  } catch (const Error& e) {
    // A damaged artifact is as permanent as a missing one: the URL is the problem.
    throw Error(
        e.kind() == ErrorKind::kCorrupt ? ErrorKind::kInput : e.kind(),
        fmt::format("cannot deploy endpoint {} from {}: {}", name, request.model_uri, e.what()));
  }
}

// POST /endpoints/{name}/rollback [{"version": N}]: back to the previous deployment, or to
// version N of the endpoint's model. 404 unknown endpoint or version, 409 nothing to go back to.
void rollback_endpoint(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  const auto body = body_object(call, res, true, R"({"version": N} or an empty body)");
  if (!body) return;
  std::optional<int> version;
  for (const auto& [key, value] : body->items()) {
    if (key != "version")
      return send_error(res, 400,
                        fmt::format("unknown field '{}' in the rollback body (known: version)",
                                    key.substr(0, 100)));
    if (value.is_null()) continue;
    if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > INT32_MAX)
      return send_error(
          res, 400,
          fmt::format("\"version\" must be a positive integer, got {}", json_preview(value)));
    version = value.get<int>();
  }
  deployment::EndpointStore::validate_name(name);
  call.endpoint = name;
  std::optional<deployment::DeployOutcome> outcome;
  try {
    outcome = ctx.endpoints.rollback(name, version, kCause);
  } catch (const Error& e) {
    // A damaged artifact to go back to is as permanent as a missing one: 4xx, not 5xx.
    if (e.kind() != ErrorKind::kCorrupt) throw;
    throw Error(ErrorKind::kInput, fmt::format("cannot roll back endpoint {}: {}", name, e.what()));
  }
  ctx.live.install(outcome->deployed);
  ctx.refresh();
  send_json(res, 200, deployment::deploy_result(*outcome));
}

// GET /endpoints/{name}/history: {"endpoint", "events": [...], "skipped_lines"}.
void endpoint_history(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  if (!registry::ModelRegistry::is_valid_name(name))
    return send_error(res, 404, fmt::format("no endpoint named {}", name.substr(0, 200)));
  call.endpoint = name;
  const auto history = ctx.endpoints.history(name);
  send_json(
      res, 200,
      {{"endpoint", name}, {"events", history.events}, {"skipped_lines", history.skipped_lines}});
}

}  // namespace

std::vector<RouteSpec> deployment_routes() {
  return {
      {"PUT", "/endpoints/{name}", Access::kToken, BodyKind::kAny, false, "", put_endpoint},
      {"POST", "/endpoints/{name}/rollback", Access::kToken, BodyKind::kOptional, false, "",
       rollback_endpoint},
      {"GET", "/endpoints/{name}/history", Access::kToken, BodyKind::kNone, false, "",
       endpoint_history},
  };
}

}  // namespace reco::serving
