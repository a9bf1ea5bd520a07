#include "training/steps.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include "core/json.h"

#include "algorithms/train.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/faults.h"
#include "core/hash.h"
#include "core/version.h"
#include "registry/artifact.h"
#include "registry/model_registry.h"
#include "training/retention.h"

namespace reco::training {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string column_names(const std::vector<storage::ColumnInfo>& columns) {
  std::string s;
  for (const auto& c : columns) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

std::string find_column(const std::vector<storage::ColumnInfo>& columns, const TableRef& table,
                        const std::optional<std::string>& wanted, const char* role) {
  const std::vector<std::string>& candidates = default_columns(role);
  if (wanted) {
    for (const auto& c : columns) {
      if (lower(c.name) == lower(*wanted)) return c.name;
    }
    throw Error(ErrorKind::kNotFound, fmt::format("input table '{}' has no column {} (columns: {})",
                                                  table.display(), *wanted, column_names(columns)));
  }
  for (const auto& candidate : candidates) {
    for (const auto& c : columns) {
      if (lower(c.name) == candidate) return c.name;
    }
  }
  std::string expected;
  for (const auto& candidate : candidates) expected += (expected.empty() ? "" : ", ") + candidate;
  throw Error(
      ErrorKind::kNotFound,
      fmt::format("input table '{}' has no {} column: expected one of {} (case-insensitive) "
                  "among its columns ({}), or name it with {}_column=NAME",
                  table.display(), role, expected, column_names(columns), role));
}

std::string default_model_name(const TableRef& input) {
  std::string name;
  for (char c : input.table) {
    const auto uc = static_cast<unsigned char>(c);
    name += (std::isalnum(uc) || c == '-' || c == '_' || c == '.')
                ? static_cast<char>(std::tolower(uc))
                : '_';
  }
  return name;
}

// The deterministic description of the model recorded in its artifact.
json model_metadata(const Trained& t) {
  const Dataset& d = t.data.data;
  return {
      {"format", fmt::format("reco-{}-model", t.model.type().name)},
      {"algorithm", t.spec.algorithm},
      {"hyperparameters", algorithms::params_to_json(t.spec.params)},
      {"seed", t.spec.seed},
      {"rating_scale", {{"min", t.data.scale.min}, {"max", t.data.scale.max}}},
      {"data",
       {{"table", t.plan.input.display()},
        {"fingerprint", hex64(d.fingerprint())},
        {"n_ratings", d.size()},
        {"n_users", d.n_users()},
        {"n_items", d.n_items()}}},
      {"cv", t.cv ? t.cv->metrics_json() : json(nullptr)},
      {"created_at", registry::artifact_timestamp()},
      {"reco_version", version()},
  };
}

// Replaces the output table's rows with every user's list, in one transaction, which also
// records the publication (job, model, version) in kPublicationsTable: the commit of that
// transaction is the job's commit point (training/recovery.h).
size_t write_output_table(storage::Warehouse& wh, const Trained& t, const std::string& job_id,
                          const registry::Version& version) {
  const TableRef& out = *t.plan.output;
  auto tx = wh.begin();
  const TableRef publications{std::nullopt, kPublicationsTable};
  if (!wh.table_exists(publications)) {
    wh.create_table(publications,
                    {{"job", storage::ColumnType::kText},
                     {"model", storage::ColumnType::kText},
                     {"version", storage::ColumnType::kInteger},
                     {"output_table", storage::ColumnType::kText},
                     {"committed_at", storage::ColumnType::kText}},
                    false);
  }
  wh.inserter(publications, {"job", "model", "version", "output_table", "committed_at"})
      ->insert({job_id, version.name, static_cast<int64_t>(version.number), out.display(),
                utc_now("%Y-%m-%dT%H:%M:%SZ")});
  if (!wh.table_exists(out)) {
    wh.create_table(out,
                    {{"USERID", storage::ColumnType::kInteger},
                     {t.plan.recs_column, storage::ColumnType::kJson}},
                    false);
  } else {
    wh.delete_all_rows(out);
  }
  const auto columns = wh.table_columns(out);
  auto ins = wh.inserter(out, {columns[0].name, columns[1].name});
  std::vector<storage::Value> row(2);
  size_t rows = 0;
  for (uint32_t u = 0; u < t.model.n_users(); ++u) {
    std::string list = "[";
    for (size_t k = 0; k < t.top[u].size(); ++k) {
      if (k) list += ',';
      list += std::to_string(t.model.items.raw(t.top[u][k].item));
    }
    list += ']';
    row[0] = t.model.users.raw(u);
    row[1] = std::move(list);
    ins->insert(row);
    ++rows;
  }
  ins.reset();
  kill_point("publish:before-commit");
  tx->commit();
  return rows;
}

}  // namespace

JobPlan plan_job(storage::Warehouse& wh, const JobSpec& spec) {
  JobPlan plan;
  plan.input = parse_table_name(spec.input_table, "input table");
  if (!spec.output_table.empty()) plan.output = parse_table_name(spec.output_table, "output table");
  plan.model_name = spec.model ? *spec.model : default_model_name(plan.input);
  registry::ModelRegistry::validate_name(plan.model_name);
  plan.recs_column = fmt::format("TOP_{}_RECOMMENDATIONS", spec.top_k);
  if (!plan.output) return plan;
  const TableRef& out = *plan.output;
  if (lower(out.table) == lower(plan.input.table) && out.schema == plan.input.schema) {
    throw Error(ErrorKind::kUsage,
                fmt::format("output table '{}' is the input table", out.display()));
  }
  if (!wh.table_exists(out)) return plan;
  const auto cols = wh.table_columns(out);
  if (cols.size() != 2 || lower(cols[0].name) != "userid" ||
      lower(cols[1].name) != lower(plan.recs_column)) {
    throw Error(
        ErrorKind::kConflict,
        fmt::format("output table '{}' exists with columns ({}); expected (USERID, {}): drop it, "
                    "or name another output table",
                    out.display(), column_names(cols), plan.recs_column));
  }
  return plan;
}

storage::RatingColumns rating_columns(storage::Warehouse& wh, const TableRef& input,
                                      const JobSpec& spec) {
  const auto columns = wh.table_columns(input);
  storage::RatingColumns cols;
  cols.user = find_column(columns, input, spec.user_column, "user");
  cols.item = find_column(columns, input, spec.item_column, "item");
  cols.rating = find_column(columns, input, spec.rating_column, "rating");
  if (evaluation::SplitSpec::parse_kind(spec.split) == evaluation::SplitSpec::Kind::kLastN &&
      spec.folds > 0) {
    cols.timestamp = find_column(columns, input, spec.timestamp_column, "timestamp");
  }
  return cols;
}

TrainingData read_training_data(storage::Warehouse& wh, const JobPlan& plan, const JobSpec& spec) {
  const TableRef& input = plan.input;
  if (!wh.table_exists(input)) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("input table '{}' does not exist in the warehouse {}", input.display(),
                            wh.location()));
  }
  const RawRatings raw = wh.read_ratings(input, rating_columns(wh, input, spec));
  if (raw.size() == 0)
    throw Error(ErrorKind::kInput, fmt::format("input table '{}' has no rows", input.display()));
  TrainingData out{Dataset::from_raw(raw), {}};
  out.scale = out.data.observed_scale();
  if (spec.rating_min) out.scale.min = static_cast<float>(*spec.rating_min);
  if (spec.rating_max) out.scale.max = static_cast<float>(*spec.rating_max);
  const RatingScale scale = out.scale;
  if (!(scale.min < scale.max)) {
    throw Error(ErrorKind::kInput,
                fmt::format("rating scale [{}, {}] is empty: set rating_min and rating_max",
                            scale.min, scale.max));
  }
  if (spec.rating_min || spec.rating_max) {
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw.ratings[k] < scale.min || raw.ratings[k] > scale.max) {
        throw Error(
            ErrorKind::kInput,
            fmt::format("table '{}', row {}: rating {} is outside the rating scale [{}, {}]",
                        input.display(), k + 1, raw.ratings[k], scale.min, scale.max));
      }
    }
  }
  if (spec.folds > 0 && spec.split == "kfold" &&
      out.data.size() < static_cast<size_t>(spec.folds)) {
    throw Error(ErrorKind::kInput,
                fmt::format("input table '{}' has {} ratings, fewer than the {} folds",
                            input.display(), out.data.size(), spec.folds));
  }
  return out;
}

namespace {

evaluation::SplitSpec split_spec(const JobSpec& spec) {
  evaluation::SplitSpec split;
  split.kind = evaluation::SplitSpec::parse_kind(spec.split);
  split.folds = spec.folds;
  split.test_ratio = spec.test_ratio;
  split.test_n = spec.test_n;
  split.train_files = evaluation::split_path_list(spec.train_files);
  split.test_files = evaluation::split_path_list(spec.test_files);
  return split;
}

// Null when the spec skips ranking metrics (k = 0).
std::optional<evaluation::RankingOptions> ranking_options(const JobSpec& spec,
                                                          const TrainingData& data) {
  if (spec.ranking_k == 0) return std::nullopt;
  if (static_cast<size_t>(spec.ranking_k) > data.data.n_items()) {
    throw Error(ErrorKind::kUsage,
                fmt::format("k: {} is larger than the {} items of the input table: the ranking "
                            "metrics cut each list at k items",
                            spec.ranking_k, data.data.n_items()));
  }
  evaluation::RankingOptions o;
  o.k = spec.ranking_k;
  o.relevance_threshold = spec.relevance_threshold;
  return o;
}

}  // namespace

evaluation::CvReport evaluate(const TrainingData& data, const JobSpec& spec, int threads,
                              Progress* progress) {
  const auto ranking = ranking_options(spec, data);
  return evaluation::cross_validate(data.data, spec.algorithm, spec.params, data.scale,
                                    split_spec(spec), static_cast<uint64_t>(spec.seed), threads,
                                    nullptr, progress, ranking ? &*ranking : nullptr);
}

std::unique_ptr<algorithms::Model> refit(const TrainingData& data, const JobSpec& spec, int threads,
                                         Progress* progress, std::vector<double>* curve) {
  if (progress) progress->begin("fit", 1, "fits");
  double reported = 0;
  auto model = algorithms::fit(
      spec.algorithm, spec.params, data.data, algorithms::all_rating_indices(data.data), data.scale,
      static_cast<uint64_t>(spec.seed),
      evaluation::epoch_progress(progress, "fit on all ratings", &reported, curve), nullptr,
      threads);
  evaluation::finish_fit(progress, reported);
  return model;
}

SearchOutcome search(const TrainingData& data, const JobSpec& spec, int threads, Progress* progress,
                     const LogSink& log) {
  const SearchSpec& s = *spec.search;
  if (spec.folds == 0) {
    throw Error(ErrorKind::kUsage,
                "options: search needs cross-validation: folds must be 2..100, not 0");
  }
  // The metric must be one the evaluation reports: refused before any trial runs.
  const std::vector<std::string> reported = evaluation::metric_keys(spec.ranking_k);
  if (std::find(reported.begin(), reported.end(), s.metric) == reported.end()) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("options: search: metric {} is not reported; this evaluation reports {}",
                    s.metric, fmt::join(reported, ", ")));
  }
  if ((s.metric == "rmse" || s.metric == "mae") &&
      !algorithms::find_algorithm(spec.algorithm).predicts_ratings) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("options: search: metric {} does not apply to {}, a ranking model whose "
                    "scores are not ratings; choose a ranking metric such as ndcg@{}",
                    s.metric, spec.algorithm, std::max(spec.ranking_k, 10)));
  }
  const auto candidates =
      search_candidates(s, spec.algorithm, static_cast<uint64_t>(spec.seed), spec.folds);
  // What the caller set stays; each candidate overrides the searched names.
  std::vector<std::pair<std::string, std::string>> base;
  for (const auto& [name, value] : spec.params.values()) {
    if (spec.params.explicitly_set(name)) base.emplace_back(name, format_option_value(value));
  }
  const bool lower = lower_is_better(s.metric);
  SearchOutcome out;
  json settings = json::array();
  std::optional<size_t> best;
  double best_value = 0;
  for (size_t c = 0; c < candidates.size(); ++c) {
    std::vector<std::pair<std::string, std::string>> merged;
    for (const auto& b : base) {
      const bool overridden = std::any_of(candidates[c].begin(), candidates[c].end(),
                                          [&](const auto& x) { return x.first == b.first; });
      if (!overridden) merged.push_back(b);
    }
    merged.insert(merged.end(), candidates[c].begin(), candidates[c].end());
    JobSpec trial = spec;
    trial.search.reset();
    trial.params = algorithms::parse_params(spec.algorithm, merged);
    Stopwatch clock;
    evaluation::CvReport cv = evaluate(data, trial, threads, progress);
    const double seconds = clock.seconds();
    const double value = *cv.metric_mean(s.metric);  // checked above
    json row = {{"params", json::object()}, {"seconds", seconds}};
    const json effective = algorithms::params_to_json(trial.params);
    for (const auto& [name, text] : candidates[c]) row["params"][name] = effective[name];
    for (const auto& key : reported) {
      const auto mean = cv.metric_mean(key);  // rmse and mae: none for a ranking model
      row[key] = mean ? json(*mean) : json(nullptr);
    }
    settings.push_back(row);
    if (!best || (lower ? value < best_value : value > best_value)) {
      best = c;
      best_value = value;
      out.best = trial;
      out.best_cv = std::move(cv);
      out.best_seconds = seconds;
    }
    std::string described;
    for (const auto& [name, text] : candidates[c])
      described += fmt::format("{}{}={}", described.empty() ? "" : " ", name, text);
    if (log) {
      log(LogKind::kProgress, fmt::format("trial {}/{}: {}: {} {:.4f}", c + 1, candidates.size(),
                                          described, s.metric, value));
    }
  }
  out.record = {{"method", s.method == SearchSpec::Method::kGrid ? "grid" : "random"},
                {"metric", s.metric},
                {"lower_is_better", lower},
                {"settings", settings},
                {"best", *best}};
  // The table: one column per searched name, then the metric (and rmse, mae when it is not one).
  std::string header;
  std::vector<std::string> columns;
  for (const auto& sp : s.params) columns.push_back(sp.name);
  std::vector<std::string> metrics = {s.metric};
  for (const char* m : {"rmse", "mae"})
    if (s.metric != m) metrics.push_back(m);
  std::vector<size_t> width;
  for (const auto& c : columns) width.push_back(std::max<size_t>(c.size(), 8));
  for (const auto& m : metrics) width.push_back(std::max<size_t>(m.size(), 8));
  std::string table = fmt::format("Search ({}, {} setting(s), metric {}, {} is better)\n",
                                  out.record["method"].get<std::string>(), candidates.size(),
                                  s.metric, lower ? "lower" : "higher");
  std::string line = "  ";
  for (size_t k = 0; k < columns.size(); ++k) line += fmt::format("{:<{}}  ", columns[k], width[k]);
  for (size_t k = 0; k < metrics.size(); ++k)
    line += fmt::format("{:<{}}  ", metrics[k], width[columns.size() + k]);
  table += line + "\n";
  for (size_t c = 0; c < settings.size(); ++c) {
    line = c == *best ? "* " : "  ";
    for (size_t k = 0; k < columns.size(); ++k)
      line += fmt::format("{:<{}}  ", settings[c]["params"][columns[k]].dump(), width[k]);
    for (size_t k = 0; k < metrics.size(); ++k)
      line += settings[c][metrics[k]].is_number()
                  ? fmt::format("{:<{}.4f}  ", settings[c][metrics[k]].get<double>(),
                                width[columns.size() + k])
                  : fmt::format("{:<{}}  ", "n/a", width[columns.size() + k]);
    table += line + "\n";
  }
  out.table = table;
  return out;
}

Evaluated evaluate_and_refit(const TrainingData& data, const JobSpec& spec, int threads,
                             Progress* progress) {
  const auto ranking = ranking_options(spec, data);
  evaluation::CvAndFit both = evaluation::cross_validate_and_fit(
      data.data, spec.algorithm, spec.params, data.scale, split_spec(spec),
      static_cast<uint64_t>(spec.seed), threads, nullptr, progress, ranking ? &*ranking : nullptr);
  return {std::move(both.report), std::move(both.model), both.fit_seconds,
          std::move(both.fit_epoch_rmse)};
}

TopLists recommend_all(const algorithms::Model& model, const JobSpec& spec, int threads,
                       Progress* progress) {
  return recommendation::top_n_all_users(model, static_cast<size_t>(spec.top_k), threads, progress);
}

fs::path publish(storage::Warehouse& wh, const Home& home, const Trained& t,
                 const std::string& job_id, TrainSummary& summary, const LogSink& log) {
  Stopwatch step;
  const json metadata = model_metadata(t);
  registry::ModelRegistry models(home.models_dir());
  const registry::Version version = models.reserve_version(
      t.plan.model_name, job_id.empty() ? json::object() : json{{"job", job_id}});
  summary.job_id = !job_id.empty() ? job_id
                                   : fmt::format("train-{}-v{}-{}", t.plan.model_name,
                                                 version.number, utc_now("%Y%m%d-%H%M%S"));
  summary.model_name = t.plan.model_name;
  summary.version = version.number;
  summary.artifact_uri = registry::artifact_uri(version.artifact_path());
  if (t.plan.output) summary.output_rows = t.model.n_users();
  // What recovery needs to settle this version if the process dies before the end: who ran it,
  // where its commit point is, and the result to record if it did commit.
  json in_progress = {{"job", summary.job_id},
                      {"input_table", t.plan.input.display()},
                      {"state", "InProgress"},
                      {"pid", ::getpid()},
                      {"summary", summary.to_json()}};
  if (t.plan.output) {
    in_progress["output_table"] = t.plan.output->display();
    in_progress["db"] = wh.location();
    in_progress["db_backend"] = wh.backend_name();
  }
  try {
    models.stage(version, t.model, metadata, in_progress);
    kill_point("publish:staged");
    if (t.plan.output) {
      summary.output_rows = write_output_table(wh, t, summary.job_id, version);
      kill_point("publish:committed");
    }
    const fs::path artifact = models.commit_staged(version);
    kill_point("publish:visible");
    if (t.plan.output) {
      if (log) {
        log(LogKind::kReport,
            fmt::format("Top {} predictions for all users saved to table named: {}", t.spec.top_k,
                        t.plan.output->display()));
      }
    }
    summary.timings.write = step.seconds();
    summary.timings.total = t.job_clock.seconds();
    json run = summary.to_json();
    run["state"] = "Completed";
    run["cv"] = t.cv ? t.cv->metrics_json() : json(nullptr);
    run["cv_timings"] = t.cv ? t.cv->timings_json() : json(nullptr);
    json diagnostics = t.cv ? t.cv->diagnostics_json() : json::object();
    diagnostics["fit_epoch_rmse"] = t.fit_epoch_rmse;
    run["diagnostics"] = std::move(diagnostics);
    run["finished_at"] = utc_now("%Y-%m-%dT%H:%M:%SZ");
    models.write_run_info(version, run);
    // The model's retention policy, now that there is one more version; a failure here is
    // reported, not the job's.
    try {
      const auto kept = apply_retention(home, t.plan.model_name);
      if (log && !kept.removed.empty()) {
        log(LogKind::kProgress, fmt::format("retention: removed {} old version(s) of {}",
                                            kept.removed.size(), t.plan.model_name));
      }
    } catch (const std::exception& e) {
      if (log) log(LogKind::kProgress, fmt::format("retention: {}", e.what()));
    }
    return artifact;
  } catch (const std::exception& e) {
    // Nothing half-made stays visible; the directory keeps a run.json saying why, so the
    // version number is not reused.
    std::error_code ec;
    fs::remove(version.staged_path(), ec);
    if (!fs::exists(version.artifact_path(), ec)) {
      try {
        in_progress["state"] = "Failed";
        in_progress["failure"] = e.what();
        models.write_run_info(version, in_progress);
      } catch (const std::exception&) {
      }
    }
    throw;
  }
}

}  // namespace reco::training
