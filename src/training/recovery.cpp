#include "training/recovery.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/process.h"
#include "registry/model_registry.h"
#include "storage/warehouse.h"
#include "training/jobs.h"
#include "training/steps.h"

namespace reco::training {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A version directory without run.json may belong to a job that has just reserved it.
constexpr auto kReservationGrace = std::chrono::minutes(10);

std::optional<json> read_json_file(const fs::path& path) {
  try {
    return try_parse_json(read_file(path, 64 << 20));
  } catch (const Error&) {
    return std::nullopt;
  }
}

bool older_than(const fs::path& path, fs::file_time_type::duration age) {
  std::error_code ec;
  const auto t = fs::last_write_time(path, ec);
  return !ec && fs::file_time_type::clock::now() - t > age;
}

std::string sql_string(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Whether the job's output-table transaction committed: nullopt when the warehouse cannot
// tell now (unreachable), so the version is left for a later run.
std::optional<bool> publication_committed(const json& run, const std::string& job) {
  const std::string db = run.value("db", "");
  const std::string backend = run.value("db_backend", "sqlite");
  if (db.empty() || (backend != "sqlite" && backend != "postgresql")) return std::nullopt;
  std::error_code ec;
  // A SQLite database gone with its process; PostgreSQL's location is a postgresql:// URI
  // (host, port, database; the user and password from libpq's usual places).
  if (backend == "sqlite" && (db == ":memory:" || !fs::exists(db, ec))) return false;
  try {
    auto wh = storage::open_warehouse(db);
    if (!wh->table_exists(TableRef{std::nullopt, kPublicationsTable})) return false;
    const auto rs = wh->query(
        fmt::format("SELECT 1 FROM \"{}\" WHERE job = {}", kPublicationsTable, sql_string(job)));
    return !rs.rows.empty();
  } catch (const Error&) {
    return std::nullopt;
  }
}

// Leaves the directory with only a run.json that says Failed: the version stays invisible and
// its number is not reused (reserve_version skips every existing directory).
void discard(const registry::ModelRegistry& models, const registry::Version& v, json run,
             const std::string& reason, RecoveryReport& report) {
  std::error_code ec;
  fs::remove(v.staged_path(), ec);
  run["state"] = "Failed";
  run["failure"] = reason;
  try {
    models.write_run_info(v, run);
    ++report.versions_removed;
  } catch (const Error& e) {
    report.notes.push_back(e.what());
  }
}

void settle_version(const registry::ModelRegistry& models, const registry::Version& v,
                    RecoveryReport& report) {
  std::error_code ec;
  auto run = read_json_file(v.run_info_path());
  if (run && run->is_object() && run->value("state", "") == "Failed") return;  // settled
  const int64_t pid = run && run->is_object() ? run->value("pid", int64_t{0}) : 0;
  if (pid == 0) {
    // No owner recorded: reserved a moment ago, or left by a reco that did not record one.
    if (older_than(v.dir, kReservationGrace)) {
      discard(models, v, run && run->is_object() ? *run : json::object(),
              "abandoned: the version was reserved but never written", report);
    }
    return;
  }
  if (process_alive(pid)) return;
  const std::string job = run->value("job", "");
  bool commit = false;
  if (fs::exists(v.staged_path(), ec) && run->contains("output_table")) {
    const auto committed = publication_committed(*run, job);
    if (!committed) {
      report.notes.push_back(fmt::format(
          "{} v{}: job {} died after staging its model; cannot tell yet whether its output "
          "table {} was written (warehouse {} unreachable)",
          v.name, v.number, job, run->value("output_table", ""), run->value("db", "")));
      return;
    }
    commit = *committed;
  }
  if (!commit) {
    discard(models, v, *run,
            job.empty() ? fmt::format("the process (pid {}) that reserved the version stopped "
                                      "before writing it",
                                      pid)
                        : fmt::format("the process running job {} (pid {}) stopped before the job "
                                      "committed",
                                      job, pid),
            report);
    return;
  }
  try {
    models.commit_staged(v);
    (*run)["state"] = "Completed";
    (*run)["recovered"] = "the job's process died after its output table was written";
    models.write_run_info(v, *run);
    ++report.versions_committed;
  } catch (const Error& e) {
    report.notes.push_back(e.what());
  }
}

// The job's result from a complete version's run.json: the summary it recorded.
std::optional<json> result_of(const json& run) {
  if (run.value("state", "") != "Completed") return std::nullopt;
  if (run.contains("summary")) return run["summary"];
  json out = run;
  for (const char* key : {"state", "cv", "cv_timings", "finished_at", "recovered", "pid", "db",
                          "db_backend", "input_table", "output_table"}) {
    out.erase(key);
  }
  return out;
}

void settle_jobs(const Home& home, const registry::ModelRegistry& models, RecoveryReport& report) {
  JobStore jobs(home);
  std::vector<JobRecord> orphans;
  for (auto& r : jobs.list()) {
    if (r.orphaned) orphans.push_back(std::move(r));
  }
  if (orphans.empty()) return;
  // Which complete version each job made. A visible version whose run.json still says
  // InProgress lost its process between the rename and run.json: it did commit.
  std::map<std::string, json> results;
  for (const auto& v : models.all_version_dirs()) {
    std::error_code ec;
    if (!fs::exists(v.artifact_path(), ec)) continue;
    auto run = read_json_file(v.run_info_path());
    if (!run || !run->is_object()) continue;
    if (run->value("state", "") == "InProgress" && !process_alive(run->value("pid", int64_t{0}))) {
      (*run)["state"] = "Completed";
      (*run)["recovered"] = "the job's process died after the version became visible";
      try {
        models.write_run_info(v, *run);
      } catch (const Error& e) {
        report.notes.push_back(e.what());
      }
    }
    if (auto result = result_of(*run)) results[run->value("job", "")] = std::move(*result);
  }
  for (auto& r : orphans) {
    if (const auto it = results.find(r.id); it != results.end()) {
      r.state = JobState::kCompleted;
      r.result = json_text(it->second);
      r.failure.clear();
      r.log.push_back("recovered: the process running the job stopped after it had published");
    } else {
      r.failure = fmt::format(
          "the process running the job (pid {}) stopped before it finished; nothing was published",
          r.pid);
    }
    if (r.finished_at.empty()) r.finished_at = r.updated_at;
    try {
      jobs.save(r);
      ++report.jobs_settled;
    } catch (const Error& e) {
      report.notes.push_back(e.what());
    }
  }
}

}  // namespace

RecoveryReport recover_home(const Home& home) {
  RecoveryReport report;
  const fs::path root = home.root();
  for (const fs::path& dir : {root, root / "endpoints", root / "jobs",
                              root / "serve" / "train-batches", home.models_dir()}) {
    report.temp_files_removed += remove_stale_temp_files(dir);
  }
  const registry::ModelRegistry models(home.models_dir());
  std::vector<registry::Version> versions;
  try {
    versions = models.all_version_dirs();
  } catch (const Error& e) {
    report.notes.push_back(e.what());
  }
  // Deletions a killed process left half done (renamed away first, so never listed).
  try {
    for (const auto& name : models.model_names()) models.remove_deleting(name);
    std::error_code ec;
    for (fs::directory_iterator it(home.models_dir(), ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->path().filename().string().rfind(".deleting-", 0) == 0) {
        std::error_code rm;
        fs::remove_all(it->path(), rm);
      }
    }
  } catch (const Error& e) {
    report.notes.push_back(e.what());
  }
  for (const auto& v : versions) {
    report.temp_files_removed += remove_stale_temp_files(v.dir);
    std::error_code ec;
    if (!fs::exists(v.artifact_path(), ec)) settle_version(models, v, report);
  }
  try {
    settle_jobs(home, models, report);
  } catch (const Error& e) {
    report.notes.push_back(e.what());
  }
  return report;
}

}  // namespace reco::training
