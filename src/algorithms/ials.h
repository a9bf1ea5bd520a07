#pragma once
// Implicit ALS (iALS / WRMF: Hu, Koren & Volinsky 2008), solved by conjugate gradient as the
// `implicit` library's AlternatingLeastSquares does (Takács, Pilászy & Tikk 2011). The
// positives (ratings >= min_rating, interactions.h) have preference p_ui = 1 and confidence
//   c_ui = 1 + alpha * w_ui,   w_ui = 1 (confidence=binary) or the rating (confidence=rating);
// every other cell has p_ui = 0 and c_ui = 1. The loss
//   sum over all (u, i) of c_ui (p_ui - x_u . y_i)^2 + regularization (|x_u|^2 + |y_i|^2)
// is minimised alternately: each user's x_u solves
//   (Y^T Y + regularization I + sum over positives of (c_ui - 1) y_i y_i^T) x_u
//       = sum over positives of c_ui y_i,
// approximately, by cg_steps conjugate-gradient steps started from the current x_u (Y^T Y
// formed once per half-iteration); then each item's y_i the same way with the users fixed.
// `iterations` rounds of both. Factors start uniform in [0, 0.01) (the seed), as in implicit.
// The model is a FactorModel without biases and a global mean of 0: score(u, i) = x_u . y_i, a
// preference score (not a rating); an unknown user or item scores 0.

#include <cstdint>

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "algorithms/interactions.h"

namespace reco::algorithms {

struct IalsOptions {
  int factors = 100;
  double regularization = 0.01;
  double alpha = 1.0;
  int iterations = 15;
  int cg_steps = 3;
  bool rating_confidence = false;  // confidence=rating
  double min_rating = 0.0;

  static IalsOptions from_params(const Params& params);
  double confidence(float rating) const {
    return 1.0 + alpha * (rating_confidence ? static_cast<double>(rating) : 1.0);
  }
};

FactorModel fit_ials(const IalsOptions& options, const TrainingSet& set, RatingScale scale,
                     uint64_t seed, int threads = 1, const EpochProgress& progress = {});

// One user's exact iALS solution with the item factors of `model` fixed (fold-in): the normal
// equations above solved by Cholesky. items/ratings: the user's positives (model item indices).
std::vector<double> ials_solve_user(const IalsOptions& options, const FactorModel& model,
                                    const std::vector<uint32_t>& items,
                                    const std::vector<double>& ratings);

Algorithm ials_algorithm();

}  // namespace reco::algorithms
