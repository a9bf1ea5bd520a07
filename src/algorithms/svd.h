#pragma once
// Biased SVD trained by SGD, following Surprise's SVD.sgd step for step (docs/ALGORITHMS.md):
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

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "algorithms/initial_factors.h"
#include "algorithms/params.h"
#include "algorithms/simd.h"
#include "algorithms/training_set.h"

namespace reco::algorithms {

// Built from the parameter table (svd_algorithm() in svd.cpp), which holds the defaults.
struct SvdOptions {
  uint32_t n_factors{};
  int n_epochs{};
  bool biased{};
  double init_mean{};
  double init_std_dev{};
  float lr_bu{}, lr_bi{}, lr_pu{}, lr_qi{};
  float reg_bu{}, reg_bi{}, reg_pu{}, reg_qi{};

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

  // Whether a training set of n ratings is visited in the block schedule.
  bool uses_block_schedule(size_t n_ratings) const {
    return parallel == Parallel::kOn ||
           (parallel == Parallel::kAuto && n_ratings >= kParallelMinRatings);
  }

  static SvdOptions from_params(const Params& params);  // params of algorithm "svd"
  static SvdOptions defaults();                         // the table's defaults
};

// p_u rows (users in model order) then q_i rows are drawn from N(init_mean, init_std_dev) with
// Rng(seed, rng_stream::kFactorInit); biases start at 0. `init`, when given and made for the
// same seed, mean and deviation, supplies those draws (otherwise they are drawn here). With the
// parallel schedule, `progress` is called from one of the worker threads (one call at a time).
FactorModel fit_svd(const SvdOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, const EpochProgress& progress = {},
                    const InitialFactors* init = nullptr);

// The registry entry (algorithm.h): parameters, fit, and the initial factors every fold of a
// cross-validation shares.
Algorithm svd_algorithm();

}  // namespace reco::algorithms
