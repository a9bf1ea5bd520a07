#pragma once
// Named real-time endpoints, persisted in the home so every process sees the same ones:
//   <home>/endpoints/<name>.json   one record per endpoint (written atomically)
// `deploy_model` in SQL, `reco deploy`-style commands and `POST /deploy` all go through
// EndpointStore::deploy, which loads and validates the artifact completely before it records
// anything: a deployment that fails leaves the endpoint exactly as it was.
// A model URI naming a registry model without a version ("models:/m") is pinned at deploy
// time to the version it resolves to, so later trainings never change what an endpoint serves
// until it is deployed again.
//
// Every change, and every attempt that left the endpoint as it was (promotion refused, failed
// load), is appended to the endpoint's history (history.h) with its cause: "sql", "cli", "http",
// "task:NAME", or "api" for a C++ caller that names none. rollback() goes back to the previous
// (or a named) version through the same path as deploy, so servers swap models the same way.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/home.h"
#include "deployment/history.h"
#include "deployment/promotion.h"
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
  std::string cause;          // what made this generation: "sql", "cli", "http", "task:NAME", "api"
  std::string event;          // how: "deploy" or "rollback"
  ModelMetrics metrics;       // what the artifact reports (CV metrics, data fingerprint)

  nlohmann::json to_json() const;
  // Throws Error(kCorrupt) naming source and the missing or mistyped field.
  static Endpoint from_json(const nlohmann::json& j, const std::string& source);
};

// A deployed endpoint together with its loaded, validated model.
struct DeployedModel {
  Endpoint endpoint;
  std::shared_ptr<const registry::Artifact> artifact;
};

// A deployment as deploy_model, `reco endpoints deploy`, PUT /endpoints/{name} and /deploy ask
// for it.
struct DeployRequest {
  std::string name;
  std::string model_uri;
  std::string cause = "api";
  std::optional<PromotionPolicy> promote_if;  // deploy only if the metric beats the serving one
};

// What a deployment or rollback did.
struct DeployOutcome {
  // applied: the endpoint record as written and its loaded model. Refused: the record as it
  // still is, and the candidate's artifact (loaded and validated, not installed).
  DeployedModel deployed;
  bool applied = true;
  bool created = false;
  std::string event;          // "deploy", "rollback" or "promotion_refused"
  std::string reason;         // promotion: why promoted or refused; "" without a policy
  nlohmann::json promotion;   // decide_promotion's details, or null
  nlohmann::json previous;    // what the endpoint served before (history SIDE), or null
  nlohmann::json candidate;   // what was asked for (history SIDE)
  std::string history_error;  // why the history could not be appended ("" when it was)
  uint64_t history_seq = 0;   // the history event's number
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
  // The same with a cause and an optional promotion policy. With a policy and an endpoint
  // already serving, the candidate is compared with the serving version (promotion.h): when it
  // does not beat it, nothing changes but the history ("promotion_refused") and the outcome says
  // why. An endpoint that does not exist yet is created (there is nothing to beat). Throws what
  // deploy throws, and Error(kInput) when a version does not report the policy's metric.
  DeployOutcome deploy(const DeployRequest& request);

  // Goes back to the version the endpoint served before its current one (replaying its
  // history: repeated rollbacks walk further back), or to version `version` of the model it
  // serves. Throws Error(kNotFound) for an unknown endpoint or version, Error(kConflict) when
  // there is no previous version or the endpoint already serves the one named, Error(kUsage)
  // for a named version when the endpoint serves an artifact outside the registry.
  DeployOutcome rollback(const std::string& name, std::optional<int> version,
                         const std::string& cause);

  // Where rollback(name) without a version would go (a history SIDE: model, version,
  // model_uri, ...), or nullopt when there is no previous version. Reads without locking.
  std::optional<nlohmann::json> rollback_target(const std::string& name) const;

  // The endpoint's history, oldest first (history.h). Throws Error(kNotFound) when the endpoint
  // neither exists nor has a history.
  HistoryRead history(const std::string& name) const;
  // Appends a "load_failed" event for the record's generation unless one is there already (a
  // server noticed that a deployment made elsewhere cannot be loaded). `serving`: the record
  // whose model keeps serving, if any.
  void record_load_failure(const Endpoint& record, const std::string& error,
                           const Endpoint* serving);

  std::optional<Endpoint> find(const std::string& name) const;
  // Throws Error(kNotFound) naming the endpoint and listing the known ones.
  Endpoint get(const std::string& name) const;
  std::vector<Endpoint> list() const;  // sorted by name; unreadable records are skipped
  bool remove(const std::string& name, const std::string& cause = "api");

 private:
  // Appends to the history, first reconstructing a change the record holds but the history
  // lacks (a process that died between the two). Holds no lock: callers hold the lock.
  uint64_t append_event(const std::string& name, nlohmann::json event,
                        const std::optional<Endpoint>& current) const;
  HistoryRead reconcile(const std::string& name, const std::optional<Endpoint>& current) const;
  // load_for_serving; a failure is recorded in an existing endpoint's history, then rethrown.
  std::shared_ptr<const registry::Artifact> load_candidate(const std::string& name,
                                                           const std::string& model_uri,
                                                           const std::filesystem::path& path,
                                                           const std::string& cause) const;
  DeployOutcome install_locked(const DeployRequest& request, const std::filesystem::path& path,
                               std::shared_ptr<const registry::Artifact> artifact,
                               const std::string& event, bool to_previous);

  Home home_;
  std::filesystem::path dir_;
  HistoryLog log_;
};

// One side of a history event: what an endpoint record serves (model, version, pinned URI,
// artifact, metrics).
nlohmann::json history_side(const Endpoint& e);

// What deploy_model, POST /deploy and `reco endpoints deploy --json` answer: the record plus
// "created" (the name was new), "status" ("Created" / "Updated"), "state" ("InService": the
// model is loaded and validated) and the model's n_users / n_items.
nlohmann::json deploy_result(const DeployedModel& deployed, bool created);
// deploy_result for an outcome: applied ones as above plus "event", "previous" and, with a
// policy, "promoted", "reason" and "promotion"; a refused one is the endpoint as it still is with
// "status": "PromotionRefused", "promoted": false, "reason", "promotion" and "candidate".
nlohmann::json deploy_result(const DeployOutcome& outcome);

// Loads and validates an artifact for serving; throws like registry::read_artifact plus
// Error(kCorrupt) when the model fails validate().
std::shared_ptr<const registry::Artifact> load_for_serving(const std::filesystem::path& path);

}  // namespace reco::deployment
