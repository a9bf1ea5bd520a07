#pragma once
// BaselineOnly: estimate = mu + b_u + b_i, fitted as in Surprise's baseline_als (items first,
// then users, each sweep a closed-form regularized mean) or baseline_sgd. Biases are computed in
// double, as Surprise does, and stored as float in a FactorModel with n_factors = 0.

#include <string>
#include <vector>

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

  static BaselineOptions from_params(const Params& params);  // params with baseline_param_rows()
  static BaselineOptions defaults();                         // the table's defaults
};

// Surprise's compute_baselines(): b_u and b_i in double (users and items of the training set).
struct Baselines {
  std::vector<double> user_bias, item_bias;
};
Baselines compute_baselines(const BaselineOptions& options, const TrainingSet& set,
                            const EpochProgress& progress = {});

FactorModel fit_baseline(const BaselineOptions& options, const TrainingSet& set, RatingScale scale,
                         const EpochProgress& progress = {});

// The parameter rows of the baseline estimates (method, n_epochs, reg_u, reg_i, reg,
// learning_rate: Surprise's bsl_options), shared by baseline and knn_baseline.
OptionTable baseline_param_rows();

// The registry entry (algorithm.h).
Algorithm baseline_algorithm();

}  // namespace reco::algorithms
