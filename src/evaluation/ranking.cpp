#include "evaluation/ranking.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_map>

#include "recommendation/top_n.h"

namespace reco::evaluation {

std::span<const RankingMeasure> ranking_measures() {
  static constexpr RankingMeasure kMeasures[] = {{"Precision", true, &RankingMetrics::precision},
                                                 {"Recall", true, &RankingMetrics::recall},
                                                 {"NDCG", true, &RankingMetrics::ndcg},
                                                 {"MAP", true, &RankingMetrics::map},
                                                 {"HitRate", true, &RankingMetrics::hit_rate},
                                                 {"Coverage", false, &RankingMetrics::coverage},
                                                 {"Obscurity", false, &RankingMetrics::obscurity}};
  return kMeasures;
}

std::string measure_label(const RankingMeasure& measure, int k) {
  return measure.per_k ? std::string(measure.label) + "@" + std::to_string(k) : measure.label;
}

std::string measure_key(const RankingMeasure& measure, int k) {
  std::string key = measure_label(measure, k);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return key;
}

std::vector<std::string> metric_keys(int k) {
  std::vector<std::string> keys = {"rmse", "mae"};
  if (k > 0)
    for (const auto& m : ranking_measures()) keys.push_back(measure_key(m, k));
  return keys;
}

std::optional<bool> lower_is_better(std::string_view key) {
  if (key == "rmse" || key == "mae") return true;
  for (const auto& m : ranking_measures()) {
    const std::string stem = measure_key(m, 0);  // "precision@0" or "coverage"
    if (!m.per_k) {
      if (key == stem) return m.value == &RankingMetrics::obscurity;
      continue;
    }
    const std::string_view prefix = std::string_view(stem).substr(0, stem.size() - 1);
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix &&
        key.find_first_not_of("0123456789", prefix.size()) == std::string_view::npos) {
      return false;
    }
  }
  return std::nullopt;
}

RankingMetrics ranking_metrics(const algorithms::Model& model, const Dataset& data,
                               std::span<const uint32_t> test, const RankingOptions& options) {
  // Held-out items per test user (model user index, or -1 - raw id for a user the model lacks),
  // as model item indices, -1 for items the model never saw; relevance by the threshold.
  struct Held {
    int64_t model_user;
    std::vector<int64_t> relevant;
  };
  std::unordered_map<int64_t, size_t> slot;  // raw user id -> index in `users`
  std::vector<Held> users;
  for (const uint32_t k : test) {
    const int64_t raw = data.users.raw(data.user[k]);
    auto [it, fresh] = slot.emplace(raw, users.size());
    if (fresh) users.push_back({model.users.find(raw), {}});
    if (static_cast<double>(data.rating[k]) >= options.relevance_threshold) {
      users[it->second].relevant.push_back(model.items.find(data.items.raw(data.item[k])));
    }
  }
  // Keep the order of first appearance, then sample deterministically when there are too many.
  std::vector<size_t> order(users.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (options.max_users > 0 && order.size() > options.max_users) {
    std::mt19937_64 rng(options.seed ^ 0x72616e6b696e6775ULL);
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(options.max_users);
    std::sort(order.begin(), order.end());
  }

  const size_t n_items = model.n_items();
  std::vector<uint32_t> popularity(n_items, 0);
  for (const uint32_t i : model.rated_items) ++popularity[i];
  std::vector<char> shown(n_items, 0);
  const size_t k = static_cast<size_t>(std::max(1, options.k));
  std::vector<double> discount(k + 1, 0.0);
  for (size_t r = 1; r <= k; ++r) discount[r] = 1.0 / std::log2(static_cast<double>(r) + 1.0);

  const recommendation::TopN top(model);
  // Users are scored a block at a time (TopN::score_tile passes over the items once per block).
  constexpr size_t kBlock = 64;
  std::vector<float> buffer(kBlock * n_items);
  RankingMetrics m;
  size_t entries = 0, obscure = 0;
  std::vector<char> is_relevant(n_items, 0);
  for (size_t first = 0; first < order.size(); first += kBlock) {
    const size_t count = std::min(kBlock, order.size() - first);
    std::vector<int64_t> block(count);
    std::vector<std::span<float>> outs(count);
    for (size_t t = 0; t < count; ++t) {
      block[t] = users[order[first + t]].model_user;
      outs[t] = std::span<float>(buffer.data() + t * n_items, n_items);
    }
    if (n_items > 0) top.score_tile(block, outs);
    for (size_t t = 0; t < count; ++t) {
      const Held& held = users[order[first + t]];
      const auto rated = held.model_user >= 0
                             ? model.rated_by(static_cast<uint32_t>(held.model_user))
                             : std::span<const uint32_t>{};
      const std::vector<recommendation::Scored> list = top.select(outs[t], k, rated);
      ++m.users;
      for (const auto& s : list) {
        shown[s.item] = 1;
        ++entries;
        if (popularity[s.item] < static_cast<uint32_t>(std::max(0, options.obscure_below)))
          ++obscure;
      }
      if (held.relevant.empty()) continue;
      ++m.relevant_users;
      for (const int64_t i : held.relevant)
        if (i >= 0) is_relevant[static_cast<size_t>(i)] = 1;
      size_t hits = 0;
      double dcg = 0, ap = 0;
      for (size_t r = 0; r < list.size(); ++r) {
        if (!is_relevant[list[r].item]) continue;
        ++hits;
        dcg += discount[r + 1];
        ap += static_cast<double>(hits) / static_cast<double>(r + 1);
      }
      for (const int64_t i : held.relevant)
        if (i >= 0) is_relevant[static_cast<size_t>(i)] = 0;
      const size_t ideal = std::min(k, held.relevant.size());
      double idcg = 0;
      for (size_t r = 1; r <= ideal; ++r) idcg += discount[r];
      m.precision += static_cast<double>(hits) / static_cast<double>(k);
      m.recall += static_cast<double>(hits) / static_cast<double>(held.relevant.size());
      m.ndcg += dcg / idcg;
      m.map += ap / static_cast<double>(ideal);
      m.hit_rate += hits > 0 ? 1.0 : 0.0;
    }
  }
  if (m.relevant_users > 0) {
    const auto n = static_cast<double>(m.relevant_users);
    m.precision /= n;
    m.recall /= n;
    m.ndcg /= n;
    m.map /= n;
    m.hit_rate /= n;
  }
  if (n_items > 0) {
    m.coverage = static_cast<double>(std::count(shown.begin(), shown.end(), 1)) /
                 static_cast<double>(n_items);
  }
  if (entries > 0) m.obscurity = static_cast<double>(obscure) / static_cast<double>(entries);
  return m;
}

}  // namespace reco::evaluation
