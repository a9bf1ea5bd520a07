#pragma once
// Non-negative matrix factorization (Surprise's NMF, after Luo et al. 2014): r^_ui = q_i . p_u
// (plus mu + b_u + b_i with biased=true), factors kept non-negative by multiplicative updates.
// Each epoch, over the training ratings in Surprise's order:
//   est = [mu + b_u + b_i +] q_i . p_u;  with biases: b_u, b_i take an SGD step on r - est
//   num_u += q_i r;  den_u += q_i est;  num_i += p_u r;  den_i += p_u est
// then p_uf *= num_uf / (den_uf + |R_u| reg_pu p_uf) for every user and
//      q_if *= num_if / (den_if + |R_i| reg_qi q_if) for every item.
// Factors start uniform in [init_low, init_high]. The model is a FactorModel: an unknown user or
// item gets the global mean (unbiased) or mu plus the known bias, as in Surprise.

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"

namespace reco::algorithms {

struct NmfOptions {
  int n_factors = 15;
  int n_epochs = 50;
  bool biased = false;
  double reg_pu = 0.06, reg_qi = 0.06, reg_bu = 0.02, reg_bi = 0.02;
  double lr_bu = 0.005, lr_bi = 0.005;
  double init_low = 0.0, init_high = 1.0;

  static NmfOptions from_params(const Params& params);
};

FactorModel fit_nmf(const NmfOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, const EpochProgress& progress = {});

Algorithm nmf_algorithm();

}  // namespace reco::algorithms
