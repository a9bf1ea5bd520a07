#include "training/job_spec.h"

#include <limits>

#include <fmt/format.h>

#include "algorithms/algorithm.h"
#include "core/error.h"
#include "registry/model_registry.h"

namespace reco::training {
namespace {

std::vector<BoundOption<JobSpec>> build_job_options() {
  using O = OptionSpec;
  constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();
  std::vector<BoundOption<JobSpec>> rows;
  rows.push_back(bind_option(
      O::text("algorithm", {}, "the algorithm to train (its hyperparameters are listed above)")
          .with_flag("-a,--algo,--algorithm")
          .with_check([](const OptionValue& v) {
            (void)algorithms::find_algorithm(std::get<std::string>(v));  // lists the valid ones
          }),
      &JobSpec::algorithm));
  rows.back().spec.range_doc = [] {
    std::string names;
    for (const auto& n : algorithms::algorithm_names()) names += (names.empty() ? "" : "|") + n;
    return names;
  }();
  rows.push_back(bind_option(
      O::integer("folds", {}, 0, 100,
                 "cross-validation folds (shuffled, seeded); 0 skips cross-validation")
          .with_flag("-k,--folds")
          .with_range_doc("0 to skip, or 2..100")
          .with_check([](const OptionValue& v) {
            if (std::get<int64_t>(v) == 1)
              throw Error(ErrorKind::kUsage, "folds: 1 is out of range (0 to skip, or 2..100)");
          }),
      &JobSpec::folds));
  rows.push_back(bind_option(
      O::integer("seed", {}, 0, kMaxSeed, "seed of every random choice (folds, initialisation)")
          .with_flag("--seed"),
      &JobSpec::seed));
  rows.push_back(
      bind_option(O::text("model", {}, "model name in the registry (versions are models:/NAME/N)")
                      .with_flag("-m,--model")
                      .with_default_doc("the input table's name")
                      .with_range_doc("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
                      .with_check([](const OptionValue& v) {
                        registry::ModelRegistry::validate_name(std::get<std::string>(v));
                      }),
                  &JobSpec::model));
  const double kHuge = 1e30;
  rows.push_back(bind_option(O::real("rating_min", {}, -kHuge, kHuge,
                                     "lowest rating of the scale: ratings below it are rejected, "
                                     "predictions are clipped to it")
                                 .with_default_doc("observed in the data")
                                 .with_range_doc("a number below rating_max"),
                             &JobSpec::rating_min));
  rows.push_back(bind_option(O::real("rating_max", {}, -kHuge, kHuge,
                                     "highest rating of the scale: ratings above it are rejected, "
                                     "predictions are clipped to it")
                                 .with_default_doc("observed in the data")
                                 .with_range_doc("a number above rating_min"),
                             &JobSpec::rating_max));
  rows.push_back(bind_option(O::text("user_column", {}, "input column of the user ids")
                                 .with_default_doc("USERID, USER_ID or USER")
                                 .with_range_doc("a column name (any case)"),
                             &JobSpec::user_column));
  rows.push_back(bind_option(O::text("item_column", {}, "input column of the item ids")
                                 .with_default_doc("MOVIEID, MOVIE_ID, ITEMID, ITEM_ID or ITEM")
                                 .with_range_doc("a column name (any case)"),
                             &JobSpec::item_column));
  rows.push_back(bind_option(O::text("rating_column", {}, "input column of the ratings")
                                 .with_default_doc("RATING")
                                 .with_range_doc("a column name (any case)"),
                             &JobSpec::rating_column));
  rows.push_back(
      bind_option(O::integer("top_k", {}, 1, 1000,
                             "items per user in the output table (TOP_<k>_RECOMMENDATIONS)")
                      .with_flag("--top-k"),
                  &JobSpec::top_k));
  for (auto& row : rows) {
    if (row.spec.flag.empty()) row.spec.flag = row.spec.long_flag();
  }
  return rows;
}

}  // namespace

// Built on each call (ten rows): the algorithm row lists the algorithms registered by now.
std::vector<BoundOption<JobSpec>> job_options() {
  return build_job_options();
}

OptionTable job_option_table() {
  return option_table(job_options());
}

JobSpec job_spec_from_settings(std::string input_table, std::string output_table,
                               const std::vector<std::pair<std::string, std::string>>& settings) {
  const auto rows = job_options();
  const OptionTable table = option_table(rows);
  std::vector<std::pair<std::string, std::string>> job, hyper;
  for (const auto& pair : settings) (find_option(table, pair.first) ? job : hyper).push_back(pair);
  JobSpec spec;
  spec.input_table = std::move(input_table);
  spec.output_table = std::move(output_table);
  apply_options(rows, resolve_options(table, job, OptionStyle::kOption), spec);
  spec.params = algorithms::parse_params(spec.algorithm, hyper);
  return spec;
}

std::string job_options_help() {
  return algorithms::params_help_all() +
         "\njob options (any algorithm): a flag each, or --set NAME=VALUE; in SQL and HTTP the "
         "keys of the options JSON, hyperparameters under \"params\"\n" +
         options_help(job_option_table(), "  ", "option");
}

std::string job_options_markdown() {
  return algorithms::params_markdown_all() + "\nJob options (any algorithm):\n\n" +
         options_markdown(job_option_table(), "option");
}

}  // namespace reco::training
