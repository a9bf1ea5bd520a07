#pragma once
// Training jobs as records in the home, so `reco jobs`, `GET /jobs` and a polling warehouse
// all see the same state:
//   <home>/jobs/<id>.json   one record per job (written atomically on every change)
//   <home>/jobs/<id>.cancel a request to stop the job (request_cancel), from any process
// States: InProgress -> Completed | Failed | Cancelled. A record left InProgress by a process
// that died is reported as Failed ("the process running the job stopped") once its owner is
// gone. While a job runs, its record carries its progress (core/progress.h), rewritten about
// once a second.
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

enum class JobState { kInProgress, kCompleted, kFailed, kCancelled };
const char* to_string(JobState state);  // "InProgress", "Completed", "Failed", "Cancelled"

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
  std::string failure;           // the reason when Failed or Cancelled
  std::string progress;          // JSON object (Progress::Snapshot::to_json()), or ""
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

  // Asks the job to stop: writes <id>.cancel, which the process running it polls
  // (run_recorded). Error(kNotFound) for an unknown id, Error(kConflict) naming the state when
  // the job has already finished. Returns the record as it is now.
  JobRecord request_cancel(const std::string& id, const std::string& reason);
  std::filesystem::path cancel_path(const std::string& id) const;

 private:
  std::filesystem::path dir_;
};

// Runs run_training for a request while keeping its JobRecord current (log lines, progress,
// final state, result or failure). Used by `reco train`, train_and_get_recommendations and the
// server. A watcher thread saves the progress about once a second and turns a cancel request
// (<id>.cancel) into request.progress->cancel() within 0.2 s; a job stopped that way is
// recorded as Cancelled. Rethrows the training error after recording it. request.progress may
// be null (the job then gets its own).
TrainResult run_recorded(storage::Warehouse& warehouse, const Home& home, JobStore& jobs,
                         JobRecord& record, TrainRequest request, const LogSink& log);

// Cancels every job run_recorded is running in this process ("interrupted (Ctrl-C)"), within
// the watchers' 0.2 s: what `reco sql`'s Ctrl-C does to a train_and_get_recommendations it is
// running. Safe to call from a signal handler (it only bumps a lock-free counter).
void interrupt_running_jobs() noexcept;

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
  // stopped before the job started"), running ones are cancelled ("the server is shutting
  // down": they stop within an epoch and are recorded as Cancelled); waits up to `grace` for
  // them. Returns true when nothing is running any more. A process may exit with a job still
  // running: its record then reads Failed (its process is gone) and nothing half-written stays (the
  // output table is one transaction, an unpublished model version is not a version).
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
  std::map<std::string, Progress*> running_progress_;        // job id -> its progress
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace reco::training
