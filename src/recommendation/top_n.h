#pragma once
// Top-N recommendation: for a user, the k items with the highest estimate among the model's
// items the user did not rate in training, best first. Ranking uses the unclipped estimate
// (predictions shown to people are clipped, but clipping would turn distinct scores at the top
// of the scale into ties); exact ties go to the smaller external item id, so the order never
// depends on dense indices or thread scheduling.
//
// Scores come from Model::score_block and equal (float)Model::estimate(u, i) bit for bit (for a
// factor model: kernels::dot_tile, which sums each dot product exactly as kernels::dot does, 4
// users x 4 items at a time with AVX-512, 2 x 2 with AVX2), so any model type ranks the same
// way through the same code.
//
// All users: users are handed to threads in blocks; each block is scored against the items one
// cache-sized item block at a time (the item rows of a block stay in L2 while every user tile of
// the user block passes over them), and each user's scores go straight into a k-element
// selection that first compares with the current k-th best score. Memory beyond the result is
// O(threads x block sizes): no users x items matrix is ever stored.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "algorithms/model.h"
#include "algorithms/simd.h"
#include "core/progress.h"

namespace reco::recommendation {

struct Scored {
  uint32_t item;  // model (dense) item index; external id: model.items.raw(item)
  float score;    // unclipped estimate
};

// Scores and selects for one model. It refers to the model, which must outlive it. Queries are
// const and may run concurrently.
class TopN {
 public:
  explicit TopN(const algorithms::Model& model);

  // Users scored together per pass over the item factors.
  static constexpr size_t kUserTile = 4;

  // Unclipped estimates of every model item for model user `user` (-1: unknown user, which
  // gets the model's fallback estimate). out.size() must be n_items.
  void score_all(int64_t user, std::span<float> out) const;
  // The same for several users at once (any number; kUserTile is what the kernel scores
  // together): out[t] receives users[t]'s scores. The items go past in cache-sized blocks, each
  // scored for every user before the next.
  void score_tile(std::span<const int64_t> users, std::span<const std::span<float>> out) const;
  // The k best items by `scores`, skipping `excluded` (model item indices, ascending).
  std::vector<Scored> select(std::span<const float> scores, size_t k,
                             std::span<const uint32_t> excluded) const;

  // Top-k for model users [first, first + count), count <= kUserTile, excluding the items each
  // rated; result[t] is for user first + t. scratch is resized to count x n_items floats.
  std::vector<std::vector<Scored>> for_model_users(uint32_t first, uint32_t count, size_t k,
                                                   std::vector<float>& scratch) const;
  // Top-k for an external user id; an unknown user is ranked by the fallback estimate. Items in
  // extra_exclude_raw_items are skipped too (ids the model does not know are ignored).
  std::vector<Scored> for_raw_user(int64_t raw_user, size_t k,
                                   std::span<const int64_t> extra_exclude_raw_items = {}) const;

  // Unclipped estimates of items [first, first + count) for known model users (any number):
  // out[t * ld + j] is users[t]'s score of item first + j.
  void score_range(std::span<const uint32_t> users, uint32_t first, uint32_t count, float* out,
                   size_t ld) const;

  const algorithms::Model& model() const { return model_; }

 private:
  const algorithms::Model& model_;
  algorithms::Isa isa_;
};

// Top-k for every model user (index = model user), on `threads` threads (<= 0: one per core).
// Memory beyond the result: O(threads x items).
// `work`, when given, gets a step "top-n" counted in users and is checked between user blocks
// (Error(kCancelled) when cancelled).
std::vector<std::vector<Scored>> top_n_all_users(const algorithms::Model& model, size_t k,
                                                 int threads, Progress* work = nullptr);

std::vector<Scored> top_n_for_user(const algorithms::Model& model, int64_t raw_user, size_t k,
                                   std::span<const int64_t> extra_exclude_raw_items = {});

}  // namespace reco::recommendation
