#include "tasks/runner.h"

#include <unistd.h>

#include <random>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/identifiers.h"
#include "storage/postgres_warehouse.h"
#include "storage/sqlite_warehouse.h"
#include "training/jobs.h"

namespace reco::tasks {

namespace {

std::string new_run_id(int64_t scheduled) {
  static std::atomic<uint64_t> counter{0};
  return fmt::format("run-{}-{}-{}-{:x}", utc_now("%Y%m%d-%H%M%S"), scheduled, ::getpid(),
                     (std::random_device{}() << 8) ^ counter.fetch_add(1));
}

std::string quoted(const std::string& identifier) {
  std::string out = "\"";
  for (char c : identifier) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string table_fingerprint(sqlite3* db, const std::string& table) {
  const TableRef t = parse_table_name(table, "when_changed table");
  const std::string sql = fmt::format("SELECT * FROM {}{} ORDER BY rowid",
                                      t.schema ? quoted(*t.schema) + "." : "", quoted(t.table));
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    // A WITHOUT ROWID table or a view has no rowid: its natural order then.
    const std::string plain =
        fmt::format("SELECT * FROM {}{}", t.schema ? quoted(*t.schema) + "." : "", quoted(t.table));
    if (sqlite3_prepare_v2(db, plain.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt);
      throw Error(ErrorKind::kNotFound, fmt::format("when_changed table {}: {}", t.display(), why));
    }
  }
  Fnv1a64 h;
  uint64_t rows = 0;
  const int columns = sqlite3_column_count(stmt);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    ++rows;
    for (int c = 0; c < columns; ++c) {
      const int type = sqlite3_column_type(stmt, c);
      h.update_u64(static_cast<uint64_t>(type));
      if (type == SQLITE_INTEGER) {
        h.update_u64(static_cast<uint64_t>(sqlite3_column_int64(stmt, c)));
      } else if (type == SQLITE_FLOAT) {
        const double v = sqlite3_column_double(stmt, c);
        h.update(&v, sizeof v);
      } else if (type != SQLITE_NULL) {
        const void* p = sqlite3_column_blob(stmt, c);
        const int n = sqlite3_column_bytes(stmt, c);
        h.update_u64(static_cast<uint64_t>(n));
        if (n > 0) h.update(p, static_cast<size_t>(n));
      }
    }
  }
  const std::string why = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE)
    throw Error(ErrorKind::kIo, fmt::format("when_changed table {}: {}", t.display(), why));
  return fmt::format("{}:{}", rows, hex64(h.digest()));
}

TaskRunner::TaskRunner(TaskStore& store, std::string db_location, PrepareConnection prepare)
    : store_(store), db_location_(std::move(db_location)), prepare_(std::move(prepare)) {}

Run TaskRunner::skip(const Task& task, int64_t scheduled, const std::string& trigger,
                     const std::string& reason) {
  Run r;
  r.id = new_run_id(scheduled);
  r.task = task.name;
  r.state = RunState::kSkipped;
  r.trigger = trigger;
  r.scheduled = scheduled;
  r.started_at = utc_timestamp_ms();
  r.finished_at = r.started_at;
  r.error = reason;
  r.pid = ::getpid();
  store_.append_run(r);
  return r;
}

Run TaskRunner::run(const Task& task, int64_t scheduled, const std::string& trigger) {
  const TryLock lease(store_.lease_path(task.name));
  if (!lease.held())
    return skip(task, scheduled, trigger,
                "the previous run is still executing (runs of a task never overlap)");
  Run r;
  r.id = new_run_id(scheduled);
  r.task = task.name;
  r.trigger = trigger;
  r.scheduled = scheduled;
  r.started_at = utc_timestamp_ms();
  r.pid = ::getpid();
  std::mutex jobs_mutex;
  sqlite3* db = nullptr;
  std::unique_ptr<storage::SqliteWarehouse> wh;
  std::string fingerprint;
  try {
    if (storage::is_postgres_location(db_location_)) {
      // Tasks run SQL with reco's functions on an embedded SQLite connection; on PostgreSQL,
      // scheduling belongs to the server (pg_cron), which reco does not drive yet.
      throw Error(ErrorKind::kUsage,
                  fmt::format("task {} cannot run: scheduled tasks do not run on a PostgreSQL "
                              "warehouse yet (planned through pg_cron, issue 10 part 2); "
                              "schedule the SQL with pg_cron or cron and psql meanwhile",
                              task.name));
    }
    wh = storage::SqliteWarehouse::open(db_location_);
    db = wh->handle();
    if (!task.when_changed.empty()) {
      fingerprint = table_fingerprint(db, task.when_changed);
      if (fingerprint == task.changed_fingerprint)
        return skip(task, scheduled, trigger,
                    fmt::format("table {} has not changed since the last successful run",
                                task.when_changed));
    }
    store_.append_run(r);  // Executing
    prepare_(db, "task:" + task.name, [&](const std::string& job) {
      const std::lock_guard lock(jobs_mutex);
      r.jobs.push_back(job);
    });
    {
      const std::lock_guard lock(mutex_);
      if (!interrupted_.empty()) throw Error(ErrorKind::kCancelled, interrupted_);
      running_.insert(db);
    }
    char* err = nullptr;
    const int rc = sqlite3_exec(db, task.sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    std::string interrupted;
    {
      const std::lock_guard lock(mutex_);
      running_.erase(db);
      interrupted = interrupted_;
    }
    if (rc != SQLITE_OK)
      throw Error(ErrorKind::kInput,
                  interrupted.empty() ? message : interrupted + " (" + message + ")");
    r.state = RunState::kSucceeded;
  } catch (const std::exception& e) {
    {
      const std::lock_guard lock(mutex_);
      running_.erase(db);
    }
    r.state = RunState::kFailed;
    r.error = e.what();
  }
  r.finished_at = utc_timestamp_ms();
  {
    const std::lock_guard lock(jobs_mutex);
    store_.append_run(r);
  }
  if (r.state == RunState::kSucceeded && !task.when_changed.empty())
    store_.set_changed_fingerprint(task.name, fingerprint);
  return r;
}

void TaskRunner::interrupt(const std::string& reason) {
  const std::lock_guard lock(mutex_);
  interrupted_ = reason;
  for (sqlite3* db : running_) sqlite3_interrupt(db);
  // A training job a task's SQL started stops within an epoch (SQLite does not tell a running
  // function about sqlite3_interrupt).
  if (!running_.empty()) training::interrupt_running_jobs();
}

// --- Scheduler -----------------------------------------------------------------------------------

Scheduler::Scheduler(TaskStore& store, TaskRunner& runner, Now now, Log log)
    : store_(store), runner_(runner), now_(std::move(now)), log_(std::move(log)) {}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::reap() {
  for (int n : finished_) {
    const auto it = threads_.find(n);
    if (it == threads_.end()) continue;
    it->second.join();
    threads_.erase(it);
  }
  finished_.clear();
}

size_t Scheduler::tick() {
  const int64_t now = now_();
  size_t started = 0;
  for (const Task& listed : store_.list()) {
    if (listed.suspended) continue;
    std::optional<TaskStore::Claim> claim;
    try {
      claim = store_.claim_due(listed.name, now);
    } catch (const Error& e) {
      if (log_) log_(fmt::format("task {}: cannot claim its schedule: {}", listed.name, e.what()));
      continue;
    }
    if (!claim) continue;
    const auto task = store_.find(listed.name);  // as claimed (fingerprint, anchor)
    if (!task) continue;
    if (claim->missed > 0) {
      runner_.skip(
          *task, claim->first_missed, "schedule",
          fmt::format("{} occurrence(s) from {} on were missed (the scheduler was not "
                      "running, or the clock jumped forward); only the latest, {}, runs",
                      claim->missed, utc_text(claim->first_missed), utc_text(claim->scheduled)));
    }
    const std::lock_guard lock(mutex_);
    if (stopping_) break;
    reap();
    const int n = next_++;
    threads_.emplace(
        n, std::thread([this, n, t = *task, scheduled = claim->scheduled] {
          const Run r = runner_.run(t, scheduled, "schedule");
          if (log_)
            log_(fmt::format("task {}: run for {} {}{}", t.name, utc_text(scheduled),
                             to_string(r.state), r.error.empty() ? "" : ": " + r.error));
          const std::lock_guard lock(mutex_);
          finished_.insert(n);
          cv_.notify_all();
        }));
    ++started;
  }
  return started;
}

void Scheduler::wait_idle() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return finished_.size() == threads_.size(); });
  reap();
}

void Scheduler::start(std::chrono::milliseconds period) {
  loop_ = std::thread([this, period] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        tick();
      } catch (const std::exception& e) {
        if (log_) log_(fmt::format("task scheduler: {}", e.what()));
      }
      lock.lock();
      cv_.wait_for(lock, period, [&] { return stopping_; });
    }
  });
}

void Scheduler::stop(std::chrono::milliseconds grace, const std::string& reason) {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (loop_.joinable()) loop_.join();
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, grace, [&] { return finished_.size() == threads_.size(); })) {
    lock.unlock();
    runner_.interrupt(reason);
    lock.lock();
  }
  cv_.wait(lock, [&] { return finished_.size() == threads_.size(); });
  reap();
}

}  // namespace reco::tasks
