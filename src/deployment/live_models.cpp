#include "deployment/live_models.h"

#include <set>

#include "core/clock.h"
#include "core/error.h"

namespace reco::deployment {

using Clock = std::chrono::steady_clock;

LiveModels::LiveModels(EndpointStore& store, std::chrono::milliseconds refresh_interval)
    : store_(store), refresh_(refresh_interval) {}

std::shared_ptr<LiveModels::Slot> LiveModels::slot_for(const std::string& name) {
  const std::lock_guard lock(mutex_);
  auto& slot = slots_[name];
  if (!slot) slot = std::make_shared<Slot>();
  return slot;
}

std::shared_ptr<const LiveModel> LiveModels::get(const std::string& name) {
  const auto slot = slot_for(name);
  {
    const std::lock_guard lock(mutex_);
    if (slot->live && Clock::now() - slot->checked < refresh_) return slot->live;
  }
  return refresh_slot(name, *slot, false);
}

std::shared_ptr<const LiveModel> LiveModels::refresh_slot(const std::string& name, Slot& slot,
                                                          bool force, const Endpoint* known) {
  std::unique_lock load_lock(slot.load_mutex, std::defer_lock);
  {
    std::shared_ptr<const LiveModel> current;
    {
      const std::lock_guard lock(mutex_);
      current = slot.live;
    }
    // While another thread loads, requests keep being answered by the model in service.
    if (current && !force) {
      if (!load_lock.try_lock()) return current;
    } else {
      load_lock.lock();
    }
  }
  const auto started = Clock::now();
  {
    const std::lock_guard lock(mutex_);
    if (!force && slot.live && started - slot.checked < refresh_) return slot.live;
  }

  std::optional<Endpoint> record;
  try {
    record = known ? std::optional<Endpoint>(*known) : store_.find(name);
  } catch (const Error& e) {
    const std::lock_guard lock(mutex_);
    slot.last_error = e.what();
    slot.checked = started;
    if (slot.live) return slot.live;
    throw;
  }
  if (!record) {
    {
      const std::lock_guard lock(mutex_);
      slot.live.reset();
      slot.last_error.clear();
    }
    store_.get(name);  // throws Error(kNotFound) naming the deployed endpoints
    throw Error(ErrorKind::kNotFound, "no endpoint named '" + name + "'");
  }
  {
    const std::lock_guard lock(mutex_);
    slot.checked = started;
    if (slot.live && slot.live->endpoint.generation == record->generation &&
        slot.live->endpoint.artifact_path == record->artifact_path)
      return slot.live;
    if (slot.failed_generation == record->generation) {
      if (slot.live) return slot.live;
      throw Error(ErrorKind::kCorrupt, slot.last_error);
    }
  }
  std::shared_ptr<const registry::Artifact> artifact;
  try {
    artifact = load_for_serving(record->artifact_path);
  } catch (const Error& e) {
    std::shared_ptr<const LiveModel> serving;
    std::string message;
    {
      const std::lock_guard lock(mutex_);
      slot.failed_generation = record->generation;
      slot.last_error = "cannot load generation " + std::to_string(record->generation) + " (" +
                        record->model_uri + "): " + e.what();
      serving = slot.live;
      message = slot.last_error;
    }
    try {
      store_.record_load_failure(*record, message, serving ? &serving->endpoint : nullptr);
    } catch (const Error&) {
      // A history that cannot be written (read-only home) must not stop serving.
    }
    if (serving) return serving;  // the previous model keeps serving
    throw;
  }
  auto live = std::make_shared<const LiveModel>(
      LiveModel{std::move(*record), std::move(artifact), utc_timestamp()});
  const std::lock_guard lock(mutex_);
  slot.live = live;
  slot.failed_generation = 0;
  slot.last_error.clear();
  return live;
}

void LiveModels::install(const DeployedModel& deployed) {
  const auto slot = slot_for(deployed.endpoint.name);
  const std::lock_guard load_lock(slot->load_mutex);
  auto live = std::make_shared<const LiveModel>(
      LiveModel{deployed.endpoint, deployed.artifact, utc_timestamp()});
  const std::lock_guard lock(mutex_);
  // A concurrent deployment may already have installed a newer generation.
  if (slot->live && slot->live->endpoint.generation > deployed.endpoint.generation) return;
  slot->live = std::move(live);
  slot->failed_generation = 0;
  slot->last_error.clear();
  slot->checked = Clock::now();
}

void LiveModels::refresh_all() {
  const std::vector<Endpoint> records = store_.list();
  std::set<std::string> names;
  for (const auto& e : records) names.insert(e.name);
  {
    const std::lock_guard lock(mutex_);
    for (auto it = slots_.begin(); it != slots_.end();) {
      if (!names.count(it->first)) {
        it->second->live.reset();
        it = slots_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& record : records) {
    try {
      refresh_slot(record.name, *slot_for(record.name), true, &record);
    } catch (const Error&) {
      // Recorded in the slot; status() reports it.
    }
  }
}

EndpointStatus LiveModels::status_of(const Endpoint& record) const {
  EndpointStatus st;
  st.endpoint = record;
  const auto it = slots_.find(record.name);
  if (it == slots_.end() || (!it->second->live && it->second->last_error.empty())) {
    st.state = "NotLoaded";
    return st;
  }
  const Slot& slot = *it->second;
  if (slot.live) {
    st.serving_version = slot.live->endpoint.model_version;
    st.serving_artifact_uri = slot.live->endpoint.artifact_uri;
    st.loaded_at = slot.live->loaded_at;
  }
  st.last_error = slot.last_error;
  if (slot.failed_generation == record.generation && !slot.last_error.empty()) {
    st.state = "Failed";
  } else if (slot.live && slot.live->endpoint.generation == record.generation) {
    st.state = "InService";
  } else {
    st.state = "Updating";
  }
  return st;
}

std::vector<EndpointStatus> LiveModels::status() const {
  const auto records = store_.list();
  const std::lock_guard lock(mutex_);
  std::vector<EndpointStatus> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(status_of(r));
  return out;
}

std::optional<EndpointStatus> LiveModels::status(const std::string& name) const {
  const auto record = store_.find(name);
  if (!record) return std::nullopt;
  const std::lock_guard lock(mutex_);
  return status_of(*record);
}

}  // namespace reco::deployment
