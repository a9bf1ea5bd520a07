// Model registry routes (read-only): GET /models, GET /models/{name},
// GET /models/{name}/versions/{version}. What `reco models` and `reco models show` print, as
// JSON, for the console and for scripts.
#include <fmt/format.h>

#include "registry/model_registry.h"
#include "serving/routes.h"

namespace reco::serving {

namespace {

// Which endpoints point at each version of a model.
std::map<int, std::vector<std::string>> endpoints_by_version(RouteContext& ctx,
                                                             const std::string& model) {
  std::map<int, std::vector<std::string>> out;
  for (const auto& e : ctx.endpoints.list()) {
    if (e.model_name == model) out[e.model_version].push_back(e.name);
  }
  return out;
}

json summary_json(const registry::ModelSummary& m, const std::vector<std::string>& endpoints) {
  json j = {{"model", m.name},
            {"version", m.version},
            {"artifact_uri", registry::artifact_uri(m.artifact_path)},
            {"bytes", m.file_size},
            {"problem", m.problem.empty() ? json(nullptr) : json(m.problem)},
            {"endpoints", endpoints}};
  if (!m.problem.empty()) return j;
  j["algorithm"] = m.algorithm;
  j["created_at"] = m.created_at;
  j["cv_rmse"] = m.cv_rmse ? json(*m.cv_rmse) : json(nullptr);
  j["cv_mae"] = m.cv_mae ? json(*m.cv_mae) : json(nullptr);
  j["users"] = m.n_users;
  j["items"] = m.n_items;
  j["ratings"] = m.n_ratings;
  j["factors"] = m.n_factors;
  return j;
}

registry::ModelRegistry registry_of(RouteContext& ctx) {
  return registry::ModelRegistry(ctx.options.home.models_dir());
}

void list_models(RouteContext& ctx, RouteCall&, Response& res) {
  const auto models = registry_of(ctx);
  json out = json::array();
  std::string current;
  std::map<int, std::vector<std::string>> serving;
  for (const auto& m : models.list()) {
    if (m.name != current) {
      current = m.name;
      serving = endpoints_by_version(ctx, m.name);
      out.push_back({{"model", m.name}, {"versions", json::array()}});
    }
    out.back()["versions"].push_back(summary_json(m, serving[m.version]));
  }
  send_json(res, 200, {{"models", std::move(out)}});
}

void show_model(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  if (!registry::ModelRegistry::is_valid_name(name)) {
    return send_error(res, 404, fmt::format("no model named {}; GET /models lists them", name));
  }
  const auto models = registry_of(ctx);
  const auto versions = models.versions(name);
  if (versions.empty()) {
    return send_error(res, 404, fmt::format("no model named {}; GET /models lists them", name));
  }
  auto serving = endpoints_by_version(ctx, name);
  json list = json::array();
  for (const int v : versions) list.push_back(summary_json(models.summarize(name, v), serving[v]));
  send_json(res, 200, {{"model", name}, {"versions", std::move(list)}});
}

void show_version(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  const std::optional<int> version = registry::parse_version(call.params[1]);
  if (!version || !registry::ModelRegistry::is_valid_name(name)) {
    return send_error(res, 404,
                      fmt::format("no version {} of model {}; GET /models/{} lists them",
                                  call.params[1], name, name));
  }
  const auto models = registry_of(ctx);
  const registry::ModelSummary m = models.summarize(name, *version);  // 404 names what exists
  json j = summary_json(m, endpoints_by_version(ctx, name)[*version]);
  j["metadata"] = m.problem.empty() ? parse_json(m.metadata) : json(nullptr);
  j["run"] = models.run_info(name, *version);
  send_json(res, 200, j);
}

}  // namespace

std::vector<RouteSpec> registry_routes() {
  return {
      {"GET", "/models", Access::kToken, BodyKind::kNone, false, "", list_models},
      {"GET", "/models/{name}", Access::kToken, BodyKind::kNone, false, "", show_model},
      {"GET", "/models/{name}/versions/{version}", Access::kToken, BodyKind::kNone, false, "",
       show_version},
  };
}

}  // namespace reco::serving
