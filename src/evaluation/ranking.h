#pragma once
// Ranking quality of a model's top-k lists on held-out ratings, the measures of the public
// recommender benchmarks (Microsoft Recommenders' python_evaluation; Surprise's FAQ for the
// relevance threshold). For every test user:
//   candidates  every item the model knows that the user did not rate in training;
//   list L      the model's k best candidates (recommendation/top_n.h: unclipped scores);
//   relevant R  the user's held-out items rated >= relevance_threshold.
// Over the users with at least one relevant held-out item:
//   Precision@k = |L ∩ R| / k               Recall@k = |L ∩ R| / |R|
//   NDCG@k      = DCG / IDCG, binary gains, DCG = sum over hits at rank r of 1 / log2(r + 1),
//                 IDCG the same for min(k, |R|) hits at the top
//   MAP@k       = mean of AP@k = (sum over hits at rank r of hits-so-far / r) / min(k, |R|)
//   HitRate@k   = share of users with at least one hit
// Over every test user's list:
//   Coverage    = share of the model's items that appear in at least one list
//   Obscurity   = share of the recommended entries whose item has fewer than `obscure_below`
//                 training ratings
// A relevant item the model never saw in training cannot be recommended: it still counts in |R|.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "algorithms/model.h"
#include "core/ratings.h"

namespace reco::evaluation {

struct RankingOptions {
  int k = 10;
  double relevance_threshold = 3.5;
  int obscure_below = 10;
  // Test users scored at most (0: all): beyond it a seeded sample, so that ranking a 25M-rating
  // fold costs seconds, not hours. The report says how many were scored.
  size_t max_users = 5000;
  uint64_t seed = 0;
};

struct RankingMetrics {
  double precision = 0, recall = 0, ndcg = 0, map = 0, hit_rate = 0, coverage = 0, obscurity = 0;
  size_t users = 0;           // test users whose list was scored
  size_t relevant_users = 0;  // of them, with at least one relevant held-out item
};

// The ranking measures in report order. Label and JSON key carry the cut-off when `per_k`
// ("Precision@10" / "precision@10"); Coverage and Obscurity do not.
struct RankingMeasure {
  const char* label;
  bool per_k;
  double RankingMetrics::*value;
};
std::span<const RankingMeasure> ranking_measures();
std::string measure_label(const RankingMeasure& measure, int k);  // "Precision@10"
std::string measure_key(const RankingMeasure& measure, int k);    // "precision@10"

// Every metric an evaluation reports, as JSON keys: rmse, mae, then with a cut-off k > 0 the
// ranking measures' keys.
std::vector<std::string> metric_keys(int k);
// Whether less of a metric is better (rmse, mae, obscurity) or more (the other ranking
// measures, at any cut-off); nullopt for a name that is no metric.
std::optional<bool> lower_is_better(std::string_view key);

// The metrics of `model` on the ratings `test` of `data` (the model was trained on the others).
RankingMetrics ranking_metrics(const algorithms::Model& model, const Dataset& data,
                               std::span<const uint32_t> test, const RankingOptions& options);

}  // namespace reco::evaluation
