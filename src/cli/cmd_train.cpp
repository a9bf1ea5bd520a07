#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/context.h"
#include "core/error.h"
#include "core/json.h"
#include "training/jobs.h"

namespace reco::cli {

void register_train(Command& app, Context& ctx) {
  struct Args {
    std::string input, output;
    std::vector<std::string> sets;
    int threads = 0;
    bool json = false;
    bool markdown = false;
  };
  auto a = std::make_shared<Args>();
  auto flags = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
  Command cmd = app.add_subcommand(
      "train",
      "Train a model on a warehouse table: k-fold cross-validation report, refit on all ratings, "
      "top-k unrated items per user written to the output table, and a new model version.");
  cmd.option("-i,--input", a->input,
             "Input table with user, item and rating columns (USERID, MOVIEID, RATING; "
             "case-insensitive)")
      .required();
  cmd.option("-o,--output", a->output,
             "Output table (USERID, TOP_<k>_RECOMMENDATIONS), created or its rows replaced in one "
             "transaction; without it the model is trained and published as a new version, but "
             "no table is written");
  // One flag per job option (training/job_spec.h); hyperparameters go through --set.
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
  cmd.footer(
      "Example:\n  reco train --input ratings --output user_movie_recommendations --set "
      "n_factors=50");

  cmd.callback([a, flags, &ctx] {
    std::vector<std::pair<std::string, std::string>> settings = *flags;
    for (const auto& s : a->sets) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw Error(ErrorKind::kUsage, fmt::format("--set {}: expected NAME=VALUE", s));
      }
      settings.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    training::TrainRequest req;
    req.spec = training::job_spec_from_settings(a->input, a->output, settings);
    req.threads = a->threads;
    // The report (CV table) is this command's data and is printed on stdout below; progress
    // milestones go to stderr.
    training::LogSink progress;
    if (!ctx.options.quiet) {
      progress = [](training::LogKind kind, const std::string& text) {
        if (kind == training::LogKind::kProgress) std::fprintf(stderr, "%s\n", text.c_str());
      };
    }
    training::JobStore jobs(ctx.home());
    training::JobRecord record = jobs.create("train", training::job_request_json(req.spec, "cli"));
    const auto result =
        training::run_recorded(ctx.warehouse(), ctx.home(), jobs, record, req, progress);
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

}  // namespace reco::cli
