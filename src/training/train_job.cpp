#include "training/train_job.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/json.h"
#include "core/stopwatch.h"
#include "training/steps.h"

namespace reco::training {

TrainResult run_training(storage::Warehouse& wh, const Home& home, const TrainRequest& req,
                         const LogSink& log) {
  auto emit = [&](LogKind kind, const std::string& line) {
    if (log) log(kind, line);
  };
  const Stopwatch clock;
  Stopwatch step;
  TrainResult result;
  TrainSummary& s = result.summary;
  StepTimings& t = s.timings;

  Progress* const progress = req.progress;
  const JobPlan plan = plan_job(wh, req.spec);
  if (progress) progress->begin("read", 0, "ratings");
  const TrainingData data = read_training_data(wh, plan, req.spec);
  t.read = step.seconds();
  if (progress) progress->check();
  emit(LogKind::kProgress,
       fmt::format("read {} ratings ({} users, {} items) from {} in {:.2f} s", data.data.size(),
                   data.data.n_users(), data.data.n_items(), plan.input.display(), t.read));

  // A search picks the hyperparameters; the job then trains the winner as it would any setting.
  std::optional<SearchOutcome> searched;
  if (req.spec.search) {
    step.restart();
    searched = search(data, req.spec, req.threads, progress, log);
    t.search = step.seconds();
    emit(LogKind::kReport, searched->table);
    s.search = searched->record;
    result.search_table = searched->table;
  }
  const JobSpec& spec = searched ? searched->best : req.spec;

  // Cross-validation and the fit on every rating share the threads (steps.h); the fit's own
  // time is reported, so cv_s and fit_s overlap.
  std::optional<evaluation::CvReport> cv;
  std::unique_ptr<algorithms::Model> model;
  std::vector<double> fit_curve;
  step.restart();
  if (searched) {
    // The winner was cross-validated during the search: only the fit on every rating is left.
    cv = std::move(searched->best_cv);
    t.cv = searched->best_seconds;
    model = refit(data, spec, req.threads, progress, &fit_curve);
    t.fit = step.seconds();
  } else if (spec.folds > 0) {
    Evaluated both = evaluate_and_refit(data, spec, req.threads, progress);
    t.cv = step.seconds();
    t.fit = both.fit_seconds;
    cv = std::move(both.cv);
    model = std::move(both.model);
    fit_curve = std::move(both.fit_epoch_rmse);
  } else {
    model = refit(data, spec, req.threads, progress, &fit_curve);
    t.fit = step.seconds();
  }
  if (cv) {
    result.cv_table = cv->format_table();
    emit(LogKind::kReport, fmt::format("Evaluating RMSE, MAE of algorithm {} on {} split(s).\n",
                                       spec.algorithm, cv->folds.size()));
    emit(LogKind::kReport, result.cv_table);
  }
  emit(LogKind::kProgress, fmt::format("fit {} on all {} ratings in {:.2f} s", spec.algorithm,
                                       data.data.size(), t.fit));

  step.restart();
  const TopLists top =
      plan.output ? recommend_all(*model, spec, req.threads, progress) : TopLists{};
  t.top_n = step.seconds();
  // The last point where a cancel is honoured: publishing writes, and is not stopped half-way.
  if (progress) {
    progress->check();
    progress->begin("publish", 0, "");
  }

  s.algorithm = spec.algorithm;
  s.input_table = plan.input.display();
  if (plan.output) s.output_table = plan.output->display();
  s.ratings = data.data.size();
  s.users = data.data.n_users();
  s.items = data.data.n_items();
  s.seed = spec.seed;
  s.folds = cv ? static_cast<int>(cv->folds.size()) : 0;  // a stratified split is one
  s.top_k = spec.top_k;
  if (cv) {
    s.rmse = cv->metric_mean("rmse");  // none for a ranking model
    s.mae = cv->metric_mean("mae");
    for (const auto& row : cv->ranking_rows())
      s.ranking.emplace_back(row.key, evaluation::mean_std(row.values).mean);
  }
  result.artifact_path =
      publish(wh, home, Trained{plan, spec, data, cv, *model, top, clock, fit_curve}, req.job_id, s,
              log)
          .string();
  emit(LogKind::kReport, "Training complete.");
  return result;
}

TrainResult run_evaluation(storage::Warehouse& wh, const TrainRequest& req, const LogSink& log) {
  const JobSpec& spec = req.spec;
  if (!spec.output_table.empty()) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("evaluation writes no table; output table '{}' given", spec.output_table));
  }
  if (spec.folds < 2) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("evaluation is cross-validation: folds must be 2..100, got {}", spec.folds));
  }
  const Stopwatch clock;
  Stopwatch step;
  const JobPlan plan = plan_job(wh, spec);
  if (req.progress) req.progress->begin("read", 0, "ratings");
  const TrainingData data = read_training_data(wh, plan, spec);
  const double read_s = step.seconds();
  if (req.progress) req.progress->check();
  if (log) {
    log(LogKind::kProgress,
        fmt::format("read {} ratings ({} users, {} items) from {} in {:.2f} s", data.data.size(),
                    data.data.n_users(), data.data.n_items(), plan.input.display(), read_s));
  }
  std::optional<SearchOutcome> searched;
  if (spec.search) {
    step.restart();
    searched = search(data, spec, req.threads, req.progress, log);
    if (log) log(LogKind::kReport, searched->table);
  }
  const JobSpec& chosen = searched ? searched->best : spec;
  step.restart();
  // With a search, the winner's cross-validation is the report; without, it runs now.
  const evaluation::CvReport cv =
      searched ? std::move(searched->best_cv) : evaluate(data, chosen, req.threads, req.progress);
  const double cv_s = searched ? searched->best_seconds : step.seconds();
  TrainResult result;
  if (searched) result.search_table = searched->table;
  result.cv_table = cv.format_table();
  if (log) {
    log(LogKind::kReport, fmt::format("Evaluating RMSE, MAE of algorithm {} on {} split(s).\n",
                                      spec.algorithm, cv.folds.size()));
    log(LogKind::kReport, result.cv_table);
  }
  nlohmann::json report = {
      {"job", req.job_id},
      {"algorithm", spec.algorithm},
      {"input_table", plan.input.display()},
      {"ratings", data.data.size()},
      {"users", data.data.n_users()},
      {"items", data.data.n_items()},
      {"seed", spec.seed},
      {"folds", cv.folds.size()},
      {"split", spec.split},
      {"rmse", cv.metric_mean("rmse") ? nlohmann::json(*cv.metric_mean("rmse")) : nlohmann::json()},
      {"mae", cv.metric_mean("mae") ? nlohmann::json(*cv.metric_mean("mae")) : nlohmann::json()},
      {"cv", cv.metrics_json()},
      {"timings", {{"read_s", read_s}, {"cv_s", cv_s}, {"total_s", clock.seconds()}}},
  };
  for (const auto& row : cv.ranking_rows()) report[row.key] = evaluation::mean_std(row.values).mean;
  if (searched) {
    report["search"] = searched->record;
    report["params"] = algorithms::params_to_json(chosen.params);
  }
  result.evaluation = json_text(report);
  return result;
}

std::string TrainResult::result_json() const {
  return evaluation.empty() ? json_text(summary.to_json()) : evaluation;
}

}  // namespace reco::training
