#include "training/train_job.h"

#include <fmt/format.h>

#include "core/stopwatch.h"
#include "training/steps.h"

namespace reco::training {

TrainResult run_training(storage::Warehouse& wh, const Home& home, const TrainRequest& req,
                         const LogSink& log) {
  auto emit = [&](LogKind kind, const std::string& line) {
    if (log) log(kind, line);
  };
  const JobSpec& spec = req.spec;
  const Stopwatch clock;
  Stopwatch step;
  TrainResult result;
  TrainSummary& s = result.summary;
  StepTimings& t = s.timings;

  const JobPlan plan = plan_job(wh, spec);
  const TrainingData data = read_training_data(wh, plan, spec);
  t.read = step.seconds();
  emit(LogKind::kProgress,
       fmt::format("read {} ratings ({} users, {} items) from {} in {:.2f} s", data.data.size(),
                   data.data.n_users(), data.data.n_items(), plan.input.display(), t.read));

  std::optional<evaluation::CvReport> cv;
  if (spec.folds > 0) {
    step.restart();
    cv = evaluate(data, spec, req.threads);
    t.cv = step.seconds();
    result.cv_table = cv->format_table();
    emit(LogKind::kReport, fmt::format("Evaluating RMSE, MAE of algorithm {} on {} split(s).\n",
                                       spec.algorithm, spec.folds));
    emit(LogKind::kReport, result.cv_table);
  }

  step.restart();
  const auto model = refit(data, spec);
  t.fit = step.seconds();
  emit(LogKind::kProgress, fmt::format("fit {} on all {} ratings in {:.2f} s", spec.algorithm,
                                       data.data.size(), t.fit));

  step.restart();
  const TopLists top = plan.output ? recommend_all(*model, spec, req.threads) : TopLists{};
  t.top_n = step.seconds();

  s.algorithm = spec.algorithm;
  s.input_table = plan.input.display();
  if (plan.output) s.output_table = plan.output->display();
  s.ratings = data.data.size();
  s.users = data.data.n_users();
  s.items = data.data.n_items();
  s.seed = spec.seed;
  s.folds = spec.folds;
  s.top_k = spec.top_k;
  if (cv) {
    s.rmse = cv->rmse().mean;
    s.mae = cv->mae().mean;
  }
  result.artifact_path =
      publish(wh, home, Trained{plan, spec, data, cv, *model, top, clock}, req.job_id, s, log)
          .string();
  emit(LogKind::kReport, "Training complete.");
  return result;
}

}  // namespace reco::training
