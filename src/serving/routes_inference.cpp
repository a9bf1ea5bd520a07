// The inference protocol (docs/PROTOCOLS.md) and named endpoints:
//   GET /ping, POST /invocations, GET /endpoints, GET /endpoints/{name},
//   POST /endpoints/{name}/invocations, GET /endpoints/{name}/artifact. (Changing endpoints:
//   routes_deployment.cpp.)
#include <fmt/format.h>

#include "core/fs.h"
#include "core/hash.h"

#include "recommendation/fold_in.h"
#include "recommendation/top_n.h"
#include "serving/routes.h"

namespace reco::serving {
namespace {

using Snapshot = std::vector<deployment::EndpointStatus>;

bool has_model(const deployment::EndpointStatus& st) {
  return !st.loaded_at.empty();
}

std::string names_of(const Snapshot& all) {
  std::string out;
  for (const auto& st : all) out += (out.empty() ? "" : ", ") + st.endpoint.name;
  return out;
}

// The endpoint behind /invocations: its name, or an error answer (status, text).
struct DefaultEndpoint {
  std::string name;
  int status = 200;
  std::string error;
};

DefaultEndpoint default_endpoint(const RouteContext& ctx) {
  if (ctx.options.default_endpoint) return {*ctx.options.default_endpoint, 200, {}};
  const auto all = ctx.snapshot();
  if (all->size() == 1) return {all->front().endpoint.name, 200, {}};
  if (all->empty())
    return {{},
            503,
            "no endpoint is deployed yet: deploy one with deploy_model(name, url) in SQL or "
            "POST /deploy"};
  return {{},
          404,
          fmt::format("{} endpoints are deployed ({}) and this server has no default: POST "
                      "/endpoints/{{name}}/invocations, or start it with --endpoint NAME",
                      all->size(), names_of(*all))};
}

json endpoint_summary(const deployment::EndpointStatus& st) {
  return {{"endpoint", st.endpoint.name},
          {"state", st.state},
          {"model", st.endpoint.model_name.empty() ? json(nullptr) : json(st.endpoint.model_name)},
          {"version", st.serving_version ? json(*st.serving_version) : json(nullptr)}};
}

void ping_container(RouteContext& ctx, Response& res) {
  const ContainerModel c = ctx.container();
  if (c.artifact) {
    return send_json(res, 200,
                     {{"status", "Healthy"},
                      {"model_uri", *ctx.options.model_uri},
                      {"artifact_uri", c.artifact_uri}});
  }
  if (!c.error.empty()) return send_error(res, 503, "the model could not be loaded: " + c.error);
  send_error(res, 503, "the model is still loading: " + *ctx.options.model_uri);
}

// 200 when every deployed endpoint has a model in service (an endpoint whose newest deployment
// failed to load but whose previous model still serves counts: /endpoints shows the failure);
// 503 naming the endpoints that have none, while nothing is deployed, or while the --endpoint
// default is not deployed.
void ping(RouteContext& ctx, RouteCall& call, Response& res) {
  if (ctx.options.model_uri) return ping_container(ctx, res);
  const auto all = ctx.snapshot();
  const auto& pinned = ctx.options.default_endpoint;
  if (all->empty() && !pinned) return send_error(res, 503, default_endpoint(ctx).error);
  if (pinned && std::none_of(all->begin(), all->end(),
                             [&](const auto& st) { return st.endpoint.name == *pinned; })) {
    call.endpoint = *pinned;
    return send_error(res, 503, fmt::format("endpoint {} is not deployed (yet)", *pinned));
  }
  std::vector<std::string> not_ready;
  json endpoints = json::array();
  for (const auto& st : *all) {
    endpoints.push_back(endpoint_summary(st));
    if (has_model(st)) continue;
    const std::string why = st.last_error.empty() ? "its model is loading"
                                                  : "its model cannot be loaded: " + st.last_error;
    not_ready.push_back(fmt::format("endpoint {} is not ready: {}", st.endpoint.name, why));
  }
  const DefaultEndpoint d = default_endpoint(ctx);
  call.endpoint = d.name;
  if (!not_ready.empty()) {
    std::string message = not_ready.front();
    for (size_t k = 1; k < not_ready.size(); ++k) message += "; " + not_ready[k];
    return send_error(res, 503, message);
  }
  json body = {{"status", "Healthy"}, {"endpoints", endpoints}};
  for (const auto& st : *all) {
    if (st.endpoint.name == d.name) body.update(endpoint_summary(st));
  }
  send_json(res, 200, body);
}

// The model behind an invocation: the named endpoint, the container's model, or the default
// endpoint. Nullopt after an error answer has been written.
struct Target {
  std::shared_ptr<const registry::Artifact> artifact;
  std::shared_ptr<const deployment::LiveModel> live;  // keeps the model alive (hot swap)
};

std::optional<Target> target_of(RouteContext& ctx, RouteCall& call, Response& res) {
  // Keep the model for the whole request: a redeployment meanwhile swaps the endpoint's
  // pointer, not the model this request computes with.
  Target t;
  if (!call.params.empty()) {
    try {
      t.live = ctx.live.get(call.params[0]);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kNotFound) throw;
      send_error(res, 404, e.what());
      return std::nullopt;
    }
    call.endpoint = call.params[0];
  } else if (ctx.options.model_uri) {
    t.artifact = ctx.container().artifact;
    if (!t.artifact) {
      send_error(res, 503, "the model is not loaded yet; GET /ping says when");
      return std::nullopt;
    }
    call.endpoint = "default";
    return t;
  } else {
    const DefaultEndpoint d = default_endpoint(ctx);
    if (d.name.empty()) {
      send_error(res, d.status, d.error);
      return std::nullopt;
    }
    try {
      t.live = ctx.live.get(d.name);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kNotFound) throw;
      send_error(res, 503, fmt::format("endpoint {} is not deployed (yet)", d.name));
      return std::nullopt;
    }
    call.endpoint = d.name;
  }
  t.artifact = t.live->artifact;
  return t;
}

void invocations(RouteContext& ctx, RouteCall& call, Response& res) {
  const Request& req = call.http;
  const MediaType mt = parse_media_type(req.get_header_value("Content-Type"));
  const BodyFormat in = mt.type == "text/csv" ? BodyFormat::kCsv : BodyFormat::kJson;
  const BodyFormat out = negotiate_accept(req.get_header_value("Accept"), in).value_or(in);
  const auto target = target_of(ctx, call, res);
  if (!target) return;
  const std::vector<IdPair> pairs =
      in == BodyFormat::kCsv ? parse_csv_pairs(call.body) : parse_json_instances(call.body);
  const algorithms::Model& model = *target->artifact->model;
  std::vector<double> predictions;
  predictions.reserve(pairs.size());
  for (const IdPair& p : pairs) predictions.push_back(model.predict(p.user, p.item));
  call.predictions = predictions.size();
  if (target->live) {
    res.set_header("X-Reco-Endpoint", target->live->endpoint.name);
    if (target->live->endpoint.model_version > 0)
      res.set_header("X-Reco-Model-Version", std::to_string(target->live->endpoint.model_version));
  }
  res.status = 200;
  if (out == BodyFormat::kCsv) {
    res.set_content(format_csv_predictions(predictions), "text/csv; charset=utf-8");
  } else {
    res.set_content(format_json_predictions(predictions), "application/json");
  }
}

json endpoint_json(const deployment::EndpointStatus& st) {
  json j = st.endpoint.to_json();
  j["state"] = st.state;
  j["since"] = st.endpoint.updated_at;
  if (has_model(st)) {
    j["serving"] = {{"version", st.serving_version ? json(*st.serving_version) : json(nullptr)},
                    {"artifact_uri", st.serving_artifact_uri},
                    {"loaded_at", st.loaded_at}};
  } else {
    j["serving"] = nullptr;
  }
  j["last_error"] = st.last_error.empty() ? json(nullptr) : json(st.last_error);
  return j;
}

// The routes whose requests count as an endpoint's traffic.
constexpr std::string_view kPredictionRoutes[] = {"/invocations", "/endpoints/{name}/invocations",
                                                  "/endpoints/{name}/recommend"};

void list_endpoints(RouteContext& ctx, RouteCall&, Response& res) {
  const auto stats = ctx.metrics.endpoint_stats(kPredictionRoutes);
  json list = json::array();
  for (const auto& st : ctx.live.status()) {
    json e = endpoint_json(st);
    const auto it = stats.find(st.endpoint.name);
    const Metrics::EndpointStats s = it == stats.end() ? Metrics::EndpointStats{} : it->second;
    e["traffic"] = {
        {"requests", s.requests},
        {"errors", s.errors},
        {"predictions", s.predictions},
        {"latency_s", {{"sum", s.latency_sum}, {"p50", s.p50}, {"p95", s.p95}, {"p99", s.p99}}}};
    list.push_back(std::move(e));
  }
  json body = {{"endpoints", std::move(list)}};
  const DefaultEndpoint d = default_endpoint(ctx);
  body["default"] = d.name.empty() ? json(nullptr) : json(d.name);
  send_json(res, 200, body);
}

void show_endpoint(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  const auto st = ctx.live.status(name);
  if (!st) {
    std::string known;
    for (const auto& e : ctx.endpoints.list()) known += (known.empty() ? "" : ", ") + e.name;
    return send_error(
        res, 404,
        fmt::format("no endpoint named {}; deployed: {}", name, known.empty() ? "none" : known));
  }
  call.endpoint = name;
  send_json(res, 200, endpoint_json(*st));
}

// POST /endpoints/{name}/recommend: {"user": ID, "k": 10} for a user the model knows (as SQL's
// recommend), or {"ratings": [[item, rating], ...], "k": 10} for a new one (fold-in, as
// recommend_for): the k best items not rated, with unclipped score and clipped prediction.
void recommend_route(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  const std::optional<json> body = try_parse_json(call.body);
  if (!body || !body->is_object() || (body->contains("user") == body->contains("ratings"))) {
    return send_error(
        res, 400,
        R"(the body must be a JSON object with "user": ID or "ratings": [[item, rating], ...], and optionally "k")");
  }
  size_t k = 10;
  if (const auto it = body->find("k"); it != body->end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 10000) {
      return send_error(res, 400, "k must be an integer in [1, 10000]");
    }
    k = it->get<size_t>();
  }
  const auto live = ctx.live.get(name);  // 404 for an unknown endpoint
  const algorithms::Model& model = live->model();
  call.endpoint = name;
  if (body->contains("ratings")) {
    const json metadata = parse_json(live->artifact->metadata);
    const auto reg = recommendation::FoldInRegularization::from_hyperparameters(
        model.algorithm, metadata.value("hyperparameters", json::object()));
    const auto result = recommendation::fold_in(
        model, reg, recommendation::ratings_from_json((*body)["ratings"]), k);
    call.predictions = result.top.size();
    return send_json(res, 200, recommendation::fold_in_json(model, result));
  }
  const json& u = (*body)["user"];
  if (!u.is_number_integer()) return send_error(res, 400, "user must be an integer id");
  const int64_t user = u.get<int64_t>();
  const auto top = recommendation::top_n_for_user(model, user, k);
  json recs = json::array();
  for (size_t r = 0; r < top.size(); ++r) {
    recs.push_back({{"rank", r + 1},
                    {"item", model.items.raw(top[r].item)},
                    {"score", top[r].score},
                    {"prediction", model.clip(top[r].score)}});
  }
  call.predictions = top.size();
  send_json(res, 200,
            {{"user", user}, {"known", model.users.find(user) >= 0}, {"recommendations", recs}});
}

// GET /endpoints/{name}/artifact: the bytes of the artifact the endpoint serves (the model the
// server predicts with), for a client that predicts in its own process (the PostgreSQL
// extension's invoke_model). The ETag names the served deployment (generation, artifact, time):
// a request with a matching If-None-Match gets 304 and no body, so a client re-checks cheaply.
// X-Reco-Endpoint-Generation and X-Reco-Model-Version say what is served; the artifact carries
// its own CRC-32 (docs/ARTIFACT_FORMAT.md), which the client verifies when it decodes it.
void endpoint_artifact(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  const auto live = ctx.live.get(name);  // 404 for an unknown endpoint
  call.endpoint = name;
  const deployment::Endpoint& e = live->endpoint;
  Fnv1a64 h;
  const std::string identity =
      fmt::format("{}\n{}\n{}\n{}", e.generation, e.artifact_path, e.updated_at, live->loaded_at);
  h.update(identity.data(), identity.size());
  const std::string etag = fmt::format("\"{}-{}\"", e.generation, hex64(h.digest()));
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Reco-Endpoint", name);
  res.set_header("X-Reco-Endpoint-Generation", std::to_string(e.generation));
  if (e.model_version > 0) res.set_header("X-Reco-Model-Version", std::to_string(e.model_version));
  if (call.http.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(read_file(e.artifact_path), "application/octet-stream");
}

}  // namespace

std::vector<RouteSpec> inference_routes() {
  RouteSpec ping_route{"GET", "/ping", Access::kPublic, BodyKind::kNone, true, "", ping};
  return {
      ping_route,
      {"POST", "/invocations", Access::kToken, BodyKind::kPayload, false, "", invocations},
      {"GET", "/endpoints", Access::kToken, BodyKind::kNone, false, "", list_endpoints},
      {"GET", "/endpoints/{name}", Access::kToken, BodyKind::kNone, false, "", show_endpoint},
      {"POST", "/endpoints/{name}/recommend", Access::kToken, BodyKind::kAny, false, "",
       recommend_route},
      {"POST", "/endpoints/{name}/invocations", Access::kToken, BodyKind::kPayload, false, "",
       invocations},
      {"GET", "/endpoints/{name}/artifact", Access::kToken, BodyKind::kNone, false, "",
       endpoint_artifact},
  };
}

}  // namespace reco::serving
