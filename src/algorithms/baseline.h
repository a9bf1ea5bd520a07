#pragma once
// BaselineOnly: estimate = mu + b_u + b_i, fitted as in Surprise's baseline_als (items first,
// then users, each sweep a closed-form regularized mean) or baseline_sgd. Biases are computed in
// double, as Surprise does, and stored as float in a FactorModel with n_factors = 0.

#include <string>

#include "algorithms/factor_model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"

namespace reco::algorithms {

struct BaselineOptions {
  enum class Method { kAls, kSgd };
  Method method = Method::kAls;
  int n_epochs = 10;
  double reg_u = 15.0;           // ALS
  double reg_i = 10.0;           // ALS
  double reg = 0.02;             // SGD
  double learning_rate = 0.005;  // SGD

  static BaselineOptions from_params(const Params& params);  // params of algorithm "baseline"
};

FactorModel fit_baseline(const BaselineOptions& options, const TrainingSet& set, RatingScale scale,
                         const EpochProgress& progress = {});

}  // namespace reco::algorithms
