#include "algorithms/factor_model.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "algorithms/kernels.h"
#include "core/error.h"

namespace reco::algorithms {

double FactorModel::estimate(int64_t user, int64_t item) const {
  double est = biased ? global_mean : 0.0;
  if (biased) {
    if (user >= 0) est += user_bias[static_cast<size_t>(user)];
    if (item >= 0) est += item_bias[static_cast<size_t>(item)];
  }
  if (user >= 0 && item >= 0 && n_factors > 0) {
    // The prediction dot product of kernels.h (16 interleaved lanes), through the kernel
    // chosen once per process; top-N scoring computes the same sums.
    static const kernels::DotFn dot = kernels::dot_function();
    est += dot(user_factors.data() + static_cast<size_t>(user) * n_factors,
               item_factors.data() + static_cast<size_t>(item) * n_factors, n_factors);
  }
  return est;
}

double FactorModel::clip(double est) const {
  return std::clamp(est, static_cast<double>(scale.min), static_cast<double>(scale.max));
}

void FactorModel::validate() const {
  auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kCorrupt, "invalid model: " + what);
  };
  const size_t nu = n_users(), ni = n_items();
  if (algorithm.empty()) fail("no algorithm name");
  if (!(scale.min < scale.max))
    fail(fmt::format("rating scale [{}, {}] is empty", scale.min, scale.max));
  if (user_bias.size() != nu)
    fail(fmt::format("{} user biases for {} users", user_bias.size(), nu));
  if (item_bias.size() != ni)
    fail(fmt::format("{} item biases for {} items", item_bias.size(), ni));
  if (user_factors.size() != nu * n_factors) fail("user factor matrix has the wrong size");
  if (item_factors.size() != ni * n_factors) fail("item factor matrix has the wrong size");
  if (rated_offsets.size() != nu + 1) fail("rated-items index has the wrong size");
  if (rated_offsets.front() != 0 || rated_offsets.back() != rated_items.size())
    fail("rated-items index is inconsistent");
  for (size_t u = 0; u < nu; ++u) {
    if (rated_offsets[u] > rated_offsets[u + 1]) fail("rated-items index is not monotonic");
  }
  for (uint32_t i : rated_items) {
    if (i >= ni) fail(fmt::format("rated item index {} out of range", i));
  }
  auto all_finite = [](const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
  };
  if (!std::isfinite(global_mean)) fail("global mean is not finite");
  if (!all_finite(user_bias) || !all_finite(item_bias) || !all_finite(user_factors) ||
      !all_finite(item_factors)) {
    fail("parameters contain NaN or infinity");
  }
}

}  // namespace reco::algorithms
