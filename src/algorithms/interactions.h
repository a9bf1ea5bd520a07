#pragma once
// What the ranking models (ials, bpr, ease) and explicit ALS train on: the training ratings as
// a sparse user x item matrix in both orientations, and the small dense linear algebra their
// solvers share.
//
// Explicit ratings as implicit feedback: a rating at or above `min_rating` is a positive (an
// observed interaction) carrying its rating as value; every other cell, rated below the threshold
// or not rated at all, is unobserved. min_rating 0 (the default of every ranking model) makes
// every rating a positive, as Microsoft Recommenders' BPR and iALS set-ups on MovieLens do.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "algorithms/params.h"
#include "algorithms/training_set.h"
#include "core/options.h"

namespace reco::algorithms {

struct Interactions {
  uint32_t n_users = 0, n_items = 0;
  // By user: items ascending, each with its rating.
  std::vector<uint64_t> user_offsets;  // n_users + 1
  std::vector<uint32_t> user_item;
  std::vector<float> user_value;
  // By item: users ascending, each with its rating.
  std::vector<uint64_t> item_offsets;  // n_items + 1
  std::vector<uint32_t> item_user;
  std::vector<float> item_value;

  size_t size() const { return user_item.size(); }
};

// The `min_rating` parameter of the ranking models, as each declares it.
OptionSpec min_rating_param();
// max_fit_threads of the models whose fits split users/items over threads (als, ials, ease):
// every core from 20,000 ratings on, one below (threads cost more than they save there).
int row_parallel_fit_threads(const Params& params, size_t n_ratings);

// The ratings of `set` at or above min_rating (every rating when min_rating is -infinity or
// at most the lowest one).
Interactions make_interactions(const TrainingSet& set, double min_rating);
inline Interactions all_interactions(const TrainingSet& set) {
  return make_interactions(set, -std::numeric_limits<double>::infinity());
}

// Solves A x = b for a symmetric positive definite A (n x n, row-major; only the lower triangle
// is read) by Cholesky, in place: A is overwritten by its factor and b by x. Returns false
// (leaving both partly overwritten) when A is not positive definite (a pivot at most 1e-12 of
// its diagonal entry counts as zero).
bool solve_spd_in_place(double* a, double* b, size_t n);

// Calls body(first, last) for consecutive ranges of [0, n) of `grain` rows, on `threads`
// threads (<= 1: the calling thread). Each row is handled by exactly one call; the result must
// not depend on which thread runs which range. When a call throws, the remaining ranges are
// skipped and the exception of the lowest failing range is rethrown on the calling thread.
template <typename Body>
void for_row_ranges(size_t n, size_t grain, int threads, const Body& body);

}  // namespace reco::algorithms

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>

#include "core/parallel.h"

namespace reco::algorithms {

template <typename Body>
void for_row_ranges(size_t n, size_t grain, int threads, const Body& body) {
  grain = std::max<size_t>(grain, 1);
  const size_t chunks = (n + grain - 1) / grain;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::exception_ptr error;
  size_t error_chunk = chunks;
  run_on_threads(std::min<int>(threads, static_cast<int>(std::max<size_t>(chunks, 1))), [&] {
    for (size_t c = next++; c < chunks && !failed; c = next++) {
      try {
        body(c * grain, std::min(n, (c + 1) * grain));
      } catch (...) {
        const std::lock_guard lock(mutex);
        if (c < error_chunk) {
          error_chunk = c;
          error = std::current_exception();
        }
        failed = true;
      }
    }
  });
  if (error) std::rethrow_exception(error);
}

}  // namespace reco::algorithms
