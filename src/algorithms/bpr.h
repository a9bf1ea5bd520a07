#pragma once
// Bayesian personalized ranking (Rendle et al. 2009), with the names and defaults of the
// `implicit` library's BayesianPersonalizedRanking (Cornac's BPR: k, max_iter, learning_rate,
// lambda_reg are the same four). The positives are the ratings >= min_rating (interactions.h).
// Each iteration draws as many (u, i, j) triples as there are positives, uniformly at random
// (the seed): (u, i) a positive, j an item u has no positive for (redrawn until it is one;
// a user with every item positive is skipped). With x_uij = b_i - b_j + p_u . (q_i - q_j) and
// z = 1 / (1 + exp(x_uij)), one SGD step of the BPR-Opt objective:
//   p_u += learning_rate (z (q_i - q_j) - regularization p_u)
//   q_i += learning_rate (z p_u - regularization q_i)
//   q_j += learning_rate (-z p_u - regularization q_j)
//   b_i += learning_rate (z - regularization b_i);  b_j += learning_rate (-z - regularization b_j)
// with the old p_u, q_i, q_j on the right. Factors start uniform in (-0.5, 0.5) / factors, item
// biases at 0, as in implicit. One thread (the steps are sequential, so the model is the same on
// any machine). The model is a FactorModel with item biases only and a global mean of 0:
// score(u, i) = b_i + p_u . q_i, a ranking score (not a rating); an unknown user gets b_i.

#include <cstdint>

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "algorithms/interactions.h"

namespace reco::algorithms {

struct BprOptions {
  int factors = 100;
  double learning_rate = 0.01;
  double regularization = 0.01;
  int iterations = 100;
  double min_rating = 0.0;

  static BprOptions from_params(const Params& params);
};

FactorModel fit_bpr(const BprOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, const EpochProgress& progress = {});

Algorithm bpr_algorithm();

}  // namespace reco::algorithms
