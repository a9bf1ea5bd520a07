#pragma once
// Similarities between users (or items) for the neighbourhood algorithms, as Surprise's
// similarities.pyx defines them, over the ys (items, or users) both rated ("co-rated"):
//   cosine            sum r_x r_x' / sqrt(sum r_x^2 * sum r_x'^2)
//   msd               1 / (sum (r_x - r_x')^2 / n + 1)
//   pearson           (n sum r_x r_x' - sum r_x sum r_x') /
//                     sqrt((n sum r_x^2 - (sum r_x)^2) (n sum r_x'^2 - (sum r_x')^2)), 0 when the
//                     denominator is 0
//   pearson_baseline  the cosine of the residuals r - b (b = mu + b_u + b_i, the baseline), times
//                     (n - 1) / (n - 1 + shrinkage); it needs n >= 2
// with n the number of co-rated ys; a pair with fewer than min_support co-rated ys has
// similarity 0, and a user (item) is similar to itself with 1.
//
// The sums of one row x are accumulated by walking x's ratings (y ascending) and, for each y,
// every rating of y: only co-rated pairs are touched (sparse), into dense accumulators of one
// row, rows spread over threads. Each row keeps only its positive similarities (a neighbour with
// similarity <= 0 never counts in a KNN prediction), at most max_neighbors of them (the largest;
// 0: all), stored by ascending neighbour id. Sums run over y in ascending order in every row, so
// sim(x, x') and sim(x', x) are the same number.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reco::algorithms {

enum class Similarity : uint32_t { kCosine = 0, kMsd = 1, kPearson = 2, kPearsonBaseline = 3 };
const char* similarity_name(Similarity similarity);
// Error(kUsage) listing the valid names when there is no such similarity.
Similarity similarity_from_name(std::string_view name);
std::vector<std::string> similarity_names();

// Compressed rows: row r holds (cols[t], values[t]) for t in [offsets[r], offsets[r + 1]).
struct RatingRows {
  std::vector<uint64_t> offsets;
  std::vector<uint32_t> cols;
  std::vector<double> values;
  uint32_t n_rows() const { return static_cast<uint32_t>(offsets.size() - 1); }
};

struct TrainingSet;
// The training ratings by model user or by model item, in training order, or with each row's
// columns ascending (sorted = true).
RatingRows ratings_by_user(const TrainingSet& set, bool sorted);
RatingRows ratings_by_item(const TrainingSet& set, bool sorted);

// Every row's kept neighbours, ids ascending (the row itself is not stored: its similarity is 1).
struct NeighbourLists {
  std::vector<uint64_t> offsets;  // n_rows + 1
  std::vector<uint32_t> ids;
  std::vector<float> sims;  // > 0
  // No row was cut by max_neighbors: x2 is in x's list exactly when x is in x2's, with the same
  // similarity.
  bool symmetric = true;

  uint32_t n_rows() const { return static_cast<uint32_t>(offsets.size() - 1); }
  // The stored similarity of (x, x2), 1 for x == x2, 0 when not stored.
  float find(uint32_t x, uint32_t x2) const;
};

struct SimilarityOptions {
  Similarity similarity = Similarity::kMsd;
  uint32_t min_support = 1;
  double shrinkage = 100.0;    // pearson_baseline
  uint64_t max_neighbors = 0;  // 0: every positive similarity
  uint64_t memory_limit = 0;   // bytes of the lists (8 per neighbour); 0: no limit
  int threads = 1;
  std::string subject;  // "knn_baseline: the item similarities" for messages
};

// by_x: each x's (y, value), y ascending; by_y: each y's (x, value), any order. The values are
// the ratings, or for pearson_baseline the residuals r - b. Refuses (Error(kInput), naming the
// size) before allocating lists that would take more than memory_limit bytes. The result does
// not depend on the number of threads.
NeighbourLists compute_neighbours(const RatingRows& by_x, const RatingRows& by_y,
                                  const SimilarityOptions& options);

// The number of co-rated pairs (x, x2), x != x2, with at least min_support co-rated ys, per
// row capped at max_neighbors (0: no cap): what compute_neighbours may keep at most.
uint64_t count_candidate_pairs(const RatingRows& by_x, const RatingRows& by_y, uint32_t min_support,
                               uint64_t max_neighbors, int threads);

}  // namespace reco::algorithms
