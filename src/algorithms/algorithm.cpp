#include "algorithms/algorithm.h"

#include <deque>
#include <mutex>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::algorithms {

#define RECO_ALGORITHM(name) Algorithm name##_algorithm();
#include "algorithms/builtin_list.h"
#undef RECO_ALGORITHM

namespace {

struct Registry {
  std::mutex mutex;
  std::deque<Algorithm> algorithms;  // a deque: references stay valid as it grows
};

void add(Registry& r, Algorithm a) {
  if (a.name.empty() || !a.fit || a.model_type == nullptr) {
    throw Error(
        ErrorKind::kInternal,
        fmt::format("algorithm '{}' needs a name, a fit function and a model type", a.name));
  }
  for (const auto& existing : r.algorithms) {
    if (existing.name == a.name)
      throw Error(ErrorKind::kInternal, fmt::format("algorithm {} is registered twice", a.name));
  }
  r.algorithms.push_back(std::move(a));
}

Registry& registry() {
  static Registry* r = [] {
    auto* fresh = new Registry;  // never destroyed: algorithms may be looked up at exit
#define RECO_ALGORITHM(name) add(*fresh, name##_algorithm());
#include "algorithms/builtin_list.h"
#undef RECO_ALGORITHM
    return fresh;
  }();
  return *r;
}

}  // namespace

void register_algorithm(Algorithm algorithm) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  add(r, std::move(algorithm));
}

const Algorithm* find_algorithm_or_null(std::string_view name) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  for (const auto& a : r.algorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const Algorithm& find_algorithm(std::string_view name) {
  if (const Algorithm* a = find_algorithm_or_null(name)) return *a;
  std::string names;
  for (const auto& n : algorithm_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error(ErrorKind::kUsage, fmt::format("unknown algorithm '{}'; valid algorithms: {}",
                                             std::string(name), names));
}

std::vector<const Algorithm*> all_algorithms() {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  std::vector<const Algorithm*> out;
  for (const auto& a : r.algorithms) out.push_back(&a);
  return out;
}

std::vector<std::string> algorithm_names() {
  std::vector<std::string> names;
  for (const Algorithm* a : all_algorithms()) names.push_back(a->name);
  return names;
}

}  // namespace reco::algorithms
