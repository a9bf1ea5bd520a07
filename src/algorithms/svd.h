#pragma once
// Biased SVD trained by SGD, following Surprise's SVD.sgd step for step (PROTOCOLS.md §4):
// same visiting order, same update rule with the old factor values, same defaults. Parameters
// are float32 and the SGD error is computed in float; the dot product inside training sums
// eight interleaved lanes (see svd.cpp), so training and FactorModel::estimate may differ in
// the last bits of a dot product.

#include <cstdint>

#include "algorithms/factor_model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"

namespace reco::algorithms {

struct SvdOptions {
  uint32_t n_factors = 100;
  int n_epochs = 20;
  bool biased = true;
  double init_mean = 0.0;
  double init_std_dev = 0.1;
  float lr_bu = 0.005f, lr_bi = 0.005f, lr_pu = 0.005f, lr_qi = 0.005f;
  float reg_bu = 0.02f, reg_bi = 0.02f, reg_pu = 0.02f, reg_qi = 0.02f;

  static SvdOptions from_params(const Params& params);  // params of algorithm "svd"
};

// p_u rows (users in model order) then q_i rows are drawn from N(init_mean, init_std_dev) with
// Rng(seed, rng_stream::kFactorInit); biases start at 0.
FactorModel fit_svd(const SvdOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, const EpochProgress& progress = {});

}  // namespace reco::algorithms
