#include "deployment/endpoints.h"
#include "core/json.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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

// Serialises read-modify-write of endpoint records between processes (flock on a lock file in
// the endpoints directory); released on destruction.
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& dir) {
    ensure_directory(dir);
    const fs::path path = dir / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const int err = errno;
        ::close(fd_);
        throw Error(ErrorKind::kIo,
                    fmt::format("cannot lock {}: {}", path.string(), std::strerror(err)));
      }
    }
  }
  ~DirectoryLock() { ::close(fd_); }  // closing releases the lock
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

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

}  // namespace

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
              {"generation", generation}};
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

std::shared_ptr<const registry::Artifact> load_for_serving(const fs::path& path) {
  auto artifact = std::make_shared<registry::Artifact>(registry::read_artifact(path));
  try {
    artifact->model->validate();
  } catch (const Error& e) {
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: {}", path.string(), e.what()));
  }
  return artifact;
}

EndpointStore::EndpointStore(const Home& home) : home_(home), dir_(home.root() / "endpoints") {}

void EndpointStore::validate_name(std::string_view name) {
  if (registry::ModelRegistry::is_valid_name(name)) return;
  throw Error(ErrorKind::kUsage,
              fmt::format("invalid endpoint name '{}': an endpoint name is 1 to 128 characters "
                          "from A-Z a-z 0-9 . _ - and starts with a letter or digit",
                          std::string(name.substr(0, 200))));
}

DeployedModel EndpointStore::deploy(const std::string& name, const std::string& model_uri,
                                    bool* created) {
  validate_name(name);
  if (model_uri.empty())
    throw Error(ErrorKind::kUsage,
                "model URL is empty: give models:/NAME[/VERSION], "
                "file:///path/to/model.reco or a path");
  const registry::ModelRegistry models(home_.models_dir());
  const fs::path path = fs::absolute(registry::path_from_uri(model_uri, models)).lexically_normal();
  // Everything that can fail about the artifact fails here, before the record is touched.
  auto artifact = load_for_serving(path);

  Endpoint e;
  e.name = name;
  e.model_uri = model_uri;
  e.artifact_path = path.string();
  e.artifact_uri = registry::artifact_uri(path);
  if (const auto version = models.version_of(path)) {
    e.model_name = version->name;
    e.model_version = version->number;
  }
  e.algorithm = artifact->model->algorithm;
  e.updated_at = utc_timestamp();

  const DirectoryLock lock(dir_);
  const auto previous = find(name);
  e.created_at = previous ? previous->created_at : e.updated_at;
  e.generation = previous ? previous->generation + 1 : 1;
  write_file_atomic(dir_ / (name + kRecordSuffix), json_text(e.to_json(), 2) + "\n");
  if (created) *created = !previous;
  return {std::move(e), std::move(artifact)};
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
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    if (p.extension() != kRecordSuffix) continue;
    const std::string name = p.stem().string();
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

bool EndpointStore::remove(const std::string& name) {
  validate_name(name);
  const DirectoryLock lock(dir_);
  std::error_code ec;
  return fs::remove(dir_ / (name + kRecordSuffix), ec);
}

}  // namespace reco::deployment
