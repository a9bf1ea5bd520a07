#pragma once
// Running one occurrence of a task, and the scheduler that runs due occurrences.
//
// A run takes the task's lease (TaskStore::lease_path; Skipped "the previous run is still
// executing" when another run of the task holds it, in any process), checks the when_changed
// condition (Skipped "unchanged" when the table's fingerprint equals the one of the last
// successful run), then executes the task's SQL on its own connection to the warehouse, on which
// `prepare` registered reco's SQL functions with the cause "task:NAME" (so deployments made by
// the task say so in endpoint histories). Every run is appended to the task's runs: Executing
// when it starts, then Succeeded, Failed (with the error) or Skipped (with the reason).
//
// Change detection (when_changed): a fingerprint of the table's contents: row count and an
// FNV-1a 64 hash of every value (type and bytes) in rowid order, computed by one full scan when
// the task is due. No triggers: it sees every change however it was made (reco, the stock
// sqlite3 shell, `create or replace table`), and costs nothing between runs; its price is one
// scan per due occurrence (measured on a 2-core machine: 2.4 s and 16 MB for 10 M MovieLens-like
// rows of four columns, linear, so about 6 s on 25 M). A reload of the same rows in another
// order counts as a change.

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/home.h"
#include "tasks/task_store.h"

namespace reco::tasks {

// Registers reco's SQL functions on a task's connection; `cause` is "task:NAME", `on_job` is
// called with the id of every training job the task's SQL starts.
using PrepareConnection = std::function<void(
    sqlite3* db, const std::string& cause, std::function<void(const std::string& job_id)> on_job)>;

// The fingerprint described above ("<rows>:<hash>"); Error(kNotFound) for a missing table.
std::string table_fingerprint(sqlite3* db, const std::string& table);

class TaskRunner {
 public:
  TaskRunner(TaskStore& store, std::string db_location, PrepareConnection prepare);

  // Runs the task now (see above) and returns its final record. `scheduled` is the occurrence
  // (0 for a manual run), `trigger` what started it ("schedule", "sql", "cli").
  Run run(const Task& task, int64_t scheduled, const std::string& trigger);
  // Appends a Skipped run without executing anything.
  Run skip(const Task& task, int64_t scheduled, const std::string& trigger,
           const std::string& reason);
  // Stops the SQL running in this runner (sqlite3_interrupt); those runs are recorded as Failed
  // with `reason`.
  void interrupt(const std::string& reason);

 private:
  TaskStore& store_;
  std::string db_location_;
  PrepareConnection prepare_;
  std::mutex mutex_;
  std::set<sqlite3*> running_;
  std::string interrupted_;  // the reason, once interrupt() was called
};

// Runs due occurrences: tick() claims, for every started task, the latest occurrence due at
// now() (TaskStore::claim_due: exactly one claimer per occurrence across processes), records
// the occurrences it missed as one Skipped run, and starts the run on its own thread. now() is
// injected: tests drive the clock.
class Scheduler {
 public:
  using Now = std::function<int64_t()>;
  using Log = std::function<void(const std::string&)>;
  Scheduler(TaskStore& store, TaskRunner& runner, Now now, Log log = {});
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  size_t tick();     // returns the runs started
  void wait_idle();  // until no run started here is executing
  // Checks every `period` on a thread of its own until stop().
  void start(std::chrono::milliseconds period);
  // Stops checking; interrupts runs still executing after `grace` (recorded as Failed with
  // `reason`) and waits for them.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0),
            const std::string& reason = "the server stopped while the task was running");

 private:
  void reap();  // joins finished run threads (mutex_ held)

  TaskStore& store_;
  TaskRunner& runner_;
  Now now_;
  Log log_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int, std::thread> threads_;  // run number -> its thread
  std::set<int> finished_;
  int next_ = 0;
  bool stopping_ = false;
  std::thread loop_;
};

}  // namespace reco::tasks
