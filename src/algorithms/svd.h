#pragma once
// Biased SVD trained by SGD, following Surprise's SVD.sgd step for step (PROTOCOLS.md §4):
// same visiting order, same update rule with the old factor values, same defaults. Parameters
// are float32 and every step performs the float operations defined in kernels.h (the dot
// product inside training sums 64 interleaved lanes, so training and FactorModel::estimate may
// differ in the last bits of a dot product).
//
// Determinism: the same seed, data and options give a bit-identical model on every instruction
// set (scalar, AVX2, AVX-512: the kernels perform the same operations in the same order) and
// for any thread count.

#include <cstdint>
#include <optional>

#include "algorithms/factor_model.h"
#include "algorithms/initial_factors.h"
#include "algorithms/params.h"
#include "algorithms/simd.h"
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

  // Kernel instruction set; empty: active_isa() (the best the CPU has, capped by RECO_SIMD).
  // Only speed depends on it.
  std::optional<Isa> isa;
  // Rating order: kOff visits ratings in Surprise's order on one thread; kOn uses the block
  // schedule of block_schedule.h (kParallelGrid x kParallelGrid blocks) on `threads` threads
  // (0: all cores), whose result depends on neither the thread count nor timing; kAuto is kOn
  // for training sets of kParallelMinRatings ratings or more, so small data keeps the exact
  // reference order.
  enum class Parallel { kAuto, kOn, kOff };
  Parallel parallel = Parallel::kAuto;
  int threads = 0;
  static constexpr uint32_t kParallelGrid = 8;
  static constexpr size_t kParallelMinRatings = 1'000'000;

  static SvdOptions from_params(const Params& params);  // params of algorithm "svd"
};

// p_u rows (users in model order) then q_i rows are drawn from N(init_mean, init_std_dev) with
// Rng(seed, rng_stream::kFactorInit); biases start at 0. `init`, when given and made for the
// same seed, mean and deviation, supplies those draws (otherwise they are drawn here). With the
// parallel schedule, `progress` is called from one of the worker threads (one call at a time).
FactorModel fit_svd(const SvdOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, const EpochProgress& progress = {},
                    const InitialFactors* init = nullptr);

}  // namespace reco::algorithms
