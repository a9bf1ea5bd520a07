#pragma once
// Helpers shared by the registry tests: random FactorModels built directly (independent of the
// training code) and a scratch directory.

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::registry::testing {

struct Shape {
  uint32_t n_users;
  uint32_t n_items;
  uint32_t n_factors;
};

// Distinct raw ids including the extremes and negatives, in a seeded random order.
inline std::vector<int64_t> random_ids(Rng& rng, uint32_t n) {
  std::vector<int64_t> ids;
  std::set<int64_t> seen;
  const int64_t specials[] = {std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max(),
                              -1,
                              0,
                              1,
                              -(int64_t{1} << 40)};
  for (int64_t s : specials) {
    if (ids.size() < n && seen.insert(s).second) ids.push_back(s);
  }
  while (ids.size() < n) {
    const int64_t v = static_cast<int64_t>(rng.next_u64());
    if (seen.insert(v).second) ids.push_back(v);
  }
  rng.shuffle(ids);
  return ids;
}

// Registers (once) an algorithm named `name` that makes factor models, so artifacts of models
// named so can be read back: the reader finds a model's type through its algorithm.
inline void register_factor_algorithm(const std::string& name) {
  if (algorithms::find_algorithm_or_null(name) != nullptr) return;
  algorithms::Algorithm a;
  a.name = name;
  a.doc = "test algorithm (factor models)";
  a.model_type = &algorithms::factor_model_type();
  a.fit = [](const algorithms::FitInput&) -> std::unique_ptr<algorithms::Model> {
    throw Error(ErrorKind::kInternal, "test algorithm: not trainable");
  };
  algorithms::register_algorithm(std::move(a));
}

inline algorithms::FactorModel random_model(uint64_t seed, Shape shape, bool biased = true,
                                            std::string algorithm = "svd") {
  Rng rng(seed);
  algorithms::FactorModel m;
  m.algorithm = std::move(algorithm);
  m.biased = biased;
  m.global_mean = 3.0 + rng.uniform();
  m.scale = {0.5f, 5.0f};
  m.users = IdIndex::from_raw_ids(random_ids(rng, shape.n_users));
  m.items = IdIndex::from_raw_ids(random_ids(rng, shape.n_items));
  auto fill = [&](std::vector<float>& v, size_t n, double stddev) {
    v.resize(n);
    for (auto& x : v) x = static_cast<float>(rng.normal(0.0, stddev));
  };
  fill(m.user_bias, shape.n_users, biased ? 0.3 : 0.0);
  fill(m.item_bias, shape.n_items, biased ? 0.3 : 0.0);
  m.n_factors = shape.n_factors;
  fill(m.user_factors, size_t{shape.n_users} * shape.n_factors, 0.1);
  fill(m.item_factors, size_t{shape.n_items} * shape.n_factors, 0.1);
  // Every third user rated nothing; the others a random ascending subset.
  m.rated_offsets.push_back(0);
  for (uint32_t u = 0; u < shape.n_users; ++u) {
    if (u % 3 != 1) {
      for (uint32_t i = 0; i < shape.n_items; ++i) {
        if (rng.uniform() < 0.3) m.rated_items.push_back(i);
      }
    }
    m.rated_offsets.push_back(m.rated_items.size());
  }
  return m;
}

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/reco-registry-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace reco::registry::testing
