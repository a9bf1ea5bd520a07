#pragma once
// The parallel SGD schedule (LIBMF-style, deterministic): users and items are dealt into a
// fixed G x G grid of blocks (user u to row u mod G, item i to column i mod G: model indices
// follow first appearance, so popular users and items are spread over the grid). An epoch is G
// sub-epochs; sub-epoch s visits the G blocks (r, (r + s) mod G), which share no user and no
// item, so they run on any number of threads without locks and the result does not depend on
// the thread count or on timing. Inside a block, ratings go user by user (ascending model user),
// each user's in training-list order.
//
// The working parameter rows are permuted so that every row block and column block is a
// contiguous range (threads writing neighbouring biases or rows would otherwise share cache
// lines): working row of user u = first row of block u mod G + u div G, likewise for items.

#include <cstdint>
#include <vector>

#include "algorithms/kernels.h"
#include "algorithms/training_set.h"

namespace reco::algorithms {

class BlockSchedule {
 public:
  BlockSchedule(const TrainingSet& set, uint32_t grid);

  uint32_t grid() const { return grid_; }
  uint32_t user_row(uint32_t u) const { return user_row_[u]; }
  uint32_t item_row(uint32_t i) const { return item_row_[i]; }
  // Block (r, c) as kernel segments (users and items are working rows).
  kernels::SgdSegments segments(uint32_t r, uint32_t c) const;
  size_t block_size(uint32_t r, uint32_t c) const;

 private:
  struct Block {
    std::vector<uint32_t> users;
    std::vector<uint64_t> offsets;  // into item_ / rating_, users.size() + 1
  };
  uint32_t grid_;
  std::vector<uint32_t> user_row_, item_row_;
  std::vector<uint32_t> item_;
  std::vector<float> rating_;
  std::vector<Block> blocks_;  // r * grid + c
};

}  // namespace reco::algorithms
