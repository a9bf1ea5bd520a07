// Scheduled tasks (tasks/task_store.h), read-only, for the console and scripts:
//   GET /tasks          every task with its schedule, state, next run and latest run
//   GET /tasks/{name}   one task and its runs, newest first (at most 200)
// Tasks are created and changed from SQL (create_task, ...) and the CLI (reco tasks).
#include <chrono>

#include <fmt/format.h>

#include "registry/model_registry.h"
#include "serving/routes.h"
#include "tasks/schedule.h"
#include "tasks/task_store.h"

namespace reco::serving {
namespace {

constexpr size_t kMaxRuns = 200;

json task_json(const tasks::Task& t, const std::vector<tasks::Run>& runs) {
  json j = t.to_json();
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  json next = nullptr;
  if (!t.suspended) {
    try {
      const int64_t at = tasks::Schedule::parse(t.schedule).next_after(now, t.anchor);
      if (at >= 0) next = tasks::utc_text(at);
    } catch (const Error&) {
      // A schedule saved by another version that this one cannot read: no next time.
    }
  }
  j["next_run"] = next;
  j["last_run"] = runs.empty() ? json(nullptr) : runs.back().to_json();
  j["runs"] = runs.size();
  return j;
}

void list_tasks(RouteContext& ctx, RouteCall&, Response& res) {
  const tasks::TaskStore store(ctx.options.home);
  json list = json::array();
  for (const auto& t : store.list()) list.push_back(task_json(t, store.runs(t.name)));
  send_json(res, 200, {{"tasks", std::move(list)}});
}

void show_task(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  const tasks::TaskStore store(ctx.options.home);
  const auto task = registry::ModelRegistry::is_valid_name(name) ? store.find(name) : std::nullopt;
  if (!task)
    return send_error(res, 404, fmt::format("no task named {}; GET /tasks lists them", name));
  const auto runs = store.runs(name);
  json j = task_json(*task, runs);
  json history = json::array();
  for (size_t k = runs.size(); k-- > 0 && history.size() < kMaxRuns;)
    history.push_back(runs[k].to_json());
  j["history"] = std::move(history);
  send_json(res, 200, j);
}

}  // namespace

std::vector<RouteSpec> task_routes() {
  return {
      {"GET", "/tasks", Access::kToken, BodyKind::kNone, false, "", list_tasks},
      {"GET", "/tasks/{name}", Access::kToken, BodyKind::kNone, false, "", show_task},
  };
}

}  // namespace reco::serving
