#pragma once
// Training jobs as records in the home, so `reco jobs`, `GET /jobs` and a polling warehouse
// all see the same state:
//   <home>/jobs/<id>.json   one record per job (written atomically on every change)
// States: InProgress -> Completed | Failed. A record left InProgress by a process that died is
// reported as Failed ("the process running the job stopped") once its owner is gone.
//
// JobRunner runs jobs on background threads of the calling process. submit() is idempotent
// on the caller's key (the external-function batch id): a key seen before returns the job it
// started, never a second one, for as long as the record exists.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/home.h"
#include "training/train_job.h"

namespace reco::training {

enum class JobState { kInProgress, kCompleted, kFailed };
const char* to_string(JobState state);  // "InProgress", "Completed", "Failed"

struct JobRecord {
  std::string id;
  std::string kind = "train";
  JobState state = JobState::kInProgress;
  std::string idempotency_key;  // e.g. the sf-external-function-query-batch-id; may be ""
  std::string created_at;       // RFC 3339 UTC, milliseconds
  int64_t created_ns = 0;       // creation time in ns since the epoch: orders the listing
  std::string updated_at;
  std::string finished_at;       // "" while in progress
  int pid = 0;                   // process running the job
  std::string request = "{}";    // JSON object: input and output tables, options, origin
  std::string result;            // JSON: TrainSummary::to_json() when Completed, else ""
  std::string failure;           // the reason when Failed
  std::vector<std::string> log;  // progress and report lines
  // Read as InProgress from a process that is gone (state and failure then say Failed; the
  // file still says InProgress until training/recovery.h settles it).
  bool orphaned = false;

  nlohmann::json to_json(bool with_log = true) const;
  static JobRecord from_json(const nlohmann::json& j, const std::string& source);
};

class JobStore {
 public:
  explicit JobStore(const Home& home);
  const std::filesystem::path& dir() const { return dir_; }

  // A new InProgress record with a fresh unique id ("job-YYYYMMDD-HHMMSS-xxxxxx"), saved.
  JobRecord create(const std::string& kind, const nlohmann::json& request,
                   const std::string& idempotency_key = "");
  void save(JobRecord& record);  // sets updated_at; atomic write
  std::optional<JobRecord> find(const std::string& id) const;
  JobRecord get(const std::string& id) const;  // throws Error(kNotFound)
  std::optional<JobRecord> find_by_key(const std::string& idempotency_key) const;
  std::vector<JobRecord> list() const;  // newest first; unreadable records skipped

 private:
  std::filesystem::path dir_;
};

// Runs run_training for a request while keeping its JobRecord current (log lines, final state,
// result or failure). Used by `reco train`, train_and_get_recommendations and the server.
// Rethrows the training error after recording it.
TrainResult run_recorded(storage::Warehouse& warehouse, const Home& home, JobStore& jobs,
                         JobRecord& record, TrainRequest request, const LogSink& log);

// Background execution for the server. Each job opens its own warehouse connection with
// open_warehouse(db_location).
class JobRunner {
 public:
  JobRunner(Home home, std::string db_location, int max_concurrent = 1);
  ~JobRunner();  // stop(), then waits for running jobs
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Starts the job unless `key` (non-empty) was already used; returns the job's record as it
  // is now and whether this call started it.
  std::pair<JobRecord, bool> submit(const TrainRequest& request, const nlohmann::json& request_json,
                                    const std::string& key);
  JobStore& store() { return store_; }
  void wait_idle();  // blocks until no job of this runner is queued or running
  // Stops taking jobs: queued jobs that have not started are recorded as Failed ("the server
  // stopped before the job started"); waits up to `grace` for running ones. Returns true when
  // nothing is running any more. A process may exit with a job still running: its record then
  // reads Failed (its process is gone) and nothing half-written stays (the output table is one
  // transaction, an unpublished model version is not a version).
  bool stop(std::chrono::milliseconds grace);

 private:
  void worker_loop();

  Home home_;
  std::string db_location_;
  JobStore store_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, std::string> key_to_id_;             // keys submitted in this process
  std::vector<std::pair<std::string, TrainRequest>> queue_;  // job id, request
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace reco::training
