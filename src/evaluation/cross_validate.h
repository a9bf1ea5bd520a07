#pragma once
// Cross-validation as Surprise's cross_validate(algo, data, cv=KFold(k, random_state=seed)):
// every fold trains with the same seed the full refit uses, tests on its slice with clipped
// predictions, and reports RMSE, MAE, fit time and test time.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "algorithms/model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"
#include "core/progress.h"
#include "core/ratings.h"
#include "evaluation/diagnostics.h"
#include "evaluation/ranking.h"
#include "evaluation/split.h"

namespace reco::evaluation {

struct Accuracy {
  double rmse = 0.0;
  double mae = 0.0;
};

// RMSE and MAE of the model's clipped predictions on the given ratings of data. Users and items
// the model does not know fall back as its estimate() says. Throws Error(kInput) on an
// empty selection.
// With `histogram`, each held-out rating and its prediction are also counted there.
Accuracy evaluate(const algorithms::Model& model, const Dataset& data,
                  std::span<const uint32_t> rating_indices, RatingHistogram* histogram = nullptr);

struct FoldResult {
  double rmse = 0.0;
  double mae = 0.0;
  double fit_seconds = 0.0;   // wall time of fit() for this fold
  double test_seconds = 0.0;  // wall time of predicting the test slice
  size_t n_train = 0;
  size_t n_test = 0;
  // The learning curve: training RMSE after each epoch, as the algorithm reported it (empty for
  // one that reports none; NaN for an epoch it could not measure).
  std::vector<double> epoch_rmse;
  RatingHistogram predictions;            // the test slice's ratings and predictions
  std::optional<RankingMetrics> ranking;  // when the cross-validation measures ranking
};

struct MeanStd {
  double mean = 0.0;
  double std = 0.0;  // population standard deviation, like numpy.std
};
MeanStd mean_std(std::span<const double> values);

struct CvReport {
  std::string algorithm;
  algorithms::Params params;  // effective hyperparameters
  uint64_t seed = 0;
  std::vector<FoldResult> folds;
  std::optional<RankingOptions> ranking;  // set when every fold has ranking metrics
  // False for a ranking model (Algorithm::predicts_ratings): its scores are not ratings, so RMSE
  // and MAE do not apply: the table shows n/a, the JSON null, metric_mean() nullopt.
  bool rating_metrics = true;

  MeanStd rmse() const;
  MeanStd mae() const;
  MeanStd fit_seconds() const;
  MeanStd test_seconds() const;
  // Every fold's test slice together: each rating once.
  RatingHistogram predictions() const;
  // The ranking rows: (name as printed, JSON key, value per fold), e.g. ("Precision@10",
  // "precision@10", ...); empty without ranking metrics.
  struct RankingRow {
    std::string label;
    std::string key;
    std::vector<double> values;
  };
  std::vector<RankingRow> ranking_rows() const;
  // The mean over the folds of a metric by JSON key (evaluation::metric_keys); nullopt when this
  // report does not have it.
  std::optional<double> metric_mean(std::string_view key) const;

  // Surprise's printed summary, byte for byte: rows formatted "{:<18}" then "{:<8}" per fold,
  // Mean and Std (trailing spaces kept); 4 decimals for RMSE/MAE, 2 for times. Each row ends
  // with a newline.
  std::string format_table() const;
  // Everything, timings included (cross_validate_json.cpp).
  nlohmann::json to_json() const;
  // The deterministic part, recorded in a model's metadata: folds, per-fold and mean/std RMSE
  // and MAE. Timings apart (timings_json), for run records.
  nlohmann::json metrics_json() const;
  nlohmann::json timings_json() const;
  // For plots (deterministic too, but not part of a model's metadata): {"epoch_rmse": [[per
  // epoch] per fold], "predictions": RatingHistogram::to_json()}.
  nlohmann::json diagnostics_json() const;
};

// Called after each finished fold with the number finished so far; calls are serialized but may
// come from worker threads.
using FoldProgress = std::function<void(int folds_done, int folds)>;

// Runs k-fold cross-validation on `threads` threads (<= 0: one per core), planned by
// fit_plan.h (folds side by side, or one fold split over the threads when the algorithm can);
// the numbers do not depend on the thread count. Throws Error(kInput) when folds < 2 or there
// are fewer ratings than folds, and whatever training throws (the first failing fold's error).
// `work`, when given, gets a step "cross-validation" counted in fits (fractions per epoch) and
// is checked before each fit and after each epoch: cancelling it ends the run with
// Error(kCancelled) within an epoch.
// With `ranking`, each fold also measures its top-k lists (ranking.h) on its test slice. The
// SplitSpec forms divide the ratings as split.h says; the `folds` forms are k-fold.
CvReport cross_validate(const Dataset& data, std::string_view algorithm,
                        const algorithms::Params& params, RatingScale scale, const SplitSpec& split,
                        uint64_t seed, int threads, const FoldProgress& progress = {},
                        Progress* work = nullptr, const RankingOptions* ranking = nullptr);
CvReport cross_validate(const Dataset& data, std::string_view algorithm,
                        const algorithms::Params& params, RatingScale scale, int folds,
                        uint64_t seed, int threads, const FoldProgress& progress = {},
                        Progress* work = nullptr, const RankingOptions* ranking = nullptr);

// cross_validate() and, on the same threads, the fit on every rating that a training job
// publishes: the same model as algorithms::fit() on all ratings with the same seed. Running it
// beside the folds fills the round in which five folds on two threads leave a core idle.
struct CvAndFit {
  CvReport report;
  std::unique_ptr<algorithms::Model> model;
  double fit_seconds = 0.0;            // wall time of the fit on all ratings itself
  std::vector<double> fit_epoch_rmse;  // its learning curve (FoldResult::epoch_rmse)
};
CvAndFit cross_validate_and_fit(const Dataset& data, std::string_view algorithm,
                                const algorithms::Params& params, RatingScale scale,
                                const SplitSpec& split, uint64_t seed, int threads,
                                const FoldProgress& progress = {}, Progress* work = nullptr,
                                const RankingOptions* ranking = nullptr);
CvAndFit cross_validate_and_fit(const Dataset& data, std::string_view algorithm,
                                const algorithms::Params& params, RatingScale scale, int folds,
                                uint64_t seed, int threads, const FoldProgress& progress = {},
                                Progress* work = nullptr, const RankingOptions* ranking = nullptr);

// An EpochProgress that counts each epoch as 1 / n_epochs unit of `work` (its detail names
// `label`) and checks it for cancellation, and appends each epoch's training RMSE to `curve`;
// what a fit did not report is added by finish_fit. Empty when work and curve are null.
algorithms::EpochProgress epoch_progress(Progress* work, std::string label, double* reported,
                                         std::vector<double>* curve = nullptr);
void finish_fit(Progress* work, double reported);

}  // namespace reco::evaluation
