#pragma once
// Building compressed sparse rows on several threads, for the neighbourhood models: each row is
// computed independently by a worker (one per thread, with its own scratch), rows are handed out
// in blocks, and the blocks are joined in row order, so the result does not depend on the
// number of threads or their timing.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/parallel.h"

namespace reco::algorithms {

template <typename Value>
struct SparseRows {
  std::vector<uint64_t> offsets;  // n_rows + 1
  std::vector<uint32_t> ids;
  std::vector<Value> values;
};

// make_worker() returns a callable worker(row, ids, values) that appends row's entries to ids
// and values; it is called once per thread.
template <typename Value, typename MakeWorker>
SparseRows<Value> build_sparse_rows(uint32_t n_rows, int threads, const MakeWorker& make_worker) {
  constexpr uint32_t kBlock = 64;
  struct Block {
    std::vector<uint32_t> counts;
    std::vector<uint32_t> ids;
    std::vector<Value> values;
  };
  const uint32_t n_blocks = (n_rows + kBlock - 1) / kBlock;
  std::vector<Block> blocks(n_blocks);
  std::atomic<uint32_t> next{0};
  run_on_threads(resolve_threads(threads, static_cast<int>(n_blocks)), [&] {
    auto worker = make_worker();
    for (uint32_t b = next++; b < n_blocks; b = next++) {
      Block& block = blocks[b];
      const uint32_t first = b * kBlock, last = std::min(n_rows, first + kBlock);
      for (uint32_t row = first; row < last; ++row) {
        const size_t before = block.ids.size();
        worker(row, block.ids, block.values);
        block.counts.push_back(static_cast<uint32_t>(block.ids.size() - before));
      }
    }
  });
  SparseRows<Value> out;
  out.offsets.reserve(size_t{n_rows} + 1);
  out.offsets.push_back(0);
  uint64_t total = 0;
  for (const Block& block : blocks) total += block.ids.size();
  out.ids.reserve(total);
  out.values.reserve(total);
  for (Block& block : blocks) {
    for (const uint32_t c : block.counts) out.offsets.push_back(out.offsets.back() + c);
    out.ids.insert(out.ids.end(), block.ids.begin(), block.ids.end());
    out.values.insert(out.values.end(), block.values.begin(), block.values.end());
    block = Block();  // frees it
  }
  return out;
}

// The full rows of a symmetric (or antisymmetric: negate) relation from its upper triangle
// (row r holding only ids > r, ascending): row r gets the entries (q, value of (q, r)) of the
// rows q < r that hold r, in ascending q, then its own. Ascending ids in every row.
template <typename Value>
SparseRows<Value> mirror_upper(SparseRows<Value> upper, bool negate) {
  const size_t n = upper.offsets.size() - 1;
  SparseRows<Value> full;
  full.offsets.assign(n + 1, 0);
  for (size_t r = 0; r < n; ++r) {
    full.offsets[r + 1] += upper.offsets[r + 1] - upper.offsets[r];
    for (uint64_t t = upper.offsets[r]; t < upper.offsets[r + 1]; ++t)
      ++full.offsets[upper.ids[t] + 1];
  }
  for (size_t r = 0; r < n; ++r) full.offsets[r + 1] += full.offsets[r];
  full.ids.resize(full.offsets[n]);
  full.values.resize(full.offsets[n]);
  std::vector<uint64_t> next(full.offsets.begin(), full.offsets.end() - 1);
  for (size_t r = 0; r < n; ++r) {  // rows q < r come first: their entries of r, ascending in q
    for (uint64_t t = upper.offsets[r]; t < upper.offsets[r + 1]; ++t) {
      const uint32_t c = upper.ids[t];
      full.ids[next[c]] = static_cast<uint32_t>(r);
      full.values[next[c]++] = negate ? -upper.values[t] : upper.values[t];
    }
  }
  // Each row's own entries (ids > r) after its mirrored ones (ids < r).
  for (size_t r = 0; r < n; ++r) {
    uint64_t at = full.offsets[r + 1] - (upper.offsets[r + 1] - upper.offsets[r]);
    for (uint64_t t = upper.offsets[r]; t < upper.offsets[r + 1]; ++t) {
      full.ids[at] = upper.ids[t];
      full.values[at++] = upper.values[t];
    }
  }
  return full;
}

// The ids a row touched (each once), in ascending order: sorted when they are few, else found
// again by a scan over every id (present(id): whether the row touched it), which costs n but no
// sort.
template <typename Present>
void ascending_ids(std::vector<uint32_t>& touched, uint32_t n, const Present& present) {
  if (touched.size() * 16 < n) {
    std::sort(touched.begin(), touched.end());
    return;
  }
  touched.clear();
  for (uint32_t id = 0; id < n; ++id)
    if (present(id)) touched.push_back(id);
}

}  // namespace reco::algorithms
