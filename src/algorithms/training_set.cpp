#include "algorithms/training_set.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::algorithms {

TrainingSet make_training_set(const Dataset& data, std::span<const uint32_t> rating_indices) {
  if (rating_indices.empty()) {
    throw Error(ErrorKind::kInput, "cannot train on zero ratings");
  }
  TrainingSet set;
  set.dataset = &data;
  set.indices = rating_indices;
  set.model_user.assign(data.n_users(), TrainingSet::kAbsent);
  set.model_item.assign(data.n_items(), TrainingSet::kAbsent);

  std::vector<uint64_t> counts;  // ratings per model user
  double sum = 0.0;
  for (const uint32_t k : rating_indices) {
    if (k >= data.size()) {
      throw Error(ErrorKind::kInternal, fmt::format("training rating index {} is out of range "
                                                    "for {} ratings",
                                                    k, data.size()));
    }
    uint32_t& mu = set.model_user[data.user[k]];
    if (mu == TrainingSet::kAbsent) {
      mu = static_cast<uint32_t>(set.user_raw.size());
      set.user_raw.push_back(data.users.raw(data.user[k]));
      counts.push_back(0);
    }
    uint32_t& mi = set.model_item[data.item[k]];
    if (mi == TrainingSet::kAbsent) {
      mi = static_cast<uint32_t>(set.item_raw.size());
      set.item_raw.push_back(data.items.raw(data.item[k]));
    }
    ++counts[mu];
    sum += data.rating[k];
  }
  set.global_mean = sum / static_cast<double>(rating_indices.size());

  // Stable counting sort by model user keeps each user's ratings in list order.
  const uint32_t nu = set.n_users();
  set.user_offsets.assign(nu + 1, 0);
  for (uint32_t u = 0; u < nu; ++u) set.user_offsets[u + 1] = set.user_offsets[u] + counts[u];
  std::vector<uint64_t> next(set.user_offsets.begin(), set.user_offsets.end() - 1);
  set.item.resize(rating_indices.size());
  set.rating.resize(rating_indices.size());
  for (const uint32_t k : rating_indices) {
    const uint64_t pos = next[set.model_user[data.user[k]]]++;
    set.item[pos] = set.model_item[data.item[k]];
    set.rating[pos] = data.rating[k];
  }
  return set;
}

void fill_model_base(Model& model, const TrainingSet& set, std::string algorithm,
                     RatingScale scale) {
  model.algorithm = std::move(algorithm);
  model.scale = scale;
  model.users = IdIndex::from_raw_ids(set.user_raw);
  model.items = IdIndex::from_raw_ids(set.item_raw);
  model.rated_offsets = set.user_offsets;
  model.rated_items = set.item;
  for (uint32_t u = 0; u < set.n_users(); ++u) {
    std::sort(model.rated_items.begin() + static_cast<ptrdiff_t>(set.user_offsets[u]),
              model.rated_items.begin() + static_cast<ptrdiff_t>(set.user_offsets[u + 1]));
  }
}

FactorModel make_model_shell(const TrainingSet& set, std::string algorithm, RatingScale scale) {
  FactorModel model;
  fill_model_base(model, set, std::move(algorithm), scale);
  model.global_mean = set.global_mean;
  return model;
}

}  // namespace reco::algorithms
