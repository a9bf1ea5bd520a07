#include "training/jobs.h"
#include "core/json.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/faults.h"
#include "core/fs.h"
#include "core/process.h"

namespace reco::training {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSuffix = ".json";

bool is_valid_job_id(const std::string& id) {
  if (id.empty() || id.size() > 200 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<JobState> parse_state(const std::string& s) {
  if (s == "InProgress") return JobState::kInProgress;
  if (s == "Completed") return JobState::kCompleted;
  if (s == "Failed") return JobState::kFailed;
  if (s == "Cancelled") return JobState::kCancelled;
  return std::nullopt;
}

}  // namespace

const char* to_string(JobState state) {
  switch (state) {
    case JobState::kInProgress:
      return "InProgress";
    case JobState::kCompleted:
      return "Completed";
    case JobState::kFailed:
      return "Failed";
    case JobState::kCancelled:
      return "Cancelled";
  }
  return "Unknown";
}

json JobRecord::to_json(bool with_log) const {
  json j{{"id", id},
         {"kind", kind},
         {"state", to_string(state)},
         {"idempotency_key", idempotency_key},
         {"created_at", created_at},
         {"created_ns", created_ns},
         {"updated_at", updated_at},
         {"finished_at", finished_at.empty() ? json(nullptr) : json(finished_at)},
         {"pid", pid},
         {"request", parse_json(request)},
         {"result", result.empty() ? json(nullptr) : parse_json(result)},
         {"failure", failure.empty() ? json(nullptr) : json(failure)}};
  if (!progress.empty()) j["progress"] = parse_json(progress);
  if (with_log) j["log"] = log;
  return j;
}

JobRecord JobRecord::from_json(const json& j, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return Error(ErrorKind::kCorrupt, fmt::format("{}: job record {}", source, what));
  };
  if (!j.is_object()) throw bad("is not a JSON object");
  auto str = [&](const char* key) -> std::string {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    if (!it->is_string()) throw bad(fmt::format("field \"{}\" is not a string", key));
    return it->get<std::string>();
  };
  JobRecord r;
  r.id = str("id");
  if (r.id.empty()) throw bad("lacks \"id\"");
  r.kind = str("kind");
  const auto state = parse_state(str("state"));
  if (!state) throw bad(fmt::format("has an unknown state \"{}\"", str("state")));
  r.state = *state;
  r.idempotency_key = str("idempotency_key");
  r.created_at = str("created_at");
  r.updated_at = str("updated_at");
  r.finished_at = str("finished_at");
  r.failure = str("failure");
  if (j.contains("pid") && j["pid"].is_number_integer()) r.pid = j["pid"].get<int>();
  if (j.contains("created_ns") && j["created_ns"].is_number_integer())
    r.created_ns = j["created_ns"].get<int64_t>();
  if (j.contains("request")) r.request = json_text(j["request"]);
  if (j.contains("result") && !j["result"].is_null()) r.result = json_text(j["result"]);
  if (j.contains("progress") && j["progress"].is_object()) r.progress = json_text(j["progress"]);
  if (j.contains("log") && j["log"].is_array()) {
    for (const auto& line : j["log"])
      if (line.is_string()) r.log.push_back(line.get<std::string>());
  }
  // A job whose process is gone will never finish: say so instead of "InProgress" forever.
  if (r.state == JobState::kInProgress && r.pid != ::getpid() && !process_alive(r.pid)) {
    r.orphaned = true;
    r.state = JobState::kFailed;
    r.failure =
        fmt::format("the process running the job (pid {}) stopped before it finished", r.pid);
  }
  return r;
}

JobStore::JobStore(const Home& home) : dir_(home.root() / "jobs") {}

JobRecord JobStore::create(const std::string& kind, const json& request,
                           const std::string& idempotency_key) {
  ensure_directory(dir_);
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string id = fmt::format("job-{}-{:06x}", utc_now("%Y%m%d-%H%M%S"), rd() & 0xffffffu);
    const fs::path path = dir_ / (id + kSuffix);
    // O_EXCL claims the id; the record itself is then written atomically over the claim.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      throw write_error("cannot create " + path.string(), errno);
    }
    ::close(fd);
    JobRecord r;
    r.id = id;
    r.kind = kind;
    r.idempotency_key = idempotency_key;
    r.created_at = utc_timestamp_ms();
    r.created_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    r.pid = ::getpid();
    r.request = json_text(request);
    save(r);
    return r;
  }
  throw Error(ErrorKind::kIo, "cannot allocate a job id in " + dir_.string());
}

void JobStore::save(JobRecord& record) {
  record.updated_at = utc_timestamp_ms();
  write_file_atomic(dir_ / (record.id + kSuffix), json_text(record.to_json(), 2) + "\n");
}

std::optional<JobRecord> JobStore::find(const std::string& id) const {
  if (!is_valid_job_id(id)) return std::nullopt;
  const fs::path path = dir_ / (id + kSuffix);
  const auto read = read_file_if_exists(path);
  if (!read) return std::nullopt;
  const std::string& text = *read;
  if (text.empty()) return std::nullopt;  // claimed by create(), not written yet
  json j;
  try {
    j = parse_json(text);
  } catch (const json::parse_error& e) {
    throw Error(ErrorKind::kCorrupt,
                fmt::format("{}: job record is not valid JSON: {}", path.string(), e.what()));
  }
  return JobRecord::from_json(j, path.string());
}

JobRecord JobStore::get(const std::string& id) const {
  if (auto r = find(id)) return *r;
  throw Error(ErrorKind::kNotFound,
              fmt::format("no job with id '{}' (list them with `reco jobs`)", id.substr(0, 200)));
}

std::vector<JobRecord> JobStore::list() const {
  std::vector<JobRecord> out;
  for (const std::string& id : names_with_suffix(dir_, kSuffix)) {
    try {
      if (auto r = find(id)) out.push_back(std::move(*r));
    } catch (const Error&) {
      // damaged record: skipped in listings, reported by get()
    }
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) {
    if (a.created_ns != b.created_ns) return a.created_ns > b.created_ns;
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  return out;
}

fs::path JobStore::cancel_path(const std::string& id) const {
  return dir_ / (id + ".cancel");
}

JobRecord JobStore::request_cancel(const std::string& id, const std::string& reason) {
  JobRecord r = get(id);
  if (r.state != JobState::kInProgress) {
    throw Error(ErrorKind::kConflict,
                fmt::format("job {} has already finished ({}{}); nothing to cancel", id,
                            to_string(r.state), r.failure.empty() ? "" : ": " + r.failure));
  }
  write_file_atomic(cancel_path(id), reason + "\n");
  return r;
}

std::optional<JobRecord> JobStore::find_by_key(const std::string& key) const {
  if (key.empty()) return std::nullopt;
  for (auto& r : list()) {
    if (r.idempotency_key == key) return std::move(r);
  }
  return std::nullopt;
}

namespace {

std::atomic<uint64_t> g_interrupts{0};

// While a job runs: saves its progress in the record about once a second and turns a cancel
// request file into progress.cancel() (checked every 0.2 s).
class JobWatcher {
 public:
  JobWatcher(JobStore& jobs, JobRecord& record, std::mutex& mutex, Progress& progress)
      : jobs_(jobs), record_(record), mutex_(mutex), progress_(progress) {
    thread_ = std::thread([this] { loop(); });
  }
  ~JobWatcher() {
    {
      const std::lock_guard lock(stop_mutex_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    thread_.join();
    std::error_code ec;
    fs::remove(jobs_.cancel_path(record_.id), ec);
  }
  JobWatcher(const JobWatcher&) = delete;
  JobWatcher& operator=(const JobWatcher&) = delete;

 private:
  void loop() {
    const fs::path cancel_file = jobs_.cancel_path(record_.id);
    const uint64_t interrupts = g_interrupts.load();
    int tick = 0;
    std::unique_lock lock(stop_mutex_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) {
      if (g_interrupts.load() != interrupts) progress_.cancel("interrupted (Ctrl-C)");
      if (!progress_.cancelled()) {
        if (const auto text = read_file_if_exists(cancel_file, 4096)) {
          std::string reason = *text;
          while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r'))
            reason.pop_back();
          progress_.cancel(reason.empty() ? "cancel requested" : reason);
        }
      }
      if (++tick % 5 == 0 || progress_.cancelled()) save();
    }
  }
  void save() {
    const std::string now = json_text(progress_.snapshot().to_json());
    const std::lock_guard lock(mutex_);
    if (record_.state != JobState::kInProgress || now == record_.progress) return;
    record_.progress = now;
    try {
      jobs_.save(record_);
    } catch (const Error&) {
      // Best effort, like the log.
    }
  }

  JobStore& jobs_;
  JobRecord& record_;
  std::mutex& mutex_;
  Progress& progress_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

void interrupt_running_jobs() noexcept {
  g_interrupts.fetch_add(1);
}

TrainResult run_recorded(storage::Warehouse& warehouse, const Home& home, JobStore& jobs,
                         JobRecord& record, TrainRequest request, const LogSink& log) {
  request.job_id = record.id;
  Progress own_progress;
  if (!request.progress) request.progress = &own_progress;
  std::mutex mutex;
  const LogSink sink = [&](LogKind kind, const std::string& text) {
    {
      const std::lock_guard lock(mutex);
      record.log.push_back(text);
      try {
        jobs.save(record);
      } catch (const Error&) {
        // The log in the record is best effort; the job itself goes on.
      }
    }
    if (log) log(kind, text);
  };
  auto finish = [&](JobState state, std::string failure, std::string result) {
    const std::lock_guard lock(mutex);
    record.state = state;
    record.failure = std::move(failure);
    record.result = std::move(result);
    record.finished_at = utc_timestamp();
    record.progress = json_text(request.progress->snapshot().to_json());
  };
  try {
    std::optional<TrainResult> result;
    {
      const JobWatcher watcher(jobs, record, mutex, *request.progress);
      result = request.evaluate_only ? run_evaluation(warehouse, request, sink)
                                     : run_training(warehouse, home, request, sink);
    }
    kill_point("job:before-record");
    finish(JobState::kCompleted, "", result->result_json());
    jobs.save(record);
    return std::move(*result);
  } catch (const std::exception& e) {
    const auto* err = dynamic_cast<const Error*>(&e);
    const bool cancelled = err && err->kind() == ErrorKind::kCancelled;
    finish(cancelled ? JobState::kCancelled : JobState::kFailed, e.what(), "");
    try {
      jobs.save(record);
    } catch (const Error&) {
    }
    throw;
  }
}

JobRunner::JobRunner(Home home, std::string db_location, int max_concurrent)
    : home_(std::move(home)), db_location_(std::move(db_location)), store_(home_) {
  for (int i = 0; i < std::max(1, max_concurrent); ++i)
    workers_.emplace_back([this] { worker_loop(); });
}

JobRunner::~JobRunner() {
  stop(std::chrono::milliseconds(0));
  for (auto& t : workers_) t.join();
}

bool JobRunner::stop(std::chrono::milliseconds grace) {
  std::vector<std::pair<std::string, TrainRequest>> dropped;
  std::unique_lock lock(mutex_);
  stopping_ = true;
  dropped.swap(queue_);
  for (const auto& [id, progress] : running_progress_) {
    progress->cancel("the server is shutting down");
  }
  lock.unlock();
  cv_.notify_all();
  for (const auto& [id, request] : dropped) {
    try {
      JobRecord record = store_.get(id);
      record.state = JobState::kFailed;
      record.failure = "the server stopped before the job started; submit it again";
      record.finished_at = utc_timestamp();
      store_.save(record);
    } catch (const std::exception&) {
    }
  }
  lock.lock();
  return cv_.wait_for(lock, grace, [this] { return running_ == 0; });
}

std::pair<JobRecord, bool> JobRunner::submit(const TrainRequest& request, const json& request_json,
                                             const std::string& key) {
  std::unique_lock lock(mutex_);
  if (!key.empty()) {
    // Keys seen by this process, then records on disk (a restarted server still knows them).
    if (const auto it = key_to_id_.find(key); it != key_to_id_.end()) {
      if (auto r = store_.find(it->second)) return {std::move(*r), false};
    }
    if (auto r = store_.find_by_key(key)) {
      key_to_id_[key] = r->id;
      return {std::move(*r), false};
    }
  }
  if (stopping_) throw Error(ErrorKind::kIo, "the server is shutting down; retry later");
  JobRecord record = store_.create(request.evaluate_only ? "evaluate" : "train", request_json, key);
  if (!key.empty()) key_to_id_[key] = record.id;
  queue_.emplace_back(record.id, request);
  lock.unlock();
  cv_.notify_one();
  return {std::move(record), true};
}

void JobRunner::wait_idle() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void JobRunner::worker_loop() {
  for (;;) {
    std::pair<std::string, TrainRequest> job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.erase(queue_.begin());
      ++running_;
    }
    Progress progress;
    {
      const std::lock_guard lock(mutex_);
      running_progress_[job.first] = &progress;
      if (stopping_) progress.cancel("the server is shutting down");
    }
    try {
      JobRecord record = store_.get(job.first);
      try {
        auto warehouse = storage::open_warehouse(db_location_);
        job.second.progress = &progress;
        run_recorded(*warehouse, home_, store_, record, std::move(job.second), {});
      } catch (const std::exception& e) {
        if (record.state == JobState::kInProgress) {  // failed before training started
          record.state = JobState::kFailed;
          record.failure = e.what();
          record.finished_at = utc_timestamp();
          store_.save(record);
        }
      }
    } catch (const std::exception&) {
      // The record itself cannot be read or written: nothing more to report it in.
    }
    {
      const std::lock_guard lock(mutex_);
      running_progress_.erase(job.first);
      --running_;
    }
    cv_.notify_all();
  }
}

}  // namespace reco::training
