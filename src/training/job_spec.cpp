#include "training/job_spec.h"

#include <cctype>
#include <limits>

#include <fmt/format.h>

#include "algorithms/algorithm.h"
#include "core/error.h"
#include "evaluation/split.h"
#include "registry/model_registry.h"

namespace reco::training {

const std::vector<std::string>& default_columns(std::string_view role) {
  static const std::vector<std::string> user = {"userid", "user_id", "user"};
  static const std::vector<std::string> item = {"movieid", "movie_id", "itemid", "item_id", "item"};
  static const std::vector<std::string> rating = {"rating"};
  static const std::vector<std::string> timestamp = {"timestamp", "ts", "time"};
  if (role == "user") return user;
  if (role == "item") return item;
  if (role == "rating") return rating;
  if (role == "timestamp") return timestamp;
  throw Error(ErrorKind::kInternal, fmt::format("no column role {}", std::string(role)));
}

namespace {

// "USERID, USER_ID or USER"
std::string column_choices(std::string_view role) {
  const auto& names = default_columns(role);
  std::string out;
  for (size_t k = 0; k < names.size(); ++k) {
    if (k) out += k + 1 == names.size() ? " or " : ", ";
    for (char c : names[k]) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

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
  struct Column {
    const char* role;
    const char* doc;
    std::optional<std::string> JobSpec::*member;
  };
  const Column columns[] = {{"user", "input column of the user ids", &JobSpec::user_column},
                            {"item", "input column of the item ids", &JobSpec::item_column},
                            {"rating", "input column of the ratings", &JobSpec::rating_column},
                            {"timestamp", "with split=last_n: input column of the rating times",
                             &JobSpec::timestamp_column}};
  for (const auto& [role, doc, member] : columns) {
    rows.push_back(bind_option(O::text(std::string(role) + "_column", {}, doc)
                                   .with_default_doc(column_choices(role))
                                   .with_range_doc("a column name (any case)"),
                               member));
  }
  rows.push_back(
      bind_option(O::integer("top_k", {}, 1, 1000,
                             "items per user in the output table (TOP_<k>_RECOMMENDATIONS)")
                      .with_flag("--top-k"),
                  &JobSpec::top_k));
  rows.push_back(bind_option(
      O::text("split", {},
              "how cross-validation divides the ratings: kfold (`folds` shuffled folds), "
              "stratified (one split, each user's ratings held out by test_ratio), last_n (one "
              "split, each user's test_n most recent ratings held out) or files (predefined "
              "folds: train_files and test_files)")
          .with_flag("--split")
          .with_range_doc("kfold|stratified|last_n|files")
          .with_check([](const OptionValue& v) {
            (void)evaluation::SplitSpec::parse_kind(std::get<std::string>(v));
          }),
      &JobSpec::split));
  rows.push_back(
      bind_option(O::real("test_ratio", {}, 0.0, 1.0,
                          "with split=stratified: the share of each user's ratings held out")
                      .with_flag("--test-ratio")
                      .with_range_doc("(0, 1)")
                      .with_check([](const OptionValue& v) {
                        const double r = std::get<double>(v);
                        if (!(r > 0.0 && r < 1.0))
                          throw Error(ErrorKind::kUsage,
                                      fmt::format("test_ratio: {} is out of range (0, 1)", r));
                      }),
                  &JobSpec::test_ratio));
  rows.push_back(bind_option(
      O::integer("test_n", {}, 1, 1000000,
                 "with split=last_n: ratings held out per user, the most recent (a user with "
                 "that many or fewer stays in training only)")
          .with_flag("--test-n"),
      &JobSpec::test_n));
  const char* files_range = "comma-separated paths (a JSON array in the options)";
  rows.push_back(bind_option(O::text("train_files", {},
                                     "with split=files: the training file of each fold (lines "
                                     "of user and item ids, e.g. ml-100k's u1.base)")
                                 .with_flag("--train-files")
                                 .with_range_doc(files_range),
                             &JobSpec::train_files));
  rows.push_back(bind_option(O::text("test_files", {},
                                     "with split=files: the test file of each fold, in the "
                                     "order of train_files (e.g. u1.test)")
                                 .with_flag("--test-files")
                                 .with_range_doc(files_range),
                             &JobSpec::test_files));
  rows.push_back(bind_option(
      O::integer("k", {}, 0, 1000,
                 "cut-off of the ranking metrics in cross-validation (Precision@k, NDCG@k, ...); "
                 "0 skips them")
          .with_flag("--ranking-k")
          .with_range_doc("0 to skip, or 1..1000"),
      &JobSpec::ranking_k));
  rows.push_back(bind_option(
      O::real("relevance_threshold", {}, -kHuge, kHuge,
              "a held-out rating at least this counts as relevant for the ranking metrics"),
      &JobSpec::relevance_threshold));
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

JobSpec make_job_spec(std::string input_table, std::string output_table,
                      const std::vector<std::pair<std::string, std::string>>& options,
                      const std::vector<std::pair<std::string, std::string>>& hyperparameters) {
  const auto rows = job_options();
  JobSpec spec;
  spec.input_table = std::move(input_table);
  spec.output_table = std::move(output_table);
  apply_options(rows, resolve_options(option_table(rows), options, OptionStyle::kOption), spec);
  spec.params = algorithms::parse_params(spec.algorithm, hyperparameters);
  return spec;
}

JobSpec job_spec_from_settings(std::string input_table, std::string output_table,
                               const std::vector<std::pair<std::string, std::string>>& flags,
                               const std::vector<std::pair<std::string, std::string>>& sets) {
  const OptionTable table = job_option_table();
  std::vector<std::pair<std::string, std::string>> job, hyper;
  for (const auto& pair : flags) (find_option(table, pair.first) ? job : hyper).push_back(pair);
  // The algorithm the --set names are looked up in (the last one given, else the default).
  std::string algorithm = std::get<std::string>(*find_option(table, "algorithm")->default_value);
  for (const auto* list : {&flags, &sets}) {
    for (const auto& [name, value] : *list)
      if (name == "algorithm") algorithm = value;
  }
  const algorithms::Algorithm* a = algorithms::find_algorithm_or_null(algorithm);
  for (const auto& pair : sets) {
    const bool hyperparameter = a != nullptr && find_option(a->params, pair.first) != nullptr;
    (!hyperparameter && find_option(table, pair.first) ? job : hyper).push_back(pair);
  }
  return make_job_spec(std::move(input_table), std::move(output_table), job, hyper);
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
