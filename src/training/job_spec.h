#pragma once
// A training job, declared once. Every option of a job (algorithm, folds, seed, model name, rating
// scale, column names, top_k) is a row of job_options(): name, type, default, range and one line
// of help; the hyperparameters are the rows of the algorithm's own table (algorithms/). The
// command line of `reco train` (one flag per row, and --set NAME=VALUE for any option or
// hyperparameter), the options JSON of train_and_get_recommendations and of POST /train,
// `reco train --list-params` and the README's table are all derived from these tables, and a
// spec is parsed and validated once, before any work starts.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "algorithms/params.h"
#include "core/options.h"
#include "training/search.h"

namespace reco::training {

struct JobSpec {
  std::string input_table;
  std::string output_table;  // empty: no output table is written

  // Options (job_options()); the initializers are the defaults.
  std::string algorithm = "svd";
  int folds = 5;  // 0 skips cross-validation
  int64_t seed = 42;
  std::optional<std::string> model;              // empty: the input table's name
  std::optional<double> rating_min, rating_max;  // empty: observed in the data
  std::optional<std::string> user_column, item_column, rating_column;  // empty: by name
  int top_k = 10;
  std::string split = "kfold";  // kfold | stratified | last_n | files (evaluation/split.h)
  double test_ratio = 0.25;     // stratified: share of each user's ratings held out
  int test_n = 1;               // last_n: each user's most recent ratings held out
  std::optional<std::string> timestamp_column;  // last_n; empty: by name
  std::string train_files, test_files;          // files: comma-separated, one per fold
  int ranking_k = 10;                // k of the ranking metrics of cross-validation ("k")
  double relevance_threshold = 3.5;  // a held-out rating at least this is relevant
  std::optional<SearchSpec> search;  // options JSON "search" (search.h): tune, then train the best

  algorithms::Params params;  // hyperparameters of `algorithm`, validated
};

// The columns looked for (case-insensitive, in order) when user_column, item_column or
// rating_column is not given: role "user", "item" or "rating".
const std::vector<std::string>& default_columns(std::string_view role);

std::vector<BoundOption<JobSpec>> job_options();
OptionTable job_option_table();

// Where the parsers below end: job options and hyperparameters (name, text) into a validated
// spec.
JobSpec make_job_spec(std::string input_table, std::string output_table,
                      const std::vector<std::pair<std::string, std::string>>& options,
                      const std::vector<std::pair<std::string, std::string>>& hyperparameters);

// A spec from NAME=VALUE pairs: job options and hyperparameters, mixed (the command line's
// flags and --set). A name that is neither is Error(kUsage) naming both tables. `flags` are job
// options; in `sets` a name that is both (knn's hyperparameter k and the ranking cut-off k) is
// the algorithm's hyperparameter, the job option having its own flag (--ranking-k).
JobSpec job_spec_from_settings(std::string input_table, std::string output_table,
                               const std::vector<std::pair<std::string, std::string>>& flags,
                               const std::vector<std::pair<std::string, std::string>>& sets = {});

// A spec from the options JSON of train_and_get_recommendations and POST /train:
// {"algorithm": "svd", "folds": 5, "seed": 42, "model": "m", "params": {"n_factors": 50}, ...};
// "algo" is accepted for "algorithm", numbers may be given as strings. `options_text` empty
// means no options. Errors start with "options: ".
JobSpec parse_job_options(std::string input_table, std::string output_table,
                          std::string_view options_text);
JobSpec job_spec_from_json(std::string input_table, std::string output_table,
                           const nlohmann::json& options);

// Every effective option, hyperparameters under "params".
nlohmann::json job_options_json(const JobSpec& spec);
// What a job record keeps of its request: {"input_table", "output_table", "options", "via"}
// (via: "cli", "sql" or "http").
nlohmann::json job_request_json(const JobSpec& spec, std::string_view via);

// Help: the hyperparameters of every algorithm, then the job options (text or Markdown).
std::string job_options_help();
std::string job_options_markdown();
// Machine-readable: {"algorithms": [{"name", "doc", "params": [rows]}], "job_options": [rows]}
// with rows {"name", "type", "default", "range", "doc", "flag"}.
nlohmann::json job_options_listing();

}  // namespace reco::training
