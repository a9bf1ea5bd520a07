#pragma once
// Tasks and their runs, persisted in the home so every process sees the same ones:
//   <home>/tasks/<name>.json        the definition and its scheduling state (written atomically,
//                                   read-modify-write under <home>/tasks/.lock)
//   <home>/tasks/<name>.runs.jsonl  every run, append-only (core/fs.h append_line_durable): a line
//                                   when a run starts (Executing) and one when it ends; a torn
//                                   line is skipped
//   <home>/tasks/<name>.lease       flock held while a run executes: one run of a task at a time,
//                                   across processes; the kernel frees it if the process dies
// A scheduled occurrence is claimed (claim_due) by moving the task's last_scheduled forward
// under the lock, so of several servers on one home exactly one runs each occurrence.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/home.h"
#include "tasks/schedule.h"

namespace reco::tasks {

struct Task {
  std::string name;
  std::string schedule;      // as given (Schedule::parse)
  std::string sql;           // SQLite SQL with reco's functions; may hold several statements
  std::string when_changed;  // a table: run only when its contents changed since the last
                             // successful run; "" for always
  bool suspended = false;
  std::string created_at;
  std::string updated_at;
  int64_t anchor = 0;               // epoch seconds: creation or resume (the interval's origin)
  int64_t last_scheduled = 0;       // epoch seconds of the latest claimed occurrence
  std::string changed_fingerprint;  // when_changed table's fingerprint at the last success

  nlohmann::json to_json() const;
  static Task from_json(const nlohmann::json& j, const std::string& source);
};

// create_task's options: {"when_changed": "TABLE", "replace": true}. Error(kUsage) naming an
// unknown key or a wrong type; empty text is no options.
struct TaskOptions {
  std::string when_changed;
  bool replace = false;
};
TaskOptions parse_task_options(std::string_view options_json);

enum class RunState { kExecuting, kSucceeded, kFailed, kSkipped };
const char* to_string(RunState state);

struct Run {
  std::string id;
  std::string task;
  RunState state = RunState::kExecuting;
  std::string trigger;     // "schedule", "sql", "cli", "http"
  int64_t scheduled = 0;   // epoch seconds of the occurrence (0 for manual runs)
  std::string started_at;  // RFC 3339 ms
  std::string finished_at;
  std::string error;              // why Failed or Skipped
  std::vector<std::string> jobs;  // training jobs the run started
  int pid = 0;

  nlohmann::json to_json() const;
};

class TaskStore {
 public:
  explicit TaskStore(const Home& home);
  const std::filesystem::path& dir() const { return dir_; }

  // Task names follow model names: [A-Za-z0-9][A-Za-z0-9._-]{0,127}.
  static void validate_name(const std::string& name);  // throws Error(kUsage)

  // Checks the schedule (Schedule::parse), the SQL (not empty) and the table name, then saves.
  // Error(kConflict) when the task exists unless `replace`.
  Task create(const Task& definition, int64_t now, bool replace);
  std::optional<Task> find(const std::string& name) const;
  Task get(const std::string& name) const;  // Error(kNotFound) naming the tasks that exist
  std::vector<Task> list() const;           // sorted by name
  bool drop(const std::string& name);       // the runs' history stays
  // Suspend or resume; resuming restarts the schedule from `now` (no catching up).
  Task set_suspended(const std::string& name, bool suspended, int64_t now);

  // Claims the latest occurrence of the task's schedule that is due at `now` (at most one):
  // nullopt when none is due, else {scheduled, missed} where `missed` counts the earlier
  // occurrences since the last claim that were never run (the server was down or the clock
  // jumped forward); last_scheduled moves to `scheduled`, so no other claim gets it.
  struct Claim {
    int64_t scheduled = 0;
    int64_t missed = 0;
    int64_t first_missed = 0;
  };
  std::optional<Claim> claim_due(const std::string& name, int64_t now);
  // Records a success's condition fingerprint.
  void set_changed_fingerprint(const std::string& name, const std::string& fingerprint);

  // Runs: a new record (appended as Executing), its end (appended), and the merged history.
  void append_run(const Run& run);
  std::vector<Run> runs(const std::string& name) const;  // oldest first; orphans read Failed
  std::filesystem::path lease_path(const std::string& name) const;

 private:
  std::filesystem::path path(const std::string& name) const;
  void save(const Task& task);

  std::filesystem::path dir_;
};

}  // namespace reco::tasks
