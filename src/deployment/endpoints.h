#pragma once
// Named real-time endpoints, persisted in the home so every process sees the same ones:
//   <home>/endpoints/<name>.json   one record per endpoint (written atomically)
// `deploy_model` in SQL, `reco deploy`-style commands and `POST /deploy` all go through
// EndpointStore::deploy, which loads and validates the artifact completely before it records
// anything: a deployment that fails leaves the endpoint exactly as it was.
// A model URI naming a registry model without a version ("models:/m") is pinned at deploy
// time to the version it resolves to, so later trainings never change what an endpoint serves
// until it is deployed again.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/home.h"
#include "registry/artifact.h"

namespace reco::deployment {

struct Endpoint {
  std::string name;
  std::string model_uri;      // as the user gave it ("models:/m", "file:///...", a path)
  std::string artifact_path;  // the resolved, pinned artifact file (absolute)
  std::string artifact_uri;   // file:// URI of artifact_path
  std::string model_name;     // registry model name; "" when the artifact is outside the registry
  int model_version = 0;      // registry version; 0 when outside the registry
  std::string algorithm;      // from the artifact
  std::string created_at;     // RFC 3339 UTC, first deployment
  std::string updated_at;     // RFC 3339 UTC, latest deployment ("since")
  uint64_t generation = 0;    // 1 when created, +1 on every deployment to the same name

  nlohmann::json to_json() const;
  // Throws Error(kCorrupt) naming source and the missing or mistyped field.
  static Endpoint from_json(const nlohmann::json& j, const std::string& source);
};

// A deployed endpoint together with its loaded, validated model.
struct DeployedModel {
  Endpoint endpoint;
  std::shared_ptr<const registry::Artifact> artifact;
};

class EndpointStore {
 public:
  explicit EndpointStore(const Home& home);

  const std::filesystem::path& dir() const { return dir_; }
  const Home& home() const { return home_; }

  // Endpoint names follow model names: [A-Za-z0-9][A-Za-z0-9._-]{0,127}.
  static void validate_name(std::string_view name);  // throws Error(kUsage)

  // Create-or-update. Resolves model_uri (registry::path_from_uri), reads and validates the
  // whole artifact, then writes the record. Throws Error(kUsage) for a bad name or URI form,
  // Error(kNotFound) for a missing artifact, Error(kCorrupt) for a damaged one; in every
  // failure case the previous record is untouched. created is set when the name was new.
  DeployedModel deploy(const std::string& name, const std::string& model_uri,
                       bool* created = nullptr);

  std::optional<Endpoint> find(const std::string& name) const;
  // Throws Error(kNotFound) naming the endpoint and listing the known ones.
  Endpoint get(const std::string& name) const;
  std::vector<Endpoint> list() const;  // sorted by name; unreadable records are skipped
  bool remove(const std::string& name);

 private:
  Home home_;
  std::filesystem::path dir_;
};

// What deploy_model, POST /deploy and `reco endpoints deploy --json` answer: the record plus
// "created" (the name was new), "status" ("Created" / "Updated"), "state" ("InService": the
// model is loaded and validated) and the model's n_users / n_items.
nlohmann::json deploy_result(const DeployedModel& deployed, bool created);

// Loads and validates an artifact for serving; throws like registry::read_artifact plus
// Error(kCorrupt) when the model fails validate().
std::shared_ptr<const registry::Artifact> load_for_serving(const std::filesystem::path& path);

}  // namespace reco::deployment
