#pragma once
// The models a process serves, one per endpoint, shared by the HTTP server and the SQL
// function invoke_model. get() hands out a shared_ptr: a request keeps the model it started
// with even if the endpoint is redeployed meanwhile (hot swap), and a new model is installed
// only after it has been loaded and validated completely. If loading a redeployed artifact
// fails, the previous model keeps serving and the failure is reported by status().
//
// Records changed by other processes (deploy_model in `reco sql`, another server) are noticed
// by re-reading the endpoint record at most once per refresh interval.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "deployment/endpoints.h"

namespace reco::deployment {

struct LiveModel {
  Endpoint endpoint;  // the record this model was loaded from
  std::shared_ptr<const registry::Artifact> artifact;
  std::string loaded_at;  // RFC 3339 UTC

  const algorithms::Model& model() const { return *artifact->model; }
};

struct EndpointStatus {
  Endpoint endpoint;  // the current record on disk
  // "InService" (the recorded generation is loaded), "Updating" (a newer record is not loaded
  // yet), "Failed" (the newest record could not be loaded: last_error says why; an older model
  // may still be serving), "NotLoaded" (never requested in this process).
  std::string state;
  std::optional<int> serving_version;  // model_version of the model being served, if any
  std::string serving_artifact_uri;
  std::string loaded_at;
  std::string last_error;
};

class LiveModels {
 public:
  explicit LiveModels(EndpointStore& store,
                      std::chrono::milliseconds refresh_interval = std::chrono::milliseconds(500));

  // The model serving `name`. Loads it on first use; re-reads the record when the last check
  // is older than the refresh interval and loads a newer generation. Throws Error(kNotFound)
  // for an unknown endpoint, or the load error when no model of it was ever loaded.
  std::shared_ptr<const LiveModel> get(const std::string& name);

  // Installs a model just deployed by this process (no re-read, no second load).
  void install(const DeployedModel& deployed);

  // Re-reads every record now and (re)loads what changed; loaded endpoints whose record was
  // removed are dropped. Load failures are recorded, not thrown. A server calls this
  // periodically so deployments made elsewhere are picked up without waiting for a request.
  void refresh_all();

  std::vector<EndpointStatus> status() const;  // every recorded endpoint, sorted by name
  std::optional<EndpointStatus> status(const std::string& name) const;

 private:
  struct Slot {
    std::mutex load_mutex;  // one load at a time per endpoint
    std::shared_ptr<const LiveModel> live;
    uint64_t failed_generation = 0;  // the record generation whose load failed
    std::string last_error;
    std::chrono::steady_clock::time_point checked{};
  };
  std::shared_ptr<Slot> slot_for(const std::string& name);
  // Re-reads the record (unless `known` already holds it) and loads a newer generation.
  // force: ignore the refresh interval.
  std::shared_ptr<const LiveModel> refresh_slot(const std::string& name, Slot& slot, bool force,
                                                const Endpoint* known = nullptr);
  EndpointStatus status_of(const Endpoint& record) const;  // mutex_ held

  EndpointStore& store_;
  std::chrono::milliseconds refresh_;
  mutable std::mutex mutex_;  // guards slots_ and every Slot's fields except load_mutex
  std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace reco::deployment
