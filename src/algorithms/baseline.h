#pragma once
// BaselineOnly: estimate = mu + b_u + b_i, fitted as in Surprise's baseline_als (items first,
// then users, each sweep a closed-form regularized mean) or baseline_sgd. Biases are computed in
// double, as Surprise does, and stored as float in a FactorModel with n_factors = 0.

#include <string>

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"

namespace reco::algorithms {

// Built from the parameter table (baseline_algorithm() in baseline.cpp), which holds the
// defaults.
struct BaselineOptions {
  enum class Method { kAls, kSgd };
  Method method = Method::kAls;
  int n_epochs{};
  double reg_u{};          // ALS
  double reg_i{};          // ALS
  double reg{};            // SGD
  double learning_rate{};  // SGD

  static BaselineOptions from_params(const Params& params);  // params of algorithm "baseline"
  static BaselineOptions defaults();                         // the table's defaults
};

FactorModel fit_baseline(const BaselineOptions& options, const TrainingSet& set, RatingScale scale,
                         const EpochProgress& progress = {});

// The registry entry (algorithm.h).
Algorithm baseline_algorithm();

}  // namespace reco::algorithms
