#include "algorithms/block_schedule.h"

namespace reco::algorithms {
namespace {

// Row of index x when indices are dealt into `grid` blocks by x mod grid and each block is a
// contiguous range.
std::vector<uint32_t> dealt_rows(uint32_t n, uint32_t grid) {
  std::vector<uint32_t> first(grid + 1, 0);
  for (uint32_t b = 0; b < grid; ++b) first[b + 1] = first[b] + (n + grid - 1 - b) / grid;
  std::vector<uint32_t> row(n);
  for (uint32_t x = 0; x < n; ++x) row[x] = first[x % grid] + x / grid;
  return row;
}

}  // namespace

BlockSchedule::BlockSchedule(const TrainingSet& set, uint32_t grid)
    : grid_(grid),
      user_row_(dealt_rows(set.n_users(), grid)),
      item_row_(dealt_rows(set.n_items(), grid)),
      blocks_(size_t{grid} * grid) {
  const uint32_t nu = set.n_users();
  // Pass 1: ratings and segments per block.
  std::vector<uint64_t> ratings_in(blocks_.size(), 0), segments_in(blocks_.size(), 0);
  std::vector<uint64_t> per_column(grid);
  for (uint32_t u = 0; u < nu; ++u) {
    std::fill(per_column.begin(), per_column.end(), 0);
    for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
      ++per_column[set.item[k] % grid];
    }
    const size_t r = u % grid;
    for (uint32_t c = 0; c < grid; ++c) {
      ratings_in[r * grid + c] += per_column[c];
      segments_in[r * grid + c] += per_column[c] > 0 ? 1 : 0;
    }
  }
  std::vector<uint64_t> next(blocks_.size());
  uint64_t total = 0;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    next[b] = total;
    total += ratings_in[b];
    blocks_[b].users.reserve(segments_in[b]);
    blocks_[b].offsets.reserve(segments_in[b] + 1);
  }
  item_.resize(total);
  rating_.resize(total);
  // Pass 2: users in ascending order, each user's ratings in list order, into their blocks.
  for (uint32_t u = 0; u < nu; ++u) {
    const size_t r = u % grid;
    for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
      const uint32_t i = set.item[k];
      const size_t b = r * grid + i % grid;
      Block& block = blocks_[b];
      if (block.users.empty() || block.users.back() != user_row_[u]) {
        block.users.push_back(user_row_[u]);
        block.offsets.push_back(next[b]);
      }
      item_[next[b]] = item_row_[i];
      rating_[next[b]] = set.rating[k];
      ++next[b];
    }
  }
  for (size_t b = 0; b < blocks_.size(); ++b) blocks_[b].offsets.push_back(next[b]);
}

kernels::SgdSegments BlockSchedule::segments(uint32_t r, uint32_t c) const {
  const Block& b = blocks_[size_t{r} * grid_ + c];
  return {b.users.data(), b.offsets.data(), b.users.size(), item_.data(), rating_.data()};
}

size_t BlockSchedule::block_size(uint32_t r, uint32_t c) const {
  const Block& b = blocks_[size_t{r} * grid_ + c];
  return b.offsets.back() - b.offsets.front();
}

}  // namespace reco::algorithms
