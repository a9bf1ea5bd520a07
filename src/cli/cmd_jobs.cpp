// reco jobs: training jobs (from `reco train`, train_and_get_recommendations and POST /train).
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "cli/context.h"
#include "cli/table_format.h"
#include "core/error.h"
#include "core/json.h"
#include "training/jobs.h"

namespace reco::cli {
namespace {

std::string number_or_empty(const nlohmann::json& j, const char* key, const char* format) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return "";
  return fmt::format(fmt::runtime(format), j[key].get<double>());
}

std::string text_or_empty(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : json_text(j[key]);
}

}  // namespace

void register_jobs(Command& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  auto limit = std::make_shared<size_t>(50);
  Command cmd = app.add_subcommand("jobs", "List training jobs, newest first, with their state");
  cmd.flag("--json", *json, "Print JSON instead of a table");
  cmd.option("-n,--limit", *limit, "Show at most this many jobs (default 50; 0 = all)");
  cmd.footer(
      "Without a subcommand, lists the jobs. `reco jobs show ID` prints one with its log and "
      "progress (--follow: until it ends); `reco jobs cancel ID` stops a running one.");
  cmd.callback([cmd, json, limit, &ctx] {
    if (cmd.subcommand_given()) return;
    training::JobStore store(ctx.home());
    auto all = store.list();
    if (*limit && all.size() > *limit) all.resize(*limit);
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : all) out.push_back(r.to_json(false));
      fmt::print("{}\n", json_text(out, 2));
      return;
    }
    TextTable table(
        {"job", "state", "input", "model", "version", "rmse", "created", "finished", "failure"});
    table.right_align({4, 5});
    for (const auto& r : all) {
      const auto request = parse_json(r.request);
      const auto result = r.result.empty() ? nlohmann::json() : parse_json(r.result);
      std::string failure = r.failure;
      if (failure.size() > 80) failure = failure.substr(0, 77) + "...";
      table.add({r.id, training::to_string(r.state), text_or_empty(request, "input_table"),
                 text_or_empty(result, "model"), text_or_empty(result, "version"),
                 number_or_empty(result, "rmse", "{:.4f}"), r.created_at, r.finished_at, failure});
    }
    fmt::print("{}", table.render());
    if (all.empty()) fmt::print("(no jobs yet)\n");
  });

  auto id = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  Command show = cmd.add_subcommand("show", "Show one job with its result and log");
  show.option("id", *id, "Job id").required();
  show.flag("-f,--follow", *follow,
            "While the job runs, show its progress (step, percentage, ETA) on stderr, then the "
            "record once it has finished; exits 0 when it completed, 1 otherwise");
  show.callback([id, json, follow, &ctx] {
    training::JobStore store(ctx.home());
    auto r = store.get(*id);
    if (*follow) {
      const bool terminal = ctx.progress_enabled();
      std::string last;
      while (r.state == training::JobState::kInProgress) {
        if (!ctx.options.quiet && !r.progress.empty()) {
          const auto p = parse_json(r.progress);
          std::string text = text_or_empty(p, "step");
          if (p.contains("fraction"))
            text += fmt::format("  {:3.0f}%", 100 * p["fraction"].get<double>());
          if (p.contains("eta_s")) text += fmt::format("  ETA {:.0f} s", p["eta_s"].get<double>());
          if (p.contains("detail")) text += "  " + text_or_empty(p, "detail");
          if (terminal) {
            fmt::print(stderr, "\r\033[K{}", text);
          } else if (text != last) {
            fmt::print(stderr, "{}\n", text);
          }
          std::fflush(stderr);
          last = text;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        r = store.get(*id);
      }
      if (terminal && !last.empty()) fmt::print(stderr, "\r\033[K");
    }
    if (*json) {
      fmt::print("{}\n", json_text(r.to_json(), 2));
      return;
    }
    fmt::print("job       {}\nstate     {}\ncreated   {}\nfinished  {}\nrequest   {}\n", r.id,
               training::to_string(r.state), r.created_at, r.finished_at, r.request);
    if (!r.failure.empty()) fmt::print("failure   {}\n", r.failure);
    if (!r.result.empty()) fmt::print("result    {}\n", r.result);
    if (!r.progress.empty() && r.state == training::JobState::kInProgress) {
      fmt::print("progress  {}\n", r.progress);
    }
    if (!r.log.empty()) {
      fmt::print("log:\n");
      for (const auto& line : r.log) fmt::print("{}\n", line);
    }
    if (*follow && r.state != training::JobState::kCompleted) ctx.exit_code = 1;
  });

  auto cancel_id = std::make_shared<std::string>();
  Command cancel = cmd.add_subcommand(
      "cancel",
      "Ask a running job to stop: it stops within about a second, writes nothing, and is "
      "recorded as Cancelled");
  cancel.option("id", *cancel_id, "Job id").required();
  cancel.footer(
      "Works for jobs of any process on this home (reco train, reco sql, reco serve). "
      "Exits 66 for an unknown id and 65 when the job has already finished.");
  cancel.callback([cancel_id, &ctx] {
    training::JobStore store(ctx.home());
    store.request_cancel(*cancel_id, "requested by `reco jobs cancel`");
    fmt::print("cancel requested for job {}\n", *cancel_id);
  });
}

}  // namespace reco::cli
