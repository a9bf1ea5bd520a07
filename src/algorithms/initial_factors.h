#pragma once
// The initial factor values of an SVD fit: the first n draws of
// Rng(seed, rng_stream::kFactorInit).normal(init_mean, init_std_dev), as float (user rows in
// model order, then item rows). Drawing them costs a logarithm, a sine and a cosine per pair of
// values, more than several SGD epochs on small data, so:
//  - the uniform draws (cheap, sequential) are made first and the Box-Muller transforms (pure
//    functions of them) run on several threads;
//  - callers that fit many models with the same seed (the cross-validation folds and the refit
//    start from the same sequence) build it once (svd's Algorithm::prepare_shared) and pass it
//    to fit().
// The values are bit-identical to calling Rng::normal n times.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "algorithms/algorithm.h"

namespace reco::algorithms {

class InitialFactors : public FoldShared {
 public:
  InitialFactors(uint64_t seed, double mean, double std_dev, size_t count, int threads);

  bool matches(uint64_t seed, double mean, double std_dev) const {
    return seed == seed_ && mean == mean_ && std_dev == std_dev_;
  }
  size_t size() const { return values_.size(); }
  const float* data() const { return values_.data(); }

 private:
  uint64_t seed_;
  double mean_, std_dev_;
  std::vector<float> values_;
};

}  // namespace reco::algorithms
