#include "evaluation/cross_validate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>

#include <fmt/format.h>

#include "algorithms/train.h"
#include "core/error.h"
#include "evaluation/fit_plan.h"
#include "evaluation/split.h"

namespace reco::evaluation {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

MeanStd summarize(const std::vector<FoldResult>& folds, double FoldResult::*field) {
  std::vector<double> v;
  v.reserve(folds.size());
  for (const auto& f : folds) v.push_back(f.*field);
  return mean_std(v);
}

std::string table_row(std::string_view label, const std::vector<double>& values, MeanStd ms,
                      int decimals, size_t width) {
  std::string row = fmt::format("{:<{}}", label, width);
  for (const double v : values) row += fmt::format("{:<8}", fmt::format("{:.{}f}", v, decimals));
  row += fmt::format("{:<8}", fmt::format("{:.{}f}", ms.mean, decimals));
  row += fmt::format("{:<8}", fmt::format("{:.{}f}", ms.std, decimals));
  row += '\n';
  return row;
}

FoldResult run_fold(const Dataset& data, const Split& split, int fold, std::string_view algorithm,
                    const algorithms::Params& params, RatingScale scale, uint64_t seed,
                    const algorithms::FoldShared* shared, int threads, Progress* work,
                    const RankingOptions* ranking) {
  const std::vector<uint32_t> train = split.train_indices(fold);
  const std::span<const uint32_t> test = split.test_indices(fold);
  FoldResult result;
  result.n_train = train.size();
  result.n_test = test.size();

  const auto fit_start = std::chrono::steady_clock::now();
  double reported = 0;
  const std::unique_ptr<algorithms::Model> model = algorithms::fit(
      algorithm, params, data, train, scale, seed,
      epoch_progress(work, fmt::format("fold {}", fold + 1), &reported, &result.epoch_rmse), shared,
      threads);
  result.fit_seconds = seconds_since(fit_start);
  finish_fit(work, reported);

  const auto test_start = std::chrono::steady_clock::now();
  result.predictions = RatingHistogram::for_scale(scale);
  const Accuracy acc = evaluate(*model, data, test, &result.predictions);
  result.test_seconds = seconds_since(test_start);  // predictions only, as Surprise's test time
  result.rmse = acc.rmse;
  result.mae = acc.mae;
  if (ranking) {
    RankingOptions options = *ranking;
    options.seed = seed + static_cast<uint64_t>(fold);
    result.ranking = ranking_metrics(*model, data, test, options);
  }
  return result;
}

}  // namespace

Accuracy evaluate(const algorithms::Model& model, const Dataset& data,
                  std::span<const uint32_t> rating_indices, RatingHistogram* histogram) {
  if (rating_indices.empty()) throw Error(ErrorKind::kInput, "cannot evaluate on zero ratings");
  double sq = 0.0, abs = 0.0;
  for (const uint32_t k : rating_indices) {
    const int64_t u = model.users.find(data.users.raw(data.user[k]));
    const int64_t i = model.items.find(data.items.raw(data.item[k]));
    const double prediction = model.clip(model.estimate(u, i));
    const double err = static_cast<double>(data.rating[k]) - prediction;
    if (histogram) histogram->add(data.rating[k], prediction);
    sq += err * err;
    abs += std::abs(err);
  }
  const auto n = static_cast<double>(rating_indices.size());
  return {std::sqrt(sq / n), abs / n};
}

MeanStd mean_std(std::span<const double> values) {
  if (values.empty()) return {};
  double sum = 0.0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double sq = 0.0;
  for (const double v : values) sq += (v - mean) * (v - mean);
  return {mean, std::sqrt(sq / static_cast<double>(values.size()))};
}

MeanStd CvReport::rmse() const {
  return summarize(folds, &FoldResult::rmse);
}
MeanStd CvReport::mae() const {
  return summarize(folds, &FoldResult::mae);
}
MeanStd CvReport::fit_seconds() const {
  return summarize(folds, &FoldResult::fit_seconds);
}
MeanStd CvReport::test_seconds() const {
  return summarize(folds, &FoldResult::test_seconds);
}

std::vector<CvReport::RankingRow> CvReport::ranking_rows() const {
  if (!ranking || folds.empty()) return {};
  for (const auto& f : folds)
    if (!f.ranking) return {};
  std::vector<RankingRow> rows;
  for (const RankingMeasure& m : ranking_measures()) {
    RankingRow row{measure_label(m, ranking->k), measure_key(m, ranking->k), {}};
    for (const auto& f : folds) row.values.push_back((*f.ranking).*m.value);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::optional<double> CvReport::metric_mean(std::string_view key) const {
  if (key == "rmse" || key == "mae") {
    if (!rating_metrics) return std::nullopt;
    return key == "rmse" ? rmse().mean : mae().mean;
  }
  for (const auto& row : ranking_rows())
    if (row.key == key) return mean_std(row.values).mean;
  return std::nullopt;
}

RatingHistogram CvReport::predictions() const {
  RatingHistogram all;
  for (const auto& f : folds) all.merge(f.predictions);
  return all;
}

std::string CvReport::format_table() const {
  auto column = [&](double FoldResult::*field) {
    std::vector<double> v;
    for (const auto& f : folds) v.push_back(f.*field);
    return v;
  };
  // Surprise's first column is 18 wide; the ranking rows' longer labels widen it.
  const auto ranking = ranking_rows();
  size_t width = 18;
  for (const auto& row : ranking) width = std::max(width, row.label.size() + 11);
  std::string out = fmt::format("{:<{}}", "", width);
  for (size_t f = 0; f < folds.size(); ++f)
    out += fmt::format("{:<8}", fmt::format("Fold {}", f + 1));
  out += fmt::format("{:<8}{:<8}\n", "Mean", "Std");
  if (rating_metrics) {
    out += table_row("RMSE (testset)", column(&FoldResult::rmse), rmse(), 4, width);
    out += table_row("MAE (testset)", column(&FoldResult::mae), mae(), 4, width);
  } else {
    for (const char* label : {"RMSE (testset)", "MAE (testset)"}) {
      std::string row = fmt::format("{:<{}}", label, width);
      for (size_t f = 0; f < folds.size() + 2; ++f) row += fmt::format("{:<8}", "n/a");
      out += row + '\n';
    }
  }
  for (const auto& row : ranking) {
    out += table_row(row.label + " (testset)", row.values, mean_std(row.values), 4, width);
  }
  out += table_row("Fit time", column(&FoldResult::fit_seconds), fit_seconds(), 2, width);
  out += table_row("Test time", column(&FoldResult::test_seconds), test_seconds(), 2, width);
  return out;
}

namespace {

CvAndFit run_fits(const Dataset& data, std::string_view algorithm, const algorithms::Params& params,
                  RatingScale scale, const SplitSpec& split, uint64_t seed, int threads,
                  const FoldProgress& progress, bool with_full_fit, Progress* work,
                  const RankingOptions* ranking) {
  const std::unique_ptr<Split> made = make_split(split, data, seed);
  const Split& parts = *made;
  const int folds = parts.folds();
  if (work) {
    work->begin(with_full_fit ? "cross-validation + fit" : "cross-validation",
                folds + (with_full_fit ? 1 : 0), "fits");
  }
  // What every fit shares (e.g. the initial random draws: same seed), made once, on all
  // threads; this also checks the algorithm and its parameters.
  const std::unique_ptr<algorithms::FoldShared> shared =
      algorithms::prepare_shared(algorithm, params, data, seed, threads);

  CvAndFit out;
  CvReport& report = out.report;
  report.algorithm = params.algorithm();
  report.params = params;
  report.seed = seed;
  report.rating_metrics = algorithms::find_algorithm(algorithm).predicts_ratings;
  report.folds.resize(static_cast<size_t>(folds));
  if (ranking) report.ranking = *ranking;

  // Each task writes only its own slot, so the results do not depend on scheduling.
  std::mutex progress_mutex;
  int done = 0;
  std::vector<PlannedTask> tasks;
  for (int fold = 0; fold < folds; ++fold) {
    const size_t n_train = parts.train_size(fold, data.size());
    tasks.push_back(PlannedTask{static_cast<double>(n_train),
                                algorithms::max_fit_threads(algorithm, params, n_train),
                                [&, fold](int fit_threads) {
                                  if (work) work->check();
                                  report.folds[static_cast<size_t>(fold)] =
                                      run_fold(data, parts, fold, report.algorithm, params, scale,
                                               seed, shared.get(), fit_threads, work, ranking);
                                  std::lock_guard lock(progress_mutex);
                                  ++done;
                                  if (progress) progress(done, folds);
                                }});
  }
  std::vector<uint32_t> all;
  if (with_full_fit) {
    all = algorithms::all_rating_indices(data);
    tasks.push_back(PlannedTask{
        static_cast<double>(data.size()),
        algorithms::max_fit_threads(algorithm, params, data.size()), [&](int fit_threads) {
          if (work) work->check();
          const auto start = std::chrono::steady_clock::now();
          double reported = 0;
          out.model = algorithms::fit(
              report.algorithm, params, data, all, scale, seed,
              epoch_progress(work, "fit on all ratings", &reported, &out.fit_epoch_rmse),
              shared.get(), fit_threads);
          out.fit_seconds = seconds_since(start);
          finish_fit(work, reported);
        }});
  }
  run_planned(tasks, threads);
  return out;
}

}  // namespace

algorithms::EpochProgress epoch_progress(Progress* work, std::string label, double* reported,
                                         std::vector<double>* curve) {
  if (!work && !curve) return {};
  return [work, label = std::move(label), reported, curve](int epoch, int n_epochs,
                                                           double train_rmse) {
    if (curve) curve->push_back(train_rmse);
    if (!work) return;
    const double share = n_epochs > 0 ? 1.0 / n_epochs : 0.0;
    *reported += share;
    work->advance(share);
    work->set_detail(std::isnan(train_rmse) ? fmt::format("{}: epoch {}/{}", label, epoch, n_epochs)
                                            : fmt::format("{}: epoch {}/{}, train RMSE {:.4f}",
                                                          label, epoch, n_epochs, train_rmse));
    work->check();
  };
}

void finish_fit(Progress* work, double reported) {
  if (work && reported < 1.0) work->advance(1.0 - reported);
}

CvReport cross_validate(const Dataset& data, std::string_view algorithm,
                        const algorithms::Params& params, RatingScale scale, const SplitSpec& split,
                        uint64_t seed, int threads, const FoldProgress& progress, Progress* work,
                        const RankingOptions* ranking) {
  return run_fits(data, algorithm, params, scale, split, seed, threads, progress, false, work,
                  ranking)
      .report;
}

CvReport cross_validate(const Dataset& data, std::string_view algorithm,
                        const algorithms::Params& params, RatingScale scale, int folds,
                        uint64_t seed, int threads, const FoldProgress& progress, Progress* work,
                        const RankingOptions* ranking) {
  SplitSpec split;
  split.folds = folds;
  return cross_validate(data, algorithm, params, scale, split, seed, threads, progress, work,
                        ranking);
}

CvAndFit cross_validate_and_fit(const Dataset& data, std::string_view algorithm,
                                const algorithms::Params& params, RatingScale scale,
                                const SplitSpec& split, uint64_t seed, int threads,
                                const FoldProgress& progress, Progress* work,
                                const RankingOptions* ranking) {
  return run_fits(data, algorithm, params, scale, split, seed, threads, progress, true, work,
                  ranking);
}

CvAndFit cross_validate_and_fit(const Dataset& data, std::string_view algorithm,
                                const algorithms::Params& params, RatingScale scale, int folds,
                                uint64_t seed, int threads, const FoldProgress& progress,
                                Progress* work, const RankingOptions* ranking) {
  SplitSpec split;
  split.folds = folds;
  return cross_validate_and_fit(data, algorithm, params, scale, split, seed, threads, progress,
                                work, ranking);
}

}  // namespace reco::evaluation
