#include "tasks/task_store.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/identifiers.h"
#include "core/json.h"
#include "core/process.h"
#include "registry/model_registry.h"

namespace reco::tasks {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSuffix = ".json";
constexpr const char* kRunsSuffix = ".runs.jsonl";
// A schedule firing every second, down for a year, is 3e7 occurrences: beyond this many the
// missed ones are counted arithmetically for intervals and estimated as "at least" for cron.
constexpr int64_t kMaxMissedWalk = 100000;

std::optional<RunState> parse_state(const std::string& s) {
  if (s == "Executing") return RunState::kExecuting;
  if (s == "Succeeded") return RunState::kSucceeded;
  if (s == "Failed") return RunState::kFailed;
  if (s == "Skipped") return RunState::kSkipped;
  return std::nullopt;
}

}  // namespace

TaskOptions parse_task_options(std::string_view text) {
  TaskOptions o;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return o;
  const auto j = try_parse_json(text);
  if (!j || !j->is_object())
    throw Error(ErrorKind::kUsage,
                fmt::format("task options must be a JSON object such as {{\"when_changed\": "
                            "\"ratings\"}}, got: {}",
                            std::string(text.substr(0, 100))));
  for (const auto& [key, value] : j->items()) {
    if (key == "when_changed") {
      if (!value.is_string() && !value.is_null())
        throw Error(ErrorKind::kUsage, "task option when_changed must be a table name");
      if (value.is_string()) o.when_changed = value.get<std::string>();
    } else if (key == "replace") {
      if (!value.is_boolean())
        throw Error(ErrorKind::kUsage, "task option replace must be true or false");
      o.replace = value.get<bool>();
    } else {
      throw Error(ErrorKind::kUsage,
                  fmt::format("unknown task option '{}' (known: when_changed, replace)",
                              key.substr(0, 100)));
    }
  }
  return o;
}

const char* to_string(RunState state) {
  switch (state) {
    case RunState::kExecuting:
      return "Executing";
    case RunState::kSucceeded:
      return "Succeeded";
    case RunState::kFailed:
      return "Failed";
    case RunState::kSkipped:
      return "Skipped";
  }
  return "Unknown";
}

json Task::to_json() const {
  return {{"name", name},
          {"schedule", schedule},
          {"sql", sql},
          {"when_changed", when_changed.empty() ? json(nullptr) : json(when_changed)},
          {"state", suspended ? "Suspended" : "Started"},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"anchor", anchor},
          {"last_scheduled", last_scheduled},
          {"changed_fingerprint",
           changed_fingerprint.empty() ? json(nullptr) : json(changed_fingerprint)}};
}

Task Task::from_json(const json& j, const std::string& source) {
  try {
    Task t;
    t.name = j.at("name").get<std::string>();
    t.schedule = j.at("schedule").get<std::string>();
    t.sql = j.at("sql").get<std::string>();
    if (j.contains("when_changed") && j["when_changed"].is_string())
      t.when_changed = j["when_changed"].get<std::string>();
    t.suspended = j.value("state", "Started") == "Suspended";
    t.created_at = j.value("created_at", "");
    t.updated_at = j.value("updated_at", "");
    t.anchor = j.value("anchor", int64_t{0});
    t.last_scheduled = j.value("last_scheduled", int64_t{0});
    if (j.contains("changed_fingerprint") && j["changed_fingerprint"].is_string())
      t.changed_fingerprint = j["changed_fingerprint"].get<std::string>();
    return t;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: damaged task record: {}", source, e.what()));
  }
}

json Run::to_json() const {
  return {{"run", id},
          {"task", task},
          {"state", to_string(state)},
          {"trigger", trigger},
          {"scheduled_time", scheduled ? json(utc_text(scheduled)) : json(nullptr)},
          {"scheduled_epoch", scheduled},
          {"started_at", started_at},
          {"finished_at", finished_at.empty() ? json(nullptr) : json(finished_at)},
          {"error", error.empty() ? json(nullptr) : json(error)},
          {"jobs", jobs},
          {"pid", pid}};
}

TaskStore::TaskStore(const Home& home) : dir_(home.root() / "tasks") {}

void TaskStore::validate_name(const std::string& name) {
  if (registry::ModelRegistry::is_valid_name(name)) return;
  throw Error(ErrorKind::kUsage,
              fmt::format("invalid task name '{}': a task name is 1 to 128 characters from "
                          "A-Z a-z 0-9 . _ - and starts with a letter or digit",
                          name.substr(0, 200)));
}

fs::path TaskStore::path(const std::string& name) const {
  return dir_ / (name + kSuffix);
}

fs::path TaskStore::lease_path(const std::string& name) const {
  return dir_ / (name + ".lease");
}

void TaskStore::save(const Task& task) {
  write_file_atomic(path(task.name), json_text(task.to_json(), 2) + "\n");
}

Task TaskStore::create(const Task& d, int64_t now, bool replace) {
  validate_name(d.name);
  (void)Schedule::parse(d.schedule);  // throws naming the field
  if (d.sql.find_first_not_of(" \t\r\n;") == std::string::npos)
    throw Error(ErrorKind::kUsage, fmt::format("task {}: the SQL to run is empty", d.name));
  if (!d.when_changed.empty()) (void)parse_table_name(d.when_changed, "when_changed table");
  const DirectoryLock lock(dir_ / ".lock");
  const auto existing = find(d.name);
  if (existing && !replace)
    throw Error(ErrorKind::kConflict,
                fmt::format("task {} exists already: drop it first, or replace it (create_task "
                            "options {{\"replace\": true}}, reco tasks create --replace)",
                            d.name));
  Task t = d;
  t.suspended = false;
  t.created_at = utc_timestamp();
  t.updated_at = t.created_at;
  t.anchor = now;
  t.last_scheduled = now;
  t.changed_fingerprint.clear();
  save(t);
  return t;
}

std::optional<Task> TaskStore::find(const std::string& name) const {
  if (!registry::ModelRegistry::is_valid_name(name)) return std::nullopt;
  const auto text = read_file_if_exists(path(name));
  if (!text) return std::nullopt;
  const auto j = try_parse_json(*text);
  if (!j) throw Error(ErrorKind::kCorrupt, fmt::format("{}: not valid JSON", path(name).string()));
  return Task::from_json(*j, path(name).string());
}

Task TaskStore::get(const std::string& name) const {
  if (auto t = find(name)) return *t;
  std::string known;
  for (const auto& t : list()) known += (known.empty() ? "" : ", ") + t.name;
  throw Error(ErrorKind::kNotFound,
              fmt::format("no task named '{}' ({}); create one with create_task(name, "
                          "schedule, sql)",
                          name.substr(0, 200), known.empty() ? "none exist" : "tasks: " + known));
}

std::vector<Task> TaskStore::list() const {
  std::vector<Task> out;
  for (const std::string& name : names_with_suffix(dir_, kSuffix)) {
    try {
      if (auto t = find(name)) out.push_back(std::move(*t));
    } catch (const Error&) {
      // A damaged record is skipped here; get(name) reports it.
    }
  }
  std::sort(out.begin(), out.end(), [](const Task& a, const Task& b) { return a.name < b.name; });
  return out;
}

bool TaskStore::drop(const std::string& name) {
  validate_name(name);
  const DirectoryLock lock(dir_ / ".lock");
  std::error_code ec;
  return fs::remove(path(name), ec);
}

Task TaskStore::set_suspended(const std::string& name, bool suspended, int64_t now) {
  validate_name(name);
  const DirectoryLock lock(dir_ / ".lock");
  Task t = get(name);
  if (t.suspended && !suspended) {
    t.anchor = now;  // resume: the schedule starts again from now
    t.last_scheduled = now;
  }
  t.suspended = suspended;
  t.updated_at = utc_timestamp();
  save(t);
  return t;
}

std::optional<TaskStore::Claim> TaskStore::claim_due(const std::string& name, int64_t now) {
  const DirectoryLock lock(dir_ / ".lock");
  auto t = find(name);
  if (!t || t->suspended) return std::nullopt;
  const Schedule s = Schedule::parse(t->schedule);
  int64_t next = s.next_after(t->last_scheduled, t->anchor);
  if (next < 0 || next > now) return std::nullopt;
  Claim c;
  c.first_missed = next;
  if (s.is_interval()) {
    const int64_t k = (now - next) / s.interval_seconds();
    c.missed = k;
    next += k * s.interval_seconds();
  } else {
    for (int64_t walked = 0; walked < kMaxMissedWalk; ++walked) {
      const int64_t after = s.next_after(next, t->anchor);
      if (after < 0 || after > now) break;
      ++c.missed;
      next = after;
    }
  }
  c.scheduled = next;
  t->last_scheduled = next;
  save(*t);
  return c;
}

void TaskStore::set_changed_fingerprint(const std::string& name, const std::string& fingerprint) {
  const DirectoryLock lock(dir_ / ".lock");
  auto t = find(name);
  if (!t) return;  // dropped meanwhile
  t->changed_fingerprint = fingerprint;
  save(*t);
}

void TaskStore::append_run(const Run& run) {
  append_line_durable(dir_ / (run.task + kRunsSuffix), json_text(run.to_json()));
}

std::vector<Run> TaskStore::runs(const std::string& name) const {
  validate_name(name);
  std::vector<Run> out;
  std::map<std::string, size_t> index;
  for (const json& j : read_json_lines(dir_ / (name + kRunsSuffix)).objects) {
    if (!j.contains("run")) continue;
    Run r;
    r.id = j.value("run", "");
    r.task = j.value("task", name);
    r.state = parse_state(j.value("state", "")).value_or(RunState::kFailed);
    r.trigger = j.value("trigger", "");
    r.started_at = j.value("started_at", "");
    if (j.contains("finished_at") && j["finished_at"].is_string())
      r.finished_at = j["finished_at"].get<std::string>();
    if (j.contains("error") && j["error"].is_string()) r.error = j["error"].get<std::string>();
    if (j.contains("jobs") && j["jobs"].is_array())
      for (const auto& id : j["jobs"])
        if (id.is_string()) r.jobs.push_back(id.get<std::string>());
    r.pid = j.value("pid", 0);
    r.scheduled = j.value("scheduled_epoch", int64_t{0});
    const auto it = index.find(r.id);
    if (it == index.end()) {
      index[r.id] = out.size();
      out.push_back(std::move(r));
    } else {
      out[it->second] = std::move(r);  // the run's end replaces its start
    }
  }
  for (Run& r : out) {
    if (r.state == RunState::kExecuting && r.pid != ::getpid() && !process_alive(r.pid)) {
      r.state = RunState::kFailed;
      r.error = fmt::format("the process running it (pid {}) stopped before it finished", r.pid);
    }
  }
  return out;
}

}  // namespace reco::tasks
