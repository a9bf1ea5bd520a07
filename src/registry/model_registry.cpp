#include "registry/model_registry.h"
#include "core/json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "registry/artifact.h"

namespace reco::registry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxNameLength = 128;
constexpr std::string_view kAcceptedLocations =
    "accepted forms: file:///absolute/path/model.reco, a plain file path, models:/<name> (latest "
    "version) or models:/<name>/<version>";

// Quotes text for an error message; control and non-ASCII bytes become \xNN so the message
// stays one readable line whatever the input was.
std::string show(std::string_view text) {
  std::string out = "'";
  for (unsigned char ch : text) {
    if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("\\x{:02x}", ch);
    }
  }
  return out + "'";
}

bool is_name_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '.' || ch == '_' || ch == '-';
}

// Positive decimal without sign or leading zeros, fitting an int.
std::optional<int> parse_positive(std::string_view digits) {
  if (digits.empty() || digits[0] == '0' ||
      !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  int value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// "v<N>" -> N.
std::optional<int> parse_version_dir(std::string_view dir_name) {
  if (dir_name.size() < 2 || dir_name[0] != 'v') return std::nullopt;
  return parse_positive(dir_name.substr(1));
}

std::string version_dir_name(int number) {
  return fmt::format("v{}", number);
}

std::vector<fs::directory_entry> entries_of(const fs::path& dir) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return out;
    throw Error(ErrorKind::kIo, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    out.push_back(*it);
  }
  if (ec)
    throw Error(ErrorKind::kIo, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  return out;
}

bool regular_file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}
bool directory_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

std::string join_ints(const std::vector<int>& values) {
  std::string out;
  for (int v : values) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out;
}

}  // namespace

std::optional<double> cv_mean(const json& metadata, const char* key) {
  const auto cv = metadata.find("cv");
  if (cv == metadata.end() || !cv->is_object()) return std::nullopt;
  const auto mean = cv->find("mean");
  if (mean != cv->end() && mean->is_object()) {
    const auto value = mean->find(key);
    if (value != mean->end() && value->is_number()) return value->get<double>();
  }
  const auto folds = cv->find(key);
  if (folds == cv->end() || !folds->is_array() || folds->empty()) return std::nullopt;
  double sum = 0;
  for (const auto& v : *folds) {
    if (!v.is_number()) return std::nullopt;
    sum += v.get<double>();
  }
  return sum / static_cast<double>(folds->size());
}

ModelRegistry::ModelRegistry(fs::path models_dir) : models_dir_(std::move(models_dir)) {}

bool ModelRegistry::is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  const char first = name[0];
  if (first == '.' || first == '_' || first == '-') return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

void ModelRegistry::validate_name(std::string_view name) {
  if (is_valid_name(name)) return;
  throw Error(ErrorKind::kUsage,
              fmt::format("invalid model name {}: a model name is 1 to {} characters from "
                          "A-Z a-z 0-9 . _ - and starts with a letter or digit "
                          "([A-Za-z0-9][A-Za-z0-9._-]{{0,127}})",
                          show(name), kMaxNameLength));
}

Version ModelRegistry::reserve_version(const std::string& name) {
  return reserve_version(name, json::object());
}

Version ModelRegistry::reserve_version(const std::string& name, const json& run_info) {
  validate_name(name);
  if (!run_info.is_object()) {
    throw Error(ErrorKind::kInternal, "reserve_version: run information must be an object");
  }
  const fs::path model_dir = models_dir_ / name;
  ensure_directory(model_dir);
  json reservation = run_info;
  reservation["state"] = "InProgress";
  reservation["pid"] = static_cast<int64_t>(::getpid());
  const std::string text = json_text(reservation, 2) + "\n";

  // The directory with its run.json, under a name recovery removes once this process is gone.
  const fs::path staging =
      models_dir_ / fmt::format(".reserve-{}.tmp-{}-{}", name, ::getpid(), std::random_device{}());
  if (::mkdir(staging.c_str(), 0755) != 0) {
    throw write_error("cannot create version directory " + staging.string(), errno);
  }
  bool staged = true;
  auto drop_staging = [&] {
    std::error_code ec;
    if (staged) fs::remove_all(staging, ec);
  };
  try {
    write_file_atomic(staging / kRunInfoFileName, text);
  } catch (...) {
    drop_staging();
    throw;
  }

  // Start past every existing entry, complete or not, so a crashed run's number is not reused.
  int next = 1;
  for (const auto& entry : entries_of(model_dir)) {
    const auto n = parse_version_dir(entry.path().filename().string());
    if (n) next = std::max(next, *n == INT_MAX ? INT_MAX : *n + 1);
  }
  // The rename (or mkdir) is the arbiter between concurrent writers: exactly one of them
  // creates v<N>; the others see EEXIST and try the next number.
  for (;; ++next) {
    const fs::path dir = model_dir / version_dir_name(next);
    if (staged) {
      if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) == 0) {
        return Version{name, next, dir};
      }
      if (errno == EINVAL || errno == ENOSYS) {
        drop_staging();  // the file system cannot rename without replacing
        staged = false;
      }
    }
    if (!staged) {
      if (::mkdir(dir.c_str(), 0755) == 0) {
        const Version v{name, next, dir};
        write_run_info(v, reservation);
        return v;
      }
    }
    if (errno != EEXIST) {
      const int err = errno;
      drop_staging();
      throw write_error("cannot create version directory " + dir.string(), err);
    }
    if (next == INT_MAX) {
      drop_staging();
      throw Error(
          ErrorKind::kConflict,
          fmt::format("model {} has used every version number up to {}", show(name), INT_MAX));
    }
  }
}

void ModelRegistry::write_run_info(const Version& version, const json& run_info) const {
  if (!directory_exists(version.dir)) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("version directory {} does not exist (reserve the version first)",
                            version.dir.string()));
  }
  std::string text;
  try {
    text = json_text(run_info, 2) + "\n";
  } catch (const json::exception& e) {
    throw Error(ErrorKind::kInput, fmt::format("run information cannot be written: {}", e.what()));
  }
  write_file_atomic(version.run_info_path(), text);
}

fs::path ModelRegistry::publish(const Version& version, const algorithms::Model& model,
                                const json& metadata, const json& run_info) const {
  stage(version, model, metadata, run_info);
  return commit_staged(version);
}

fs::path ModelRegistry::stage(const Version& version, const algorithms::Model& model,
                              const json& metadata, const json& run_info) const {
  const fs::path artifact = version.artifact_path();
  if (fs::exists(fs::symlink_status(artifact))) {
    throw Error(ErrorKind::kConflict,
                fmt::format("model {} version {} is already published at {}", show(version.name),
                            version.number, artifact.string()));
  }
  // Encode before writing anything, so an unwritable model leaves no run.json behind either.
  const std::string bytes = encode_artifact(model, metadata);
  write_run_info(version, run_info);
  write_file_atomic(version.staged_path(), bytes);
  return artifact;
}

fs::path ModelRegistry::commit_staged(const Version& version) const {
  // model.reco appears last, in one rename: its appearance is what makes the version complete.
  const fs::path artifact = version.artifact_path();
  if (::rename(version.staged_path().c_str(), artifact.c_str()) != 0) {
    throw Error(ErrorKind::kIo,
                fmt::format("cannot rename {} to {}: {}", version.staged_path().string(),
                            artifact.string(), std::strerror(errno)));
  }
  return artifact;
}

std::vector<Version> ModelRegistry::all_version_dirs() const {
  std::vector<Version> out;
  for (const std::string& name : model_names()) {
    for (const auto& entry : entries_of(models_dir_ / name)) {
      const auto n = parse_version_dir(entry.path().filename().string());
      if (n && directory_exists(entry.path())) out.push_back(Version{name, *n, entry.path()});
    }
  }
  return out;
}

RetentionPolicy ModelRegistry::policy(const std::string& name) const {
  validate_name(name);
  RetentionPolicy p;
  const auto text = read_file_if_exists(models_dir_ / name / "policy.json", 1 << 20);
  if (!text) return p;
  const auto j = try_parse_json(*text);
  if (!j || !j->is_object()) {
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: not a JSON object",
                                                 (models_dir_ / name / "policy.json").string()));
  }
  if (const auto it = j->find("keep_versions"); it != j->end() && it->is_number_integer())
    p.keep_versions = std::max(1, it->get<int>());
  if (const auto it = j->find("keep_days"); it != j->end() && it->is_number_integer())
    p.keep_days = it->get<int>();
  return p;
}

void ModelRegistry::set_policy(const std::string& name, const RetentionPolicy& p) const {
  validate_name(name);
  if (p.keep_versions < 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("keep_versions must be at least 1 (the newest version is always "
                            "kept), got {}",
                            p.keep_versions));
  }
  if (p.keep_days && *p.keep_days < 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("keep_days must be at least 1, got {}", *p.keep_days));
  }
  json j = {{"keep_versions", p.keep_versions},
            {"keep_days", p.keep_days ? json(*p.keep_days) : json(nullptr)}};
  write_file_atomic(models_dir_ / name / "policy.json", json_text(j, 2) + "\n");
}

std::vector<Version> ModelRegistry::expired(const std::string& name, const RetentionPolicy& p,
                                            const std::vector<int>& keep) const {
  validate_name(name);
  std::vector<int> complete = versions(name);
  std::vector<Version> out;
  if (complete.empty()) return out;
  const int newest = complete.back();
  const auto now = fs::file_time_type::clock::now();
  const size_t n = complete.size();
  for (size_t i = 0; i < n; ++i) {
    const int v = complete[i];
    if (v == newest || std::find(keep.begin(), keep.end(), v) != keep.end()) continue;
    const bool beyond_count = n - i > static_cast<size_t>(p.keep_versions);
    bool too_old = false;
    if (p.keep_days) {
      std::error_code ec;
      const auto t =
          fs::last_write_time(models_dir_ / name / version_dir_name(v) / kArtifactFileName, ec);
      too_old = !ec && now - t > std::chrono::hours(24) * *p.keep_days;
    }
    if (beyond_count || too_old)
      out.push_back(Version{name, v, models_dir_ / name / version_dir_name(v)});
  }
  // Rolled-back runs below the newest version: their numbers are behind it, so they can go.
  for (const auto& entry : entries_of(models_dir_ / name)) {
    const auto v = parse_version_dir(entry.path().filename().string());
    if (!v || *v >= newest || regular_file_exists(entry.path() / kArtifactFileName)) continue;
    if (regular_file_exists(entry.path() / kStagedFileName)) continue;  // being published
    const auto text = read_file_if_exists(entry.path() / kRunInfoFileName, 1 << 20);
    const auto run = text ? try_parse_json(*text) : std::nullopt;
    if (run && run->is_object() && run->value("state", "") == "Failed")
      out.push_back(Version{name, *v, entry.path()});
  }
  std::sort(out.begin(), out.end(),
            [](const Version& a, const Version& b) { return a.number < b.number; });
  return out;
}

void ModelRegistry::remove_version(const Version& v) const {
  const fs::path doomed =
      v.dir.parent_path() / fmt::format(".deleting-{}-{}", v.dir.filename().string(), ::getpid());
  if (::rename(v.dir.c_str(), doomed.c_str()) != 0) {
    throw write_error(fmt::format("cannot remove {}", v.dir.string()), errno);
  }
  std::error_code ec;
  fs::remove_all(doomed, ec);
  if (ec) {
    throw Error(ErrorKind::kIo, fmt::format("cannot remove {}: {}", doomed.string(), ec.message()));
  }
}

size_t ModelRegistry::remove_deleting(const std::string& name) const {
  size_t removed = 0;
  for (const auto& entry : entries_of(models_dir_ / name)) {
    if (entry.path().filename().string().rfind(".deleting-", 0) != 0) continue;
    std::error_code ec;
    fs::remove_all(entry.path(), ec);
    if (!ec) ++removed;
  }
  return removed;
}

std::vector<std::string> ModelRegistry::model_names() const {
  std::vector<std::string> names;
  for (const auto& entry : entries_of(models_dir_)) {
    std::string name = entry.path().filename().string();
    if (is_valid_name(name) && directory_exists(entry.path())) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int> ModelRegistry::versions(const std::string& name) const {
  validate_name(name);
  std::vector<int> out;
  for (const auto& entry : entries_of(models_dir_ / name)) {
    const auto n = parse_version_dir(entry.path().filename().string());
    if (n && regular_file_exists(entry.path() / kArtifactFileName)) out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ModelSummary> ModelRegistry::list() const {
  std::vector<ModelSummary> out;
  for (const auto& name : model_names()) {
    for (int v : versions(name)) out.push_back(summarize(name, v));
  }
  return out;
}

ModelSummary ModelRegistry::summarize(const std::string& name, int version) const {
  ModelSummary s;
  s.name = name;
  s.version = version;
  s.artifact_path = resolve(name, version);
  try {
    ArtifactHeader h = read_artifact_header(s.artifact_path);
    s.file_size = h.file_size;
    s.algorithm = h.algorithm;
    s.n_users = h.shape.n_users;
    s.n_items = h.shape.n_items;
    s.n_factors = h.shape.n_factors;
    s.n_ratings = h.shape.n_ratings;
    const json metadata = parse_json(h.metadata);  // a JSON object: checked by the reader
    const auto created = metadata.find("created_at");
    if (created != metadata.end() && created->is_string()) s.created_at = *created;
    s.cv_rmse = cv_mean(metadata, "rmse");
    s.cv_mae = cv_mean(metadata, "mae");
    s.metadata = std::move(h.metadata);
  } catch (const Error& e) {
    s.problem = e.what();
    std::error_code ec;
    const auto size = fs::file_size(s.artifact_path, ec);
    if (!ec) s.file_size = size;
  }
  return s;
}

json ModelRegistry::run_info(const std::string& name, int version) const {
  const fs::path path = resolve(name, version).parent_path() / kRunInfoFileName;
  try {
    const std::optional<json> run = try_parse_json(read_file(path, 64 << 20));
    return run && run->is_object() ? *run : json(nullptr);
  } catch (const Error&) {
    return nullptr;
  }
}

fs::path ModelRegistry::resolve(const std::string& name, std::optional<int> version) const {
  validate_name(name);
  if (version && *version < 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("model version must be a positive integer, got {}", *version));
  }
  const fs::path model_dir = models_dir_ / name;
  if (!directory_exists(model_dir)) {
    const auto names = model_names();
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw Error(ErrorKind::kNotFound,
                fmt::format("model {} not found in {}; {}", show(name), models_dir_.string(),
                            names.empty() ? "there are no models yet (train one first)"
                                          : "available models: " + known));
  }
  const auto complete = versions(name);
  const std::string available = complete.empty() ? "it has no complete versions"
                                                 : "available versions: " + join_ints(complete);
  if (version) {
    const fs::path dir = model_dir / version_dir_name(*version);
    const fs::path artifact = dir / kArtifactFileName;
    if (regular_file_exists(artifact)) return artifact;
    throw Error(ErrorKind::kNotFound,
                fmt::format("model {} version {} {}; {}", show(name), *version,
                            directory_exists(dir)
                                ? "is incomplete (no model.reco: its training did not finish)"
                                : "does not exist",
                            available));
  }
  if (complete.empty()) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("model {} has no complete versions in {} (version directories without "
                            "model.reco are unfinished trainings)",
                            show(name), model_dir.string()));
  }
  return model_dir / version_dir_name(complete.back()) / kArtifactFileName;
}

namespace {

bool is_uri_path_char(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         std::strchr("-._~!$&'()*+,;=:@/", ch) != nullptr;
}

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text, std::string_view uri) {
  std::string out;
  for (size_t k = 0; k < text.size(); ++k) {
    if (text[k] != '%') {
      out += text[k];
      continue;
    }
    const bool complete = k + 2 < text.size();
    const int hi = complete ? hex_value(text[k + 1]) : -1;
    const int lo = complete ? hex_value(text[k + 2]) : -1;
    if (hi < 0 || lo < 0 || hi * 16 + lo == 0) {  // %00 cannot be part of a file name
      throw Error(
          ErrorKind::kUsage,
          fmt::format("bad percent escape at position {} in artifact URI {}", k, show(uri)));
    }
    out += static_cast<char>(hi * 16 + lo);
    k += 2;
  }
  return out;
}

// A version directory stands for its artifact.
fs::path artifact_in(fs::path p) {
  if (directory_exists(p) && regular_file_exists(p / kArtifactFileName))
    return p / kArtifactFileName;
  return p;
}

// "scheme://" per RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
std::optional<std::string_view> uri_scheme(std::string_view text) {
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view scheme = text.substr(0, colon);
  const bool alpha_first =
      (scheme[0] >= 'A' && scheme[0] <= 'Z') || (scheme[0] >= 'a' && scheme[0] <= 'z');
  const bool valid = std::all_of(scheme.begin(), scheme.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '-' || ch == '.';
  });
  if (!alpha_first || !valid) return std::nullopt;
  return scheme;
}

}  // namespace

std::string artifact_uri(const fs::path& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) {
    throw Error(ErrorKind::kIo,
                fmt::format("cannot make {} absolute: {}", path.string(), ec.message()));
  }
  std::string out = "file://";
  for (unsigned char ch : abs.lexically_normal().string()) {
    if (is_uri_path_char(ch)) {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

std::optional<Version> ModelRegistry::version_of(const fs::path& artifact) const {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(artifact, ec);
  const fs::path m = fs::weakly_canonical(models_dir_, ec);
  if (ec || a.filename() != kArtifactFileName) return std::nullopt;
  const fs::path version_dir = a.parent_path();
  const fs::path model_dir = version_dir.parent_path();
  if (model_dir.parent_path() != m) return std::nullopt;
  const auto number = parse_version_dir(version_dir.filename().string());
  if (!number) return std::nullopt;
  return Version{model_dir.filename().string(), *number, version_dir};
}

std::optional<int> parse_version(std::string_view text) {
  if (text.starts_with("v")) text.remove_prefix(1);
  return parse_positive(text);
}

fs::path path_from_uri(std::string_view uri, const ModelRegistry& registry) {
  if (uri.empty()) {
    throw Error(ErrorKind::kUsage, fmt::format("empty artifact location; {}", kAcceptedLocations));
  }
  if (uri.starts_with("models:")) {
    std::string_view rest = uri.substr(7);
    if (!rest.starts_with("/") || rest.starts_with("//")) {
      throw Error(
          ErrorKind::kUsage,
          fmt::format("bad model URI {}: expected models:/<name> or models:/<name>/<version>",
                      show(uri)));
    }
    rest.remove_prefix(1);
    const size_t slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    std::optional<int> version;
    if (slash != std::string_view::npos) {
      std::string_view v = rest.substr(slash + 1);
      if (v != "latest") {
        version = parse_version(v);
        if (!version) {
          throw Error(ErrorKind::kUsage,
                      fmt::format("bad model URI {}: the version must be a positive integer (3 or "
                                  "v3) or 'latest', got {}",
                                  show(uri), show(rest.substr(slash + 1))));
        }
      }
    }
    return registry.resolve(name, version);
  }
  if (uri.starts_with("file:")) {
    std::string_view rest = uri.substr(5);
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      const std::string_view host = rest.substr(0, rest.find('/'));
      if (!host.empty() && host != "localhost") {
        throw Error(ErrorKind::kUsage,
                    fmt::format("file URI {} names host {}; only local files are supported "
                                "(file:///absolute/path)",
                                show(uri), show(host)));
      }
      rest.remove_prefix(host.size());
    }
    if (!rest.starts_with("/")) {
      throw Error(ErrorKind::kUsage, fmt::format("file URI {} does not hold an absolute path; {}",
                                                 show(uri), kAcceptedLocations));
    }
    if (rest.find_first_of("?#") != std::string_view::npos) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("file URI {} has a query or fragment; percent-encode '?' as %3F and "
                              "'#' as %23 if they are part of the file name",
                              show(uri)));
    }
    return artifact_in(percent_decode(rest, uri));
  }
  if (const auto scheme = uri_scheme(uri)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("unsupported artifact location {}: reco reads artifacts from the local "
                            "filesystem and its model registry, not from {}:// locations; {}",
                            show(uri), *scheme, kAcceptedLocations));
  }
  return artifact_in(fs::path(uri));
}

}  // namespace reco::registry
