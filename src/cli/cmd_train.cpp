#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/context.h"
#include "cli/progress_line.h"
#include "core/error.h"
#include "core/json.h"
#include "training/jobs.h"

namespace reco::cli {
namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;

struct JobArgs {
  std::string input, output;
  std::vector<std::string> sets;
  int threads = 0;
  bool json = false;
  bool markdown = false;
};

// The flags `reco train` and `reco evaluate` share: the input table, one flag per job option
// (training/job_spec.h), --set for hyperparameters, --threads, --json, --list-params.
void add_job_flags(Command& cmd, const std::shared_ptr<JobArgs>& a,
                   const std::shared_ptr<Settings>& flags) {
  cmd.option("-i,--input", a->input,
             "Input table with user, item and rating columns (USERID, MOVIEID, RATING; "
             "case-insensitive)")
      .required();
  cmd.table_flags(training::job_option_table(), flags);
  cmd.option("--set", a->sets,
             "Hyperparameter or job option NAME=VALUE (repeatable); see `reco train "
             "--list-params`");
  cmd.option("-j,--threads", a->threads, "Threads (0: all cores; results do not depend on it)")
      .show_default();
  cmd.flag("--json", a->json,
           "Print the job summary as JSON instead of text (with --list-params: every option as "
           "JSON)");
  cmd.flag("--markdown", a->markdown, "With --list-params: Markdown tables, as in README.md");
  cmd.flag_callback(
      "--list-params",
      [a] {
        if (a->json) {
          fmt::print("{}\n", json_text(training::job_options_listing(), 2));
        } else {
          fmt::print("{}",
                     a->markdown ? training::job_options_markdown() : training::job_options_help());
        }
        std::fflush(stdout);
        throw EarlyExit{};
      },
      "List every algorithm's hyperparameters and the job options with defaults and ranges, "
      "then exit");
}

// Runs the job the flags describe, recorded in the home's jobs; `search` makes it a tuning job.
training::TrainResult run_job(Context& ctx, const JobArgs& a, const Settings& flags,
                              bool evaluate_only,
                              const std::optional<training::SearchSpec>& search = std::nullopt) {
  Settings sets;
  for (const auto& s : a.sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(ErrorKind::kUsage, fmt::format("--set {}: expected NAME=VALUE", s));
    }
    sets.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  training::TrainRequest req;
  req.spec = training::job_spec_from_settings(a.input, a.output, flags, sets);
  req.spec.search = search;
  req.threads = a.threads;
  req.evaluate_only = evaluate_only;
  // The report (CV table) is the command's data, printed on stdout by the caller; progress
  // (an updating line on a terminal) and milestones go to stderr; Ctrl-C cancels.
  Progress progress;
  req.progress = &progress;
  ProgressLine line(progress, ctx.options.quiet        ? ProgressLine::Mode::kQuiet
                              : ctx.progress_enabled() ? ProgressLine::Mode::kTerminal
                                                       : ProgressLine::Mode::kPlain);
  training::LogSink milestones;
  if (!ctx.options.quiet) {
    milestones = [&line](training::LogKind kind, const std::string& text) {
      if (kind == training::LogKind::kProgress) line.print(text);
    };
  }
  training::JobStore jobs(ctx.home());
  training::JobRecord record = jobs.create(evaluate_only ? "evaluate" : "train",
                                           training::job_request_json(req.spec, "cli"));
  return training::run_recorded(ctx.warehouse(), ctx.home(), jobs, record, req, milestones);
}

// A value of --param as JSON: a number or boolean when it reads as one, else a string.
nlohmann::json param_value(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  if (const auto j = try_parse_json(text); j && j->is_number()) return *j;
  return text;
}

// --param NAME=V1,V2,... (a list) or NAME=MIN..MAX[:log] (a range) into the "params" object.
nlohmann::json search_params(const std::vector<std::string>& args) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& arg : args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("--param {}: expected NAME=V1,V2,... or NAME=MIN..MAX[:log]", arg));
    }
    const std::string name = arg.substr(0, eq);
    std::string value = arg.substr(eq + 1);
    if (params.contains(name)) {
      throw Error(ErrorKind::kUsage, fmt::format("--param {} is given twice", name));
    }
    if (const auto dots = value.find(".."); dots != std::string::npos) {
      bool log = false;
      if (value.size() > 4 && value.compare(value.size() - 4, 4, ":log") == 0) {
        log = true;
        value.resize(value.size() - 4);
      }
      const auto lo = try_parse_json(value.substr(0, dots));
      const auto hi = try_parse_json(value.substr(dots + 2));
      if (!lo || !hi || !lo->is_number() || !hi->is_number()) {
        throw Error(
            ErrorKind::kUsage,
            fmt::format("--param {}: a range is MIN..MAX with numbers, e.g. 0.001..0.1:log", arg));
      }
      params[name] = {{"min", *lo}, {"max", *hi}, {"log", log}};
      continue;
    }
    nlohmann::json list = nlohmann::json::array();
    size_t start = 0;
    while (start <= value.size()) {
      const size_t comma = std::min(value.find(',', start), value.size());
      list.push_back(param_value(value.substr(start, comma - start)));
      start = comma + 1;
    }
    params[name] = std::move(list);
  }
  return params;
}

}  // namespace

void register_tune(Command& app, Context& ctx) {
  const auto a = std::make_shared<JobArgs>();
  const auto flags = std::make_shared<Settings>();
  struct SearchArgs {
    std::vector<std::string> params;
    std::string method;
    int trials = 10;
    std::string metric = "rmse";
  };
  const auto sa = std::make_shared<SearchArgs>();
  Command cmd = app.add_subcommand(
      "tune",
      "Search hyperparameters with cross-validation (grid or random, like Surprise's GridSearchCV "
      "and RandomizedSearchCV), then train the best setting as `reco train` does: refit on all "
      "ratings, output table, new model version with the table of every tried setting.");
  cmd.option("-o,--output", a->output,
             "Output table of the best model's top-k (as in reco train); without it only the "
             "model version is published");
  cmd.option("--param", sa->params,
             "A hyperparameter to search (repeatable): NAME=V1,V2,... (values) or "
             "NAME=MIN..MAX[:log] (a range, for --method random)")
      .required();
  cmd.option("--method", sa->method,
             "grid (every combination of the values) or random (--trials draws); default: grid, "
             "or random when a --param is a range");
  cmd.option("--trials", sa->trials, "Settings drawn by --method random").show_default();
  cmd.option("--metric", sa->metric,
             "What the best setting optimises: rmse, mae (lower is better) or a ranking metric "
             "such as ndcg@10, precision@10, map@10 (higher is better)")
      .show_default();
  add_job_flags(cmd, a, flags);
  cmd.footer(
      "Examples:\n  reco tune --input ratings --param n_factors=20,50,100 --param "
      "reg_all=0.02,0.05\n  reco tune --input ratings --method random --trials 20 --param "
      "lr_all=0.001..0.02:log --param n_epochs=10..40 --metric ndcg@10\nThe same search from "
      "SQL or HTTP: the options JSON key \"search\" (README).");
  cmd.callback([a, flags, sa, &ctx] {
    nlohmann::json j = {
        {"params", search_params(sa->params)}, {"trials", sa->trials}, {"metric", sa->metric}};
    bool has_range = false;
    for (const auto& [name, space] : j["params"].items()) has_range |= space.is_object();
    j["method"] = !sa->method.empty() ? sa->method : (has_range ? "random" : "grid");
    if (j["method"] == "grid") j.erase("trials");
    const auto result = run_job(ctx, *a, *flags, false, training::SearchSpec::from_json(j));
    const training::TrainSummary& s = result.summary;
    if (a->json) {
      fmt::print("{}\n", json_text(s.to_json(), 2));
      return;
    }
    fmt::print("{}\n", result.search_table);
    if (!result.cv_table.empty()) fmt::print("Best setting:\n{}\n", result.cv_table);
    if (s.output_table) {
      fmt::print("Top {} recommendations for {} users written to {}\n", s.top_k, s.output_rows,
                 *s.output_table);
    }
    fmt::print("model {} version {}: {}\n", s.model_name, s.version, s.artifact_uri);
    fmt::print("job {} finished in {:.2f} s\n", s.job_id, s.timings.total);
  });
}

void register_train(Command& app, Context& ctx) {
  const auto a = std::make_shared<JobArgs>();
  const auto flags = std::make_shared<Settings>();
  Command cmd = app.add_subcommand(
      "train",
      "Train a model on a warehouse table: k-fold cross-validation report, refit on all ratings, "
      "top-k unrated items per user written to the output table, and a new model version.");
  cmd.option("-o,--output", a->output,
             "Output table (USERID, TOP_<k>_RECOMMENDATIONS), created or its rows replaced in one "
             "transaction; without it the model is trained and published as a new version, but "
             "no table is written");
  add_job_flags(cmd, a, flags);
  cmd.footer(
      "Example:\n  reco train --input ratings --output user_movie_recommendations --set "
      "n_factors=50\nTo compare settings without publishing anything, use `reco evaluate`.");

  cmd.callback([a, flags, &ctx] {
    const auto result = run_job(ctx, *a, *flags, false);
    const training::TrainSummary& s = result.summary;
    if (a->json) {
      fmt::print("{}\n", json_text(s.to_json(), 2));
      return;
    }
    if (!result.cv_table.empty()) fmt::print("{}\n", result.cv_table);
    if (s.output_table) {
      fmt::print("Top {} recommendations for {} users written to {}\n", s.top_k, s.output_rows,
                 *s.output_table);
    }
    fmt::print("model {} version {}: {}\n", s.model_name, s.version, s.artifact_uri);
    fmt::print("job {} finished in {:.2f} s\n", s.job_id, s.timings.total);
  });
}

void register_evaluate(Command& app, Context& ctx) {
  const auto a = std::make_shared<JobArgs>();
  const auto flags = std::make_shared<Settings>();
  Command cmd = app.add_subcommand("evaluate",
                                   "Cross-validate an algorithm on a warehouse table and report "
                                   "RMSE and MAE per fold, publishing nothing: no model version, "
                                   "no output table (only the job record).");
  add_job_flags(cmd, a, flags);
  cmd.footer(
      "The options are those of `reco train` (same names, same defaults: 5 shuffled folds, seed "
      "42), and the report is the same table; the JSON (--json) has the per-fold metrics.\n"
      "Example:\n  reco evaluate --input ratings --algo baseline --folds 3");
  cmd.callback([a, flags, &ctx] {
    const auto result = run_job(ctx, *a, *flags, true);
    if (a->json) {
      fmt::print("{}\n", json_text(parse_json(result.evaluation), 2));
      return;
    }
    fmt::print("{}\n", result.cv_table);
    const auto report = parse_json(result.evaluation);
    fmt::print("job {} finished in {:.2f} s (nothing published)\n",
               report["job"].get<std::string>(), report["timings"]["total_s"].get<double>());
  });
}

}  // namespace reco::cli
