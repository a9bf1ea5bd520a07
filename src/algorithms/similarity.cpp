#include "algorithms/similarity.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "algorithms/sparse_rows.h"
#include "algorithms/training_set.h"
#include "core/error.h"
#include "core/parallel.h"

namespace reco::algorithms {

namespace {

constexpr const char* kNames[] = {"cosine", "msd", "pearson", "pearson_baseline"};
constexpr uint64_t kBytesPerNeighbour = 8;  // u32 id + f32 similarity

void sort_rows(RatingRows& rows) {
  std::vector<std::pair<uint32_t, double>> row;
  for (uint32_t r = 0; r < rows.n_rows(); ++r) {
    const uint64_t b = rows.offsets[r], e = rows.offsets[r + 1];
    row.clear();
    for (uint64_t t = b; t < e; ++t) row.emplace_back(rows.cols[t], rows.values[t]);
    std::sort(row.begin(), row.end());
    for (uint64_t t = b; t < e; ++t) std::tie(rows.cols[t], rows.values[t]) = row[t - b];
  }
}

// One row's sums against every other row, dense by x2 (one entry per x2, so the sums of a pair
// share a cache line), reset after each row through `touched`.
template <Similarity S>
struct PairSums {
  uint32_t freq = 0;
  double prods = 0;  // msd: the squared differences
  double sqi = 0, sqj = 0;
  double si = 0, sj = 0;
};
template <>
struct PairSums<Similarity::kMsd> {
  uint32_t freq = 0;
  double prods = 0;
};
template <>
struct PairSums<Similarity::kCosine> {
  uint32_t freq = 0;
  double prods = 0, sqi = 0, sqj = 0;
};
template <>
struct PairSums<Similarity::kPearsonBaseline> {
  uint32_t freq = 0;
  double prods = 0, sqi = 0, sqj = 0;
};

template <Similarity S>
void accumulate(uint32_t x, const RatingRows& by_x, const RatingRows& by_y, bool upper,
                std::vector<PairSums<S>>& sums, std::vector<uint32_t>& touched) {
  for (uint64_t t = by_x.offsets[x]; t < by_x.offsets[x + 1]; ++t) {
    const uint32_t y = by_x.cols[t];
    const double v = by_x.values[t];
    uint64_t q = by_y.offsets[y];
    if (upper) {  // only x2 > x: y's row is sorted, start after x
      const auto first = by_y.cols.begin() + static_cast<ptrdiff_t>(q);
      const auto last = by_y.cols.begin() + static_cast<ptrdiff_t>(by_y.offsets[y + 1]);
      q = static_cast<uint64_t>(std::upper_bound(first, last, x) - by_y.cols.begin());
    }
    for (; q < by_y.offsets[y + 1]; ++q) {
      const uint32_t x2 = by_y.cols[q];
      const double w = by_y.values[q];
      PairSums<S>& p = sums[x2];
      if (p.freq++ == 0) touched.push_back(x2);
      if constexpr (S == Similarity::kMsd) {
        p.prods += (v - w) * (v - w);
      } else {
        p.prods += v * w;
        p.sqi += v * v;
        p.sqj += w * w;
        if constexpr (S == Similarity::kPearson) {
          p.si += v;
          p.sj += w;
        }
      }
    }
  }
}

template <Similarity S>
double finish(const PairSums<S>& p, double shrinkage) {
  const uint32_t n = p.freq;
  if constexpr (S == Similarity::kCosine) {
    return p.prods / std::sqrt(p.sqi * p.sqj);
  } else if constexpr (S == Similarity::kMsd) {
    return 1.0 / (p.prods / n + 1.0);
  } else if constexpr (S == Similarity::kPearson) {
    const double num = n * p.prods - p.si * p.sj;
    const double den = std::sqrt((n * p.sqi - p.si * p.si) * (n * p.sqj - p.sj * p.sj));
    return den == 0.0 ? 0.0 : num / den;
  } else {
    const double rho = p.prods / std::sqrt(p.sqi * p.sqj);
    return rho * (static_cast<double>(n - 1) / (static_cast<double>(n - 1) + shrinkage));
  }
}

// Keeps the `cap` largest of a row's (similarity, id) pairs, ids ascending (ties: the smaller
// id), still ascending afterwards.
// Returns whether it dropped any.
bool keep_largest(std::vector<std::pair<float, uint32_t>>& row, uint64_t cap) {
  if (cap == 0 || row.size() <= cap) return false;
  std::nth_element(row.begin(), row.begin() + static_cast<ptrdiff_t>(cap), row.end(),
                   [](const auto& a, const auto& b) {
                     return a.first > b.first || (a.first == b.first && a.second < b.second);
                   });
  row.resize(cap);
  std::sort(row.begin(), row.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  return true;
}

template <Similarity S>
NeighbourLists compute(const RatingRows& by_x, const RatingRows& by_y, const SimilarityOptions& o,
                       bool upper) {
  const uint32_t n_x = by_x.n_rows();
  const uint32_t min_support =
      S == Similarity::kPearsonBaseline ? std::max<uint32_t>(2, o.min_support) : o.min_support;
  std::atomic<bool> truncated{false};
  auto rows = build_sparse_rows<float>(n_x, o.threads, [&] {
    return [&, sums = std::vector<PairSums<S>>(n_x), touched = std::vector<uint32_t>(),
            row = std::vector<std::pair<float, uint32_t>>()](uint32_t x, std::vector<uint32_t>& ids,
                                                             std::vector<float>& sims) mutable {
      accumulate<S>(x, by_x, by_y, upper, sums, touched);
      ascending_ids(touched, n_x, [&](uint32_t x2) { return sums[x2].freq > 0; });
      row.clear();
      for (const uint32_t x2 : touched) {
        if (x2 != x && sums[x2].freq >= min_support) {
          const double sim = finish<S>(sums[x2], o.shrinkage);
          const auto f = static_cast<float>(sim);
          if (std::isfinite(sim) && f > 0.0f) row.emplace_back(f, x2);
        }
        sums[x2] = PairSums<S>();
      }
      touched.clear();
      if (keep_largest(row, o.max_neighbors)) truncated = true;
      for (const auto& [sim, id] : row) {
        ids.push_back(id);
        sims.push_back(sim);
      }
    };
  });
  if (upper) rows = mirror_upper(std::move(rows), false);
  return {std::move(rows.offsets), std::move(rows.ids), std::move(rows.values), !truncated};
}

std::string human_size(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 30)) return fmt::format("{:.1f} GiB", bytes / 1073741824.0);
  return fmt::format("{:.1f} MiB", bytes / 1048576.0);
}

}  // namespace

const char* similarity_name(Similarity similarity) {
  return kNames[static_cast<uint32_t>(similarity)];
}

std::vector<std::string> similarity_names() {
  return {std::begin(kNames), std::end(kNames)};
}

Similarity similarity_from_name(std::string_view name) {
  for (uint32_t s = 0; s < 4; ++s) {
    if (name == kNames[s]) return static_cast<Similarity>(s);
  }
  throw Error(ErrorKind::kUsage,
              fmt::format("unknown similarity '{}'; valid similarities: cosine, msd, pearson, "
                          "pearson_baseline",
                          std::string(name)));
}

RatingRows ratings_by_user(const TrainingSet& set, bool sorted) {
  RatingRows rows{set.user_offsets, set.item, {set.rating.begin(), set.rating.end()}};
  if (sorted) sort_rows(rows);
  return rows;
}

RatingRows ratings_by_item(const TrainingSet& set, bool sorted) {
  const Dataset& data = *set.dataset;
  RatingRows rows;
  rows.offsets.assign(size_t{set.n_items()} + 1, 0);
  for (const uint32_t k : set.indices) ++rows.offsets[set.model_item[data.item[k]] + 1];
  for (size_t i = 0; i < set.n_items(); ++i) rows.offsets[i + 1] += rows.offsets[i];
  std::vector<uint64_t> next(rows.offsets.begin(), rows.offsets.end() - 1);
  rows.cols.resize(set.indices.size());
  rows.values.resize(set.indices.size());
  for (const uint32_t k : set.indices) {
    const uint64_t pos = next[set.model_item[data.item[k]]]++;
    rows.cols[pos] = set.model_user[data.user[k]];
    rows.values[pos] = data.rating[k];
  }
  if (sorted) sort_rows(rows);
  return rows;
}

float NeighbourLists::find(uint32_t x, uint32_t x2) const {
  if (x == x2) return 1.0f;
  const auto first = ids.begin() + static_cast<ptrdiff_t>(offsets[x]);
  const auto last = ids.begin() + static_cast<ptrdiff_t>(offsets[x + 1]);
  const auto it = std::lower_bound(first, last, x2);
  return it != last && *it == x2 ? sims[static_cast<size_t>(it - ids.begin())] : 0.0f;
}

uint64_t count_candidate_pairs(const RatingRows& by_x, const RatingRows& by_y, uint32_t min_support,
                               uint64_t max_neighbors, int threads) {
  const uint32_t n_x = by_x.n_rows();
  std::atomic<uint32_t> next{0};
  std::atomic<uint64_t> total{0};
  run_on_threads(resolve_threads(threads, 64), [&] {
    std::vector<uint32_t> freq(n_x, 0), touched;
    uint64_t mine = 0;
    for (uint32_t x = next++; x < n_x; x = next++) {
      for (uint64_t t = by_x.offsets[x]; t < by_x.offsets[x + 1]; ++t) {
        const uint32_t y = by_x.cols[t];
        for (uint64_t q = by_y.offsets[y]; q < by_y.offsets[y + 1]; ++q) {
          if (freq[by_y.cols[q]]++ == 0) touched.push_back(by_y.cols[q]);
        }
      }
      uint64_t row = 0;
      for (const uint32_t x2 : touched) {
        if (x2 != x && freq[x2] >= min_support) ++row;
        freq[x2] = 0;
      }
      touched.clear();
      mine += max_neighbors > 0 ? std::min(row, max_neighbors) : row;
    }
    total += mine;
  });
  return total;
}

NeighbourLists compute_neighbours(const RatingRows& by_x, const RatingRows& by_y,
                                  const SimilarityOptions& o) {
  const uint64_t n_x = by_x.n_rows();
  if (o.memory_limit > 0 && n_x > 1) {
    const uint64_t per_row = o.max_neighbors > 0 ? std::min(o.max_neighbors, n_x - 1) : n_x - 1;
    if (n_x * per_row * kBytesPerNeighbour > o.memory_limit) {
      // The bound is too large: count what would really be stored before refusing.
      const uint64_t pairs =
          count_candidate_pairs(by_x, by_y, o.min_support, o.max_neighbors, o.threads);
      if (pairs * kBytesPerNeighbour > o.memory_limit) {
        throw Error(ErrorKind::kInput,
                    fmt::format("{}: {} similarities ({} rows) would take {} ({} bytes), above "
                                "memory_limit={}; lower max_neighbors or raise memory_limit",
                                o.subject, pairs, n_x, human_size(pairs * kBytesPerNeighbour),
                                pairs * kBytesPerNeighbour, o.memory_limit));
      }
    }
  }
  // Without a cap the lists are symmetric: only the upper triangle (x2 > x) is computed, over
  // the ys' ratings sorted by x, and mirrored. With a cap every row needs all its similarities.
  const bool upper = o.max_neighbors == 0;
  RatingRows sorted;
  if (upper) {
    sorted = by_y;
    sort_rows(sorted);
  }
  const RatingRows& ys = upper ? sorted : by_y;
  switch (o.similarity) {
    case Similarity::kCosine:
      return compute<Similarity::kCosine>(by_x, ys, o, upper);
    case Similarity::kMsd:
      return compute<Similarity::kMsd>(by_x, ys, o, upper);
    case Similarity::kPearson:
      return compute<Similarity::kPearson>(by_x, ys, o, upper);
    case Similarity::kPearsonBaseline:
      return compute<Similarity::kPearsonBaseline>(by_x, ys, o, upper);
  }
  throw Error(ErrorKind::kInternal, "unknown similarity");
}

}  // namespace reco::algorithms
