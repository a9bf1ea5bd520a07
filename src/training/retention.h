#pragma once
// Model versions kept by policy (registry/model_registry.h RetentionPolicy): applied after every
// publish and by `reco models gc`; `reco models delete` removes versions on request. A version
// an endpoint serves is never removed (nor is the newest, nor, by the policy, one an endpoint
// would roll back to); deletion is crash-safe (a version is renamed out of the listing before it
// is deleted).

#include <optional>
#include <string>
#include <vector>

#include "core/home.h"
#include "registry/model_registry.h"

namespace reco::training {

struct RetentionReport {
  std::vector<registry::Version> removed;
  std::vector<std::string> kept_in_use;  // "models:/m/3 (endpoint ep)"
};

// Applies each model's policy (or only `model`'s).
RetentionReport apply_retention(const Home& home, const std::optional<std::string>& model = {});
// Deletes one version, or every version of the model (then the model is gone). Throws
// Error(kConflict) naming the endpoint when one serves a version to delete, Error(kNotFound)
// for an unknown model or version.
RetentionReport delete_versions(const Home& home, const std::string& model,
                                std::optional<int> version);

}  // namespace reco::training
