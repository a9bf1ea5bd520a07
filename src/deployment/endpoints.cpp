#include "deployment/endpoints.h"
#include "core/json.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/fs.h"
#include "registry/model_registry.h"

namespace reco::deployment {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kRecordSuffix = ".json";

template <typename T>
T field(const json& j, const char* key, const std::string& source) {
  const auto it = j.find(key);
  if (it == j.end())
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: endpoint record lacks \"{}\"", source, key));
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Error(ErrorKind::kCorrupt,
                fmt::format("{}: endpoint record field \"{}\" has the wrong type", source, key));
  }
}

// The URI that names exactly what a record serves: models:/NAME/N, else the artifact's file URI.
std::string pinned_uri(const Endpoint& e) {
  if (!e.model_name.empty() && e.model_version > 0)
    return fmt::format("models:/{}/{}", e.model_name, e.model_version);
  return e.artifact_uri;
}

// What a record's artifact reports; records written before metrics were kept read its header.
ModelMetrics metrics_of(const Endpoint& e) {
  if (!e.metrics.data_fingerprint.empty() || e.metrics.cv_rmse) return e.metrics;
  try {
    return ModelMetrics::from_metadata(registry::read_artifact_metadata(e.artifact_path));
  } catch (const Error&) {
    return e.metrics;  // the artifact is gone or damaged: nothing known
  }
}

}  // namespace

json history_side(const Endpoint& e) {
  json j = {{"model", e.model_name.empty() ? json(nullptr) : json(e.model_name)},
            {"version", e.model_version == 0 ? json(nullptr) : json(e.model_version)},
            {"model_uri", pinned_uri(e)},
            {"artifact_uri", e.artifact_uri},
            {"algorithm", e.algorithm}};
  j.update(metrics_of(e).to_json());
  return j;
}

json Endpoint::to_json() const {
  return json{{"name", name},
              {"model_uri", model_uri},
              {"artifact_path", artifact_path},
              {"artifact_uri", artifact_uri},
              {"model", model_name.empty() ? json(nullptr) : json(model_name)},
              {"version", model_version == 0 ? json(nullptr) : json(model_version)},
              {"algorithm", algorithm},
              {"created_at", created_at},
              {"updated_at", updated_at},
              {"generation", generation},
              {"cause", cause.empty() ? json(nullptr) : json(cause)},
              {"event", event.empty() ? json(nullptr) : json(event)},
              {"metrics", metrics.to_json()}};
}

Endpoint Endpoint::from_json(const json& j, const std::string& source) {
  if (!j.is_object())
    throw Error(ErrorKind::kCorrupt,
                fmt::format("{}: endpoint record is not a JSON object", source));
  Endpoint e;
  e.name = field<std::string>(j, "name", source);
  e.model_uri = field<std::string>(j, "model_uri", source);
  e.artifact_path = field<std::string>(j, "artifact_path", source);
  e.artifact_uri = field<std::string>(j, "artifact_uri", source);
  if (j.contains("model") && !j["model"].is_null())
    e.model_name = field<std::string>(j, "model", source);
  if (j.contains("version") && !j["version"].is_null())
    e.model_version = field<int>(j, "version", source);
  e.algorithm = field<std::string>(j, "algorithm", source);
  e.created_at = field<std::string>(j, "created_at", source);
  e.updated_at = field<std::string>(j, "updated_at", source);
  e.generation = field<uint64_t>(j, "generation", source);
  // Records written before histories and promotion lack these.
  if (j.contains("cause") && j["cause"].is_string()) e.cause = j["cause"].get<std::string>();
  if (j.contains("event") && j["event"].is_string()) e.event = j["event"].get<std::string>();
  if (j.contains("metrics")) e.metrics = ModelMetrics::from_json(j["metrics"]);
  return e;
}

json deploy_result(const DeployedModel& deployed, bool created) {
  json out = deployed.endpoint.to_json();
  out["created"] = created;
  out["status"] = created ? "Created" : "Updated";
  out["state"] = "InService";
  out["n_users"] = deployed.artifact->model->n_users();
  out["n_items"] = deployed.artifact->model->n_items();
  return out;
}

json deploy_result(const DeployOutcome& o) {
  json out;
  if (o.applied) {
    out = deploy_result(o.deployed, o.created);
  } else {
    out = o.deployed.endpoint.to_json();
    out["created"] = false;
    out["status"] = "PromotionRefused";
    out["state"] = "Unchanged";
    out["candidate"] = o.candidate;
  }
  out["event"] = o.event;
  out["previous"] = o.previous;
  if (!o.promotion.is_null()) {
    out["promoted"] = o.applied;
    out["reason"] = o.reason;
    out["promotion"] = o.promotion;
  }
  out["history_seq"] = o.history_seq;
  if (!o.history_error.empty()) out["history_error"] = o.history_error;
  return out;
}

std::shared_ptr<const registry::Artifact> load_for_serving(const fs::path& path) {
  auto artifact = std::make_shared<registry::Artifact>(registry::read_artifact(path));
  try {
    artifact->model->validate();
  } catch (const Error& e) {
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: {}", path.string(), e.what()));
  }
  return artifact;
}

EndpointStore::EndpointStore(const Home& home)
    : home_(home), dir_(home.root() / "endpoints"), log_(dir_ / "history") {}

void EndpointStore::validate_name(std::string_view name) {
  if (registry::ModelRegistry::is_valid_name(name)) return;
  throw Error(ErrorKind::kUsage,
              fmt::format("invalid endpoint name '{}': an endpoint name is 1 to 128 characters "
                          "from A-Z a-z 0-9 . _ - and starts with a letter or digit",
                          std::string(name.substr(0, 200))));
}

DeployedModel EndpointStore::deploy(const std::string& name, const std::string& model_uri,
                                    bool* created) {
  DeployRequest request;
  request.name = name;
  request.model_uri = model_uri;
  DeployOutcome o = deploy(request);
  if (created) *created = o.created;
  return std::move(o.deployed);
}

DeployOutcome EndpointStore::deploy(const DeployRequest& request) {
  validate_name(request.name);
  if (request.model_uri.empty())
    throw Error(ErrorKind::kUsage,
                "model URL is empty: give models:/NAME[/VERSION], "
                "file:///path/to/model.reco or a path");
  if (request.promote_if) request.promote_if->validate();
  const registry::ModelRegistry models(home_.models_dir());
  const fs::path path =
      fs::absolute(registry::path_from_uri(request.model_uri, models)).lexically_normal();
  // Everything that can fail about the artifact fails here, before the record is touched.
  auto artifact = load_candidate(request.name, request.model_uri, path, request.cause);
  const DirectoryLock lock(dir_ / ".lock");
  return install_locked(request, path, std::move(artifact), "deploy", false);
}

std::shared_ptr<const registry::Artifact> EndpointStore::load_candidate(
    const std::string& name, const std::string& model_uri, const fs::path& path,
    const std::string& cause) const {
  try {
    return load_for_serving(path);
  } catch (const Error& e) {
    // An existing endpoint's history shows the attempt; the endpoint itself is untouched.
    try {
      const DirectoryLock lock(dir_ / ".lock");
      if (const auto current = find(name)) {
        append_event(
            name,
            {{"event", "load_failed"},
             {"cause", cause},
             {"generation", current->generation},
             {"old", history_side(*current)},
             {"new", {{"model_uri", model_uri}, {"artifact_uri", registry::artifact_uri(path)}}},
             {"reason", e.what()}},
            current);
      }
    } catch (const Error&) {
      // The failure to report is the load's, not the history's.
    }
    throw;
  }
}

DeployOutcome EndpointStore::install_locked(const DeployRequest& request, const fs::path& path,
                                            std::shared_ptr<const registry::Artifact> artifact,
                                            const std::string& event, bool to_previous) {
  const registry::ModelRegistry models(home_.models_dir());
  Endpoint e;
  e.name = request.name;
  e.model_uri = request.model_uri;
  e.artifact_path = path.string();
  e.artifact_uri = registry::artifact_uri(path);
  if (const auto version = models.version_of(path)) {
    e.model_name = version->name;
    e.model_version = version->number;
  }
  e.algorithm = artifact->model->algorithm;
  e.updated_at = utc_timestamp();
  e.cause = request.cause;
  e.event = event;
  e.metrics = ModelMetrics::from_metadata(artifact->metadata);

  const auto previous = find(request.name);
  DeployOutcome out;
  out.previous = previous ? history_side(*previous) : json(nullptr);
  out.candidate = history_side(e);
  json record = {{"event", event}, {"cause", request.cause}};
  if (request.promote_if) {
    if (previous) {
      const PromotionDecision d = decide_promotion(*request.promote_if, e.metrics, pinned_uri(e),
                                                   metrics_of(*previous), pinned_uri(*previous));
      out.promotion = d.details;
      out.reason = d.reason;
      if (!d.promote) {
        out.applied = false;
        out.event = "promotion_refused";
        out.deployed = {*previous, std::move(artifact)};
        out.history_seq = append_event(request.name,
                                       {{"event", out.event},
                                        {"cause", request.cause},
                                        {"generation", previous->generation},
                                        {"old", out.previous},
                                        {"new", out.candidate},
                                        {"reason", out.reason},
                                        {"promotion", out.promotion}},
                                       previous);
        return out;
      }
    } else {
      out.reason = fmt::format(
          "promoted: endpoint {} is new, so there is no serving version "
          "to compare with",
          request.name);
      out.promotion = {{"metric", request.promote_if->metric},
                       {"margin", request.promote_if->margin},
                       {"promoted", true},
                       {"note", "no serving version"}};
    }
    record["promotion"] = out.promotion;
    record["reason"] = out.reason;
  }
  e.created_at = previous ? previous->created_at : e.updated_at;
  e.generation = previous ? previous->generation + 1 : 1;
  write_file_atomic(dir_ / (request.name + kRecordSuffix), json_text(e.to_json(), 2) + "\n");
  out.created = !previous;
  out.event = event;
  record["generation"] = e.generation;
  record["old"] = out.previous;
  record["new"] = out.candidate;
  if (event == "rollback") record["to_previous"] = to_previous;
  try {
    out.history_seq = append_event(request.name, std::move(record), previous);
  } catch (const Error& err) {
    // The change is made; the next change or history read reconstructs its event.
    out.history_error = err.what();
  }
  out.deployed = {std::move(e), std::move(artifact)};
  return out;
}

DeployOutcome EndpointStore::rollback(const std::string& name, std::optional<int> version,
                                      const std::string& cause) {
  validate_name(name);
  std::string target;
  bool to_previous = !version;
  uint64_t generation = 0;
  {
    const DirectoryLock lock(dir_ / ".lock");
    const auto current = find(name);
    if (!current) get(name);  // throws Error(kNotFound) naming the deployed endpoints
    generation = current->generation;
    if (version) {
      if (current->model_name.empty() || current->model_version == 0)
        throw Error(ErrorKind::kUsage,
                    fmt::format("endpoint {} serves {}, an artifact outside the model registry: "
                                "a version can be named only for registry models; roll back "
                                "without one to return to the previous deployment",
                                name, current->artifact_uri));
      if (*version == current->model_version)
        throw Error(ErrorKind::kConflict,
                    fmt::format("endpoint {} already serves version {} of model {}", name, *version,
                                current->model_name));
      target = fmt::format("models:/{}/{}", current->model_name, *version);
    } else {
      const auto stack = deployment_stack(reconcile(name, current).events);
      if (stack.size() < 2)
        throw Error(ErrorKind::kConflict,
                    fmt::format("endpoint {} has no previous version to roll back to: its "
                                "history holds only what it serves now ({}); name a version "
                                "of its model to go to, or deploy another model",
                                name, pinned_uri(*current)));
      target = stack[stack.size() - 2].value("model_uri", "");
    }
  }
  const registry::ModelRegistry models(home_.models_dir());
  fs::path path;
  try {
    path = fs::absolute(registry::path_from_uri(target, models)).lexically_normal();
  } catch (const Error& e) {
    throw Error(e.kind(),
                fmt::format("cannot roll back endpoint {} to {}: {}", name, target, e.what()));
  }
  auto artifact = load_candidate(name, target, path, cause);
  const DirectoryLock lock(dir_ / ".lock");
  const auto current = find(name);
  if (!current || current->generation != generation)
    throw Error(ErrorKind::kConflict,
                fmt::format("endpoint {} changed while rolling it back (generation {} is now {}); "
                            "nothing was done: look at its history and try again",
                            name, generation, current ? current->generation : 0));
  DeployRequest request;
  request.name = name;
  request.model_uri = target;
  request.cause = cause;
  return install_locked(request, path, std::move(artifact), "rollback", to_previous);
}

HistoryRead EndpointStore::reconcile(const std::string& name,
                                     const std::optional<Endpoint>& current) const {
  HistoryRead read = log_.read(name);
  if (!current || last_changed_generation(read.events) == current->generation) return read;
  // The record holds a change the history lacks: its process stopped between the two writes,
  // or the endpoint predates histories.
  const auto stack = deployment_stack(read.events);
  json event = {{"event", current->event.empty() ? "deploy" : current->event},
                {"cause", current->cause.empty() ? "unknown" : current->cause},
                {"generation", current->generation},
                {"old", stack.empty() ? json(nullptr) : stack.back()},
                {"new", history_side(*current)},
                {"reconstructed", true},
                {"reason", read.events.empty()
                               ? "the endpoint was deployed before reco kept its history"
                               : "recorded from the endpoint record: the process that made this "
                                 "change stopped before writing its history"}};
  event["seq"] = read.events.empty() ? 1 : read.events.back().value("seq", uint64_t{0}) + 1;
  event["time"] = current->updated_at;
  event["endpoint"] = name;
  log_.append(name, event);
  read.events.push_back(std::move(event));
  return read;
}

uint64_t EndpointStore::append_event(const std::string& name, json event,
                                     const std::optional<Endpoint>& current) const {
  const HistoryRead read = reconcile(name, current);
  const uint64_t seq = read.events.empty() ? 1 : read.events.back().value("seq", uint64_t{0}) + 1;
  json line = {{"seq", seq}, {"time", utc_timestamp_ms()}, {"endpoint", name}};
  line.update(event);
  log_.append(name, line);
  return seq;
}

std::optional<json> EndpointStore::rollback_target(const std::string& name) const {
  if (!registry::ModelRegistry::is_valid_name(name)) return std::nullopt;
  const auto stack = deployment_stack(log_.read(name).events);
  if (stack.size() < 2) return std::nullopt;
  return stack[stack.size() - 2];
}

HistoryRead EndpointStore::history(const std::string& name) const {
  validate_name(name);
  try {
    const DirectoryLock lock(dir_ / ".lock");
    const auto current = find(name);
    if (!current && !log_.exists(name)) get(name);  // throws Error(kNotFound)
    return reconcile(name, current);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotFound || e.kind() == ErrorKind::kCorrupt) throw;
    // A home this process cannot write (no lock file, no reconstruction): what is there.
    if (!find(name) && !log_.exists(name)) get(name);
    return log_.read(name);
  }
}

void EndpointStore::record_load_failure(const Endpoint& record, const std::string& error,
                                        const Endpoint* serving) {
  const DirectoryLock lock(dir_ / ".lock");
  for (const json& e : log_.read(record.name).events) {
    if (e.value("event", "") == "load_failed" && e.contains("detected_by") &&
        e.value("generation", uint64_t{0}) == record.generation)
      return;  // another process (or an earlier attempt) recorded it
  }
  append_event(record.name,
               {{"event", "load_failed"},
                {"cause", record.cause.empty() ? "unknown" : record.cause},
                {"detected_by", fmt::format("reco process {}", ::getpid())},
                {"generation", record.generation},
                {"old", serving ? history_side(*serving) : json(nullptr)},
                {"new", history_side(record)},
                {"reason", error}},
               find(record.name));
}

std::optional<Endpoint> EndpointStore::find(const std::string& name) const {
  if (!registry::ModelRegistry::is_valid_name(name)) return std::nullopt;
  const fs::path path = dir_ / (name + kRecordSuffix);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const auto read = read_file_if_exists(path);
  if (!read) return std::nullopt;  // removed meanwhile
  const std::string& text = *read;
  json j;
  try {
    j = parse_json(text);
  } catch (const json::parse_error& err) {
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: endpoint record is not valid JSON: {}",
                                                 path.string(), err.what()));
  }
  return Endpoint::from_json(j, path.string());
}

std::vector<Endpoint> EndpointStore::list() const {
  std::vector<Endpoint> out;
  for (const std::string& name : names_with_suffix(dir_, kRecordSuffix)) {
    try {
      if (auto e = find(name)) out.push_back(std::move(*e));
    } catch (const Error&) {
      // A damaged record is skipped here; get(name) reports it.
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Endpoint& a, const Endpoint& b) { return a.name < b.name; });
  return out;
}

Endpoint EndpointStore::get(const std::string& name) const {
  if (auto e = find(name)) return *e;
  std::string known;
  for (const auto& e : list()) known += (known.empty() ? "" : ", ") + e.name;
  throw Error(
      ErrorKind::kNotFound,
      fmt::format("no endpoint named '{}' ({}); deploy one with "
                  "deploy_model('{}', 'models:/MODEL')",
                  name.substr(0, 200), known.empty() ? "none deployed" : "deployed: " + known,
                  name.substr(0, 200)));
}

bool EndpointStore::remove(const std::string& name, const std::string& cause) {
  validate_name(name);
  const DirectoryLock lock(dir_ / ".lock");
  const auto current = find(name);
  std::error_code ec;
  if (!fs::remove(dir_ / (name + kRecordSuffix), ec)) return false;
  if (current) {
    try {
      append_event(name,
                   {{"event", "delete"},
                    {"cause", cause},
                    {"generation", 0},
                    {"old", history_side(*current)},
                    {"new", nullptr}},
                   current);
    } catch (const Error&) {
      // The endpoint is deleted; its history only misses the deletion.
    }
  }
  return true;
}

}  // namespace reco::deployment
