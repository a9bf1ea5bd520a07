// The inference protocol (PROTOCOLS.md §2) and named endpoints:
//   GET /ping, POST /invocations, GET /endpoints, GET /endpoints/{name},
//   POST /endpoints/{name}/invocations.
#include <fmt/format.h>

#include "serving/server_impl.h"

namespace reco::serving {

namespace {

bool has_model(const deployment::EndpointStatus& st) {
  return !st.loaded_at.empty();
}

std::string names_of(const std::vector<deployment::EndpointStatus>& all) {
  std::string out;
  for (const auto& st : all) out += (out.empty() ? "" : ", ") + st.endpoint.name;
  return out;
}

}  // namespace

Server::Impl::DefaultEndpoint Server::Impl::default_endpoint() const {
  if (options.default_endpoint) return {*options.default_endpoint, 200, {}};
  const auto all = current_snapshot();
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

void Server::Impl::handle_ping(const Request&, Response& res) {
  if (options.model_uri) {
    ContainerModel c;
    {
      const std::lock_guard lock(container_mutex);
      c = container;
    }
    if (c.artifact) {
      send_json(res, 200,
                {{"status", "Healthy"},
                 {"model_uri", *options.model_uri},
                 {"artifact_uri", c.artifact_uri}});
    } else if (!c.error.empty()) {
      send_error(res, 503, "the model could not be loaded: " + c.error);
    } else {
      send_error(res, 503, "the model is still loading: " + *options.model_uri);
    }
    return;
  }
  const DefaultEndpoint d = default_endpoint();
  if (d.name.empty()) return send_error(res, 503, d.error);
  RequestContext& ctx = request_context();
  const auto all = current_snapshot();
  for (const auto& st : *all) {
    if (st.endpoint.name != d.name) continue;
    ctx.endpoint = d.name;
    if (!has_model(st)) {
      const std::string why = st.last_error.empty()
                                  ? "its model is loading"
                                  : "its model cannot be loaded: " + st.last_error;
      return send_error(res, 503, fmt::format("endpoint {} is not ready: {}", d.name, why));
    }
    return send_json(
        res, 200,
        {{"status", "Healthy"},
         {"endpoint", d.name},
         {"state", st.state},
         {"model", st.endpoint.model_name.empty() ? json(nullptr) : json(st.endpoint.model_name)},
         {"version", st.serving_version ? json(*st.serving_version) : json(nullptr)}});
  }
  send_error(res, 503, fmt::format("endpoint {} is not deployed (yet)", d.name));
}

void Server::Impl::handle_invocations(const Request& req, Response& res, const std::string& body,
                                      const std::optional<std::string>& endpoint) {
  RequestContext& ctx = request_context();
  const MediaType mt = parse_media_type(req.get_header_value("Content-Type"));
  const BodyFormat in = mt.type == "text/csv" ? BodyFormat::kCsv : BodyFormat::kJson;
  const BodyFormat out = negotiate_accept(req.get_header_value("Accept"), in).value_or(in);

  // Keep the model for the whole request: a redeployment meanwhile swaps the endpoint's
  // pointer, not the model this request computes with.
  std::shared_ptr<const deployment::LiveModel> live;
  std::shared_ptr<const registry::Artifact> artifact;
  if (endpoint) {
    ctx.endpoint.clear();
    try {
      live = this->live.get(*endpoint);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kNotFound) return send_error(res, 404, e.what());
      throw;
    }
    ctx.endpoint = *endpoint;
    artifact = live->artifact;
  } else if (options.model_uri) {
    {
      const std::lock_guard lock(container_mutex);
      artifact = container.artifact;
    }
    if (!artifact) return send_error(res, 503, "the model is not loaded yet; GET /ping says when");
    ctx.endpoint = "default";
  } else {
    const DefaultEndpoint d = default_endpoint();
    if (d.name.empty()) return send_error(res, d.status, d.error);
    try {
      live = this->live.get(d.name);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kNotFound)
        return send_error(res, 503, fmt::format("endpoint {} is not deployed (yet)", d.name));
      throw;
    }
    ctx.endpoint = d.name;
    artifact = live->artifact;
  }

  const std::vector<IdPair> pairs =
      in == BodyFormat::kCsv ? parse_csv_pairs(body) : parse_json_instances(body);
  const auto& model = artifact->model;
  std::vector<double> predictions;
  predictions.reserve(pairs.size());
  for (const IdPair& p : pairs) predictions.push_back(model.predict(p.user, p.item));
  ctx.predictions = predictions.size();
  if (live) {
    res.set_header("X-Reco-Endpoint", live->endpoint.name);
    if (live->endpoint.model_version > 0)
      res.set_header("X-Reco-Model-Version", std::to_string(live->endpoint.model_version));
  }
  res.status = 200;
  if (out == BodyFormat::kCsv) {
    res.set_content(format_csv_predictions(predictions), "text/csv; charset=utf-8");
  } else {
    res.set_content(format_json_predictions(predictions), "application/json");
  }
}

json Server::Impl::endpoint_json(const deployment::EndpointStatus& st) const {
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

void Server::Impl::handle_endpoints(const Request&, Response& res) {
  json list = json::array();
  for (const auto& st : live.status()) list.push_back(endpoint_json(st));
  json body = {{"endpoints", std::move(list)}};
  const DefaultEndpoint d = default_endpoint();
  body["default"] = d.name.empty() ? json(nullptr) : json(d.name);
  send_json(res, 200, body);
}

void Server::Impl::handle_endpoint(const Request&, Response& res, const std::string& name) {
  const auto st = live.status(name);
  if (!st) {
    std::string known;
    for (const auto& e : store.list()) known += (known.empty() ? "" : ", ") + e.name;
    return send_error(
        res, 404,
        fmt::format("no endpoint named {}; deployed: {}", name, known.empty() ? "none" : known));
  }
  request_context().endpoint = name;
  send_json(res, 200, endpoint_json(*st));
}

}  // namespace reco::serving
