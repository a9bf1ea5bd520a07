#include "training/retention.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "deployment/endpoints.h"

namespace reco::training {
namespace {

namespace fs = std::filesystem;

// (version, endpoint) pairs of the endpoints serving `model`, from one listing of the endpoints.
std::vector<std::pair<int, std::string>> users_of(
    const std::vector<deployment::Endpoint>& endpoints, const std::string& model) {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& e : endpoints) {
    if (e.model_name == model && e.model_version > 0) out.emplace_back(e.model_version, e.name);
  }
  return out;
}

// The same for the versions endpoints would roll back to (kept by automatic retention, so a
// rollback still has somewhere to go).
void add_rollback_targets(const deployment::EndpointStore& store,
                          const std::vector<deployment::Endpoint>& endpoints,
                          const std::string& model, std::vector<std::pair<int, std::string>>& out) {
  for (const auto& e : endpoints) {
    const auto target = store.rollback_target(e.name);
    if (!target || target->value("model", nlohmann::json()) != model) continue;
    const auto version = target->find("version");
    if (version != target->end() && version->is_number_integer())
      out.emplace_back(version->get<int>(), e.name + "'s rollback target");
  }
}

}  // namespace

RetentionReport apply_retention(const Home& home, const std::optional<std::string>& model) {
  const registry::ModelRegistry models(home.models_dir());
  const deployment::EndpointStore store(home);
  const auto endpoints = store.list();
  RetentionReport report;
  const std::vector<std::string> names =
      model ? std::vector<std::string>{*model} : models.model_names();
  for (const auto& name : names) {
    models.remove_deleting(name);
    auto users = users_of(endpoints, name);
    add_rollback_targets(store, endpoints, name, users);
    // What the policy lets go: removed, unless an endpoint serves it or would roll back to it.
    for (const auto& v : models.expired(name, models.policy(name), {})) {
      const auto user = std::find_if(users.begin(), users.end(),
                                     [&](const auto& u) { return u.first == v.number; });
      if (user != users.end()) {
        report.kept_in_use.push_back(
            fmt::format("models:/{}/{} (endpoint {})", name, v.number, user->second));
        continue;
      }
      models.remove_version(v);
      report.removed.push_back(v);
    }
  }
  return report;
}

RetentionReport delete_versions(const Home& home, const std::string& model,
                                std::optional<int> version) {
  const registry::ModelRegistry models(home.models_dir());
  registry::ModelRegistry::validate_name(model);
  const std::vector<int> all = models.versions(model);
  std::error_code ec;
  if (!fs::is_directory(home.models_dir() / model, ec)) {
    throw Error(ErrorKind::kNotFound, fmt::format("no model named '{}'", model));
  }
  if (version && std::find(all.begin(), all.end(), *version) == all.end()) {
    throw Error(ErrorKind::kNotFound, fmt::format("model {} has no version {}", model, *version));
  }
  for (const auto& [v, endpoint] : users_of(deployment::EndpointStore(home).list(), model)) {
    if (!version || v == *version) {
      throw Error(ErrorKind::kConflict,
                  fmt::format("models:/{}/{} is in use by endpoint {}: deploy another version to "
                              "it or delete the endpoint first",
                              model, v, endpoint));
    }
  }
  RetentionReport report;
  if (version) {
    const registry::Version v{model, *version,
                              home.models_dir() / model / fmt::format("v{}", *version)};
    models.remove_version(v);
    report.removed.push_back(v);
    return report;
  }
  for (int v : all) {
    const registry::Version ver{model, v, home.models_dir() / model / fmt::format("v{}", v)};
    models.remove_version(ver);
    report.removed.push_back(ver);
  }
  // The model's folder with what is left (rolled-back runs, the policy): renamed away first.
  const fs::path dir = home.models_dir() / model;
  const fs::path doomed = home.models_dir() / fmt::format(".deleting-{}-{}", model, ::getpid());
  fs::rename(dir, doomed, ec);
  if (!ec) fs::remove_all(doomed, ec);
  return report;
}

}  // namespace reco::training
