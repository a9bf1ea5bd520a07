#include "evaluation/diagnostics.h"

#include <algorithm>
#include <cmath>

#include "core/json.h"

namespace reco::evaluation {

RatingHistogram RatingHistogram::for_scale(RatingScale scale) {
  RatingHistogram h;
  const double span = static_cast<double>(scale.max) - static_cast<double>(scale.min);
  const double half_steps = span / 0.5;
  size_t n = 20;
  if (std::abs(half_steps - std::round(half_steps)) < 1e-6 && half_steps <= 40) {
    h.width = 0.5;
    n = static_cast<size_t>(std::round(half_steps)) + 1;
  } else {
    h.width = span > 0 ? span / static_cast<double>(n - 1) : 1.0;
  }
  h.first = scale.min;
  h.actual.assign(n, 0);
  h.predicted.assign(n, 0);
  return h;
}

size_t RatingHistogram::bin(double value) const {
  const double position = std::round((value - first) / width);
  if (!(position > 0)) return 0;  // also NaN
  return std::min(static_cast<size_t>(position), actual.size() - 1);
}

void RatingHistogram::add(double actual_rating, double prediction) {
  if (actual.empty()) return;
  ++actual[bin(actual_rating)];
  ++predicted[bin(prediction)];
}

void RatingHistogram::merge(const RatingHistogram& other) {
  if (actual.empty()) {
    *this = other;
    return;
  }
  if (other.actual.size() != actual.size()) return;
  for (size_t b = 0; b < actual.size(); ++b) {
    actual[b] += other.actual[b];
    predicted[b] += other.predicted[b];
  }
}

nlohmann::json RatingHistogram::to_json() const {
  nlohmann::json bins = nlohmann::json::array();
  for (size_t b = 0; b < actual.size(); ++b) bins.push_back(first + width * static_cast<double>(b));
  return {{"bins", std::move(bins)}, {"actual", actual}, {"predicted", predicted}};
}

}  // namespace reco::evaluation
