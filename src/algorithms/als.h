#pragma once
// Explicit alternating least squares with weighted-lambda regularisation (Zhou et al. 2008,
// "ALS-WR"), as Spark MLlib's ALS with implicitPrefs=false: r^_ui = x_u . y_i, no biases. Each
// iteration solves every user's
//   (sum over u's ratings of y_i y_i^T + reg_param n_u I) x_u = sum over u's ratings of r_ui y_i
// exactly (Cholesky, in double), n_u the user's rating count, then every item's y_i the same way
// with the users fixed (n_i its rating count). Item factors start as Spark's: each row Gaussian,
// scaled to unit length (the seed). Spark's names: rank, maxIter, regParam, here rank, max_iter,
// reg_param. The model is a FactorModel without biases: an unknown user or item gets the global
// mean of the training ratings (Spark would answer NaN or drop it).

#include <cstdint>
#include <vector>

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "algorithms/interactions.h"

namespace reco::algorithms {

struct AlsOptions {
  int rank = 10;
  int max_iter = 10;
  double reg_param = 0.1;

  static AlsOptions from_params(const Params& params);
};

FactorModel fit_als(const AlsOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, int threads = 1, const EpochProgress& progress = {});

// One user's ALS-WR solution with the item factors of `model` fixed (fold-in).
std::vector<double> als_solve_user(double reg_param, const FactorModel& model,
                                   const std::vector<uint32_t>& items,
                                   const std::vector<double>& ratings);

Algorithm als_algorithm();

}  // namespace reco::algorithms
