#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "algorithms/params.h"
#include "cli/context.h"
#include "core/error.h"
#include "training/jobs.h"

namespace reco::cli {

void register_train(CLI::App& app, Context& ctx) {
  struct Options {
    training::TrainRequest request;
    std::vector<std::string> sets;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "train",
      "Train a model on a warehouse table: k-fold cross-validation report, refit on all ratings, "
      "top-k unrated items per user written to the output table, and a new model version.");
  cmd->add_option("-i,--input", opts->request.input_table,
                  "Input table with user, item and rating columns (USERID, MOVIEID, RATING; "
                  "case-insensitive)")
      ->required();
  cmd->add_option("-o,--output", opts->request.output_table,
                  "Output table (USERID, TOP_10_RECOMMENDATIONS), created or replaced in one "
                  "transaction; omit to only train");
  cmd->add_option("-a,--algo", opts->request.algorithm, "Algorithm")
      ->check(CLI::IsMember(algorithms::algorithm_names()))
      ->capture_default_str();
  cmd->add_option("--set", opts->sets,
                  "Hyperparameter or job option NAME=VALUE (repeatable); see `reco train "
                  "--list-params`");
  cmd->add_option("-k,--folds", opts->request.folds, "Cross-validation folds (0 skips it)")
      ->capture_default_str();
  cmd->add_option("--seed", opts->request.seed, "Random seed (folds and initialisation)")
      ->capture_default_str();
  cmd->add_option("-m,--model", opts->request.model_name,
                  "Model name (default: the input table's name)");
  cmd->add_option("-j,--threads", opts->request.threads, "Threads (0: all cores)")
      ->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print the job summary as JSON instead of text");
  auto* list = cmd->add_flag_callback(
      "--list-params",
      [] {
        fmt::print("{}", algorithms::params_help_all());
        fmt::print(
            "\njob options (any algorithm)\n"
            "  rating_min, rating_max   rating scale (default: observed in the data); ratings "
            "outside\n"
            "                           an explicit scale are rejected, predictions are clipped to "
            "it\n"
            "  user_column, item_column, rating_column\n"
            "                           input columns (default: USERID/USER_ID/USER, "
            "MOVIEID/MOVIE_ID/\n"
            "                           ITEMID/ITEM_ID/ITEM, RATING; case-insensitive)\n"
            "  top_k                    items per user in the output table (default 10, at most "
            "1000)\n");
        std::fflush(stdout);
        throw CLI::Success();
      },
      "List every algorithm's hyperparameters with defaults and ranges, then exit");
  (void)list;
  cmd->footer(
      "Example:\n  reco train --input ratings --output user_movie_recommendations --set "
      "n_factors=50");

  cmd->callback([opts, &ctx] {
    auto& req = opts->request;
    for (const auto& s : opts->sets) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw Error(ErrorKind::kUsage, fmt::format("--set {}: expected NAME=VALUE", s));
      }
      req.settings.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    // The report (CV table) is this command's data and is printed on stdout below; progress
    // milestones go to stderr.
    training::LogSink progress;
    if (!ctx.options.quiet) {
      progress = [](training::LogKind kind, const std::string& text) {
        if (kind == training::LogKind::kProgress) std::fprintf(stderr, "%s\n", text.c_str());
      };
    }
    training::JobStore jobs(ctx.home());
    nlohmann::json settings = nlohmann::json::object();
    for (const auto& [k, v] : req.settings) settings[k] = v;
    training::JobRecord record = jobs.create("train", {{"input_table", req.input_table},
                                                       {"output_table", req.output_table},
                                                       {"algorithm", req.algorithm},
                                                       {"settings", settings},
                                                       {"folds", req.folds},
                                                       {"seed", req.seed},
                                                       {"via", "cli"}});
    const auto result =
        training::run_recorded(ctx.warehouse(), ctx.home(), jobs, record, req, progress);
    if (opts->json) {
      fmt::print("{}\n", result.summary.dump(2));
      return;
    }
    if (!result.cv_table.empty()) fmt::print("{}\n", result.cv_table);
    const auto& s = result.summary;
    if (!s["output_table"].is_null()) {
      fmt::print("Top {} recommendations for {} users written to {}\n", s["top_k"].get<size_t>(),
                 s["output_rows"].get<size_t>(), s["output_table"].get<std::string>());
    }
    fmt::print("model {} version {}: {}\n", result.model_name, result.version, result.artifact_uri);
    fmt::print("job {} finished in {:.2f} s\n", result.job_id,
               s["timings"]["total_s"].get<double>());
  });
}

}  // namespace reco::cli
