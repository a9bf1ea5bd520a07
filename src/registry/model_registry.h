#pragma once
// Versioned models on disk:
//   <models_dir>/<name>/v<N>/model.reco   the artifact (artifact.h); its presence marks the
//                                         version complete
//   <models_dir>/<name>/v<N>/run.json     run information that is not part of the model
//                                         (timings, job id, input table, ...)
//   <models_dir>/<name>/v<N>/model.reco.staged
//                                         the artifact of a job that has not committed yet
// Version numbers are allocated with mkdir, which is atomic across processes, so concurrent
// trainings of one model never share a number. A version directory without model.reco (a
// crashed or running training) is not a model version: list() and resolve() skip it, and its
// number is never reused. A training job stages its artifact, commits its output table, then
// renames the staged artifact to model.reco: the version becomes visible only once the whole
// job has committed (training/recovery.h settles the ones a killed process left).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "algorithms/model.h"

namespace reco::registry {

inline constexpr const char* kArtifactFileName = "model.reco";
inline constexpr const char* kRunInfoFileName = "run.json";
inline constexpr const char* kStagedFileName = "model.reco.staged";

struct Version {
  std::string name;
  int number = 0;
  std::filesystem::path dir;  // <models_dir>/<name>/v<number>

  std::filesystem::path artifact_path() const { return dir / kArtifactFileName; }
  std::filesystem::path run_info_path() const { return dir / kRunInfoFileName; }
  std::filesystem::path staged_path() const { return dir / kStagedFileName; }
};

// One complete model version as list() reports it, from the artifact header only.
struct ModelSummary {
  std::string name;
  int version = 0;
  std::filesystem::path artifact_path;
  uint64_t file_size = 0;
  // Empty when the artifact header is readable; otherwise why it is not (the fields below are
  // then unset). A damaged version is reported, not hidden and not fatal to the listing.
  std::string problem;
  std::string algorithm;
  std::string created_at;         // metadata "created_at", "" if absent
  std::optional<double> cv_rmse;  // metadata cv.mean.rmse (or the mean of cv.rmse[])
  std::optional<double> cv_mae;   // metadata cv.mean.mae (or the mean of cv.mae[])
  uint32_t n_users = 0;           // from the model header
  uint32_t n_items = 0;
  uint32_t n_factors = 0;
  uint64_t n_ratings = 0;       // training ratings (length of the rated-items index)
  std::string metadata = "{}";  // the artifact's metadata, a JSON object
};

// How many versions of a model are kept (models/<name>/policy.json; these defaults without one).
// The newest version is always kept, whatever the policy.
struct RetentionPolicy {
  int keep_versions = 20;        // the newest N complete versions (>= 1)
  std::optional<int> keep_days;  // and, when set, only those younger than this many days
};

class ModelRegistry {
 public:
  explicit ModelRegistry(std::filesystem::path models_dir);

  const std::filesystem::path& models_dir() const { return models_dir_; }

  // Names: [A-Za-z0-9][A-Za-z0-9._-]{0,127}.
  static bool is_valid_name(std::string_view name);
  static void validate_name(std::string_view name);  // throws Error(kUsage)

  // Creates <name>/v<N> for the next free N (>= 1, one past the highest existing directory),
  // holding from the moment it appears a run.json with {"state": "InProgress", "pid": this
  // process} and the members of `run_info` (an object): it is made under a temporary name in
  // the models folder and renamed into place without replacing (RENAME_NOREPLACE), so a kill
  // never leaves a version directory whose owner is unknown (recovery removes the temporary
  // directories of dead processes). On file systems without RENAME_NOREPLACE: mkdir, then
  // run.json.
  Version reserve_version(const std::string& name);
  Version reserve_version(const std::string& name, const nlohmann::json& run_info);
  // Writes run.json (atomically); may be called before publish, e.g. to record a failed run.
  void write_run_info(const Version& version, const nlohmann::json& run_info) const;
  // Writes run.json, then model.reco (both atomically). Returns the artifact path. Throws
  // Error(kConflict) if the version already holds a model.
  std::filesystem::path publish(const Version& version, const algorithms::Model& model,
                                const nlohmann::json& metadata,
                                const nlohmann::json& run_info) const;
  // The two halves of publish: run.json and the artifact under its staged name (the version is
  // not visible yet), then the rename that makes it visible. Both return the final artifact path.
  std::filesystem::path stage(const Version& version, const algorithms::Model& model,
                              const nlohmann::json& metadata, const nlohmann::json& run_info) const;
  std::filesystem::path commit_staged(const Version& version) const;
  // Every version directory of every model, complete or not, as (name, number, dir).
  std::vector<Version> all_version_dirs() const;

  // Retention. policy() reads policy.json (defaults without one); set_policy() validates and
  // writes it (Error(kUsage) for keep_versions < 1: the newest version is always kept).
  RetentionPolicy policy(const std::string& name) const;
  void set_policy(const std::string& name, const RetentionPolicy& policy) const;
  // The complete versions the policy lets go, ascending: beyond the newest keep_versions, or
  // (with keep_days) older than that by their artifact's time; never the newest one, never one
  // in `keep` (versions in use). Also the directories of rolled-back runs (run.json only) below
  // the newest version.
  std::vector<Version> expired(const std::string& name, const RetentionPolicy& policy,
                               const std::vector<int>& keep) const;
  // Removes a version crash-safely: first renamed out of the listing (".deleting-v<N>-<pid>",
  // one atomic rename: readers see it complete or gone), then deleted. remove_deleting() finishes
  // what a killed deletion left.
  void remove_version(const Version& version) const;
  size_t remove_deleting(const std::string& name) const;

  // Model names with at least one directory, sorted.
  std::vector<std::string> model_names() const;
  // Complete versions (with model.reco) of one model, ascending; empty if none.
  std::vector<int> versions(const std::string& name) const;
  // Every complete version of every model, sorted by name, then version.
  std::vector<ModelSummary> list() const;
  // One complete version (from its artifact's header; `problem` says why it is unreadable).
  // Throws Error(kNotFound) naming the versions that exist.
  ModelSummary summarize(const std::string& name, int version) const;
  // The version's run.json (timings, CV per fold, learning curves, prediction histogram, job):
  // null when it has none or it cannot be read.
  nlohmann::json run_info(const std::string& name, int version) const;
  // Path of model.reco: the given version, or the latest complete one. Throws Error(kNotFound)
  // naming what exists instead.
  std::filesystem::path resolve(const std::string& name, std::optional<int> version = {}) const;
  // The registry version an artifact path is (<models_dir>/<name>/v<N>/model.reco), or nullopt
  // for a file anywhere else.
  std::optional<Version> version_of(const std::filesystem::path& artifact) const;

 private:
  std::filesystem::path models_dir_;
};

// The cross-validated mean of `metric` ("rmse", "mae") an artifact's metadata reports:
// cv.mean.<metric>, else the mean of the per-fold cv.<metric>[]; nullopt when the model was not
// cross-validated.
std::optional<double> cv_mean(const nlohmann::json& metadata, const char* metric);

// A version as users write it, "3" or "v3" (a positive integer without leading zeros); nullopt
// for anything else.
std::optional<int> parse_version(std::string_view text);

// "file://" + the absolute path, percent-encoding bytes outside the RFC 3986 path characters.
std::string artifact_uri(const std::filesystem::path& path);
// Accepts "file:///abs/path" (or "file:/abs/path", "file://localhost/abs/path"), a plain path
// (a version directory stands for its model.reco), "models:/<name>" (latest version) and
// "models:/<name>/<version>" (version "3", "v3" or "latest"). Anything else with a scheme
// (s3://, http://, ...) throws Error(kUsage) listing the accepted forms.
std::filesystem::path path_from_uri(std::string_view uri_or_path, const ModelRegistry& registry);

}  // namespace reco::registry
