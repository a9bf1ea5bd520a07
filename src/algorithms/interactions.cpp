#include "algorithms/interactions.h"

#include <cmath>

#include "core/parallel.h"

namespace reco::algorithms {

OptionSpec min_rating_param() {
  return OptionSpec::real(
      "min_rating", 0.0, 0.0, 1e9,
      "ratings at or above it are positives, the others unobserved (0: every rating)");
}

int row_parallel_fit_threads(const Params&, size_t n_ratings) {
  return n_ratings >= 20000 ? resolve_threads(0, 64) : 1;
}

Interactions make_interactions(const TrainingSet& set, double min_rating) {
  Interactions x;
  x.n_users = set.n_users();
  x.n_items = set.n_items();
  // By item first (a counting sort over the user-grouped ratings keeps users ascending), then
  // back by user (items ascending).
  x.item_offsets.assign(size_t{x.n_items} + 1, 0);
  for (size_t k = 0; k < set.size(); ++k)
    if (set.rating[k] >= min_rating) ++x.item_offsets[size_t{set.item[k]} + 1];
  for (uint32_t i = 0; i < x.n_items; ++i) x.item_offsets[i + 1] += x.item_offsets[i];
  const uint64_t n = x.item_offsets.back();
  x.item_user.resize(n);
  x.item_value.resize(n);
  std::vector<uint64_t> fill(x.item_offsets.begin(), x.item_offsets.end() - 1);
  x.user_offsets.assign(size_t{x.n_users} + 1, 0);
  for (uint32_t u = 0; u < x.n_users; ++u) {
    for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
      if (!(set.rating[k] >= min_rating)) continue;
      const uint64_t slot = fill[set.item[k]]++;
      x.item_user[slot] = u;
      x.item_value[slot] = set.rating[k];
      ++x.user_offsets[size_t{u} + 1];
    }
  }
  for (uint32_t u = 0; u < x.n_users; ++u) x.user_offsets[u + 1] += x.user_offsets[u];
  x.user_item.resize(n);
  x.user_value.resize(n);
  fill.assign(x.user_offsets.begin(), x.user_offsets.end() - 1);
  for (uint32_t i = 0; i < x.n_items; ++i) {
    for (uint64_t k = x.item_offsets[i]; k < x.item_offsets[i + 1]; ++k) {
      const uint64_t slot = fill[x.item_user[k]]++;
      x.user_item[slot] = i;
      x.user_value[slot] = x.item_value[k];
    }
  }
  return x;
}

bool solve_spd_in_place(double* a, double* b, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    const double diagonal = a[j * n + j];
    double d = diagonal;
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    // Singular up to rounding: what is left of the pivot is noise.
    if (!(d > 1e-12 * std::abs(diagonal)) || !std::isfinite(d)) return false;
    const double l = std::sqrt(d);
    a[j * n + j] = l;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
  }
  for (size_t i = 0; i < n; ++i) {  // L y = b
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T x = y
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return true;
}

}  // namespace reco::algorithms
