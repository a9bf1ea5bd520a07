#include "core/ids.h"

#include <charconv>
#include <cmath>

namespace reco {

std::optional<int64_t> id_from_text(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (const size_t dot = s.find('.'); dot != std::string_view::npos) {
    const std::string_view frac = s.substr(dot + 1);
    for (const char c : frac)
      if (c != '0') return std::nullopt;
    s = s.substr(0, dot);
    if (s.empty() || s == "-" || s == "+") return std::nullopt;  // ".0" has no integer part
  }
  if (s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> id_from_double(double v) {
  // 2^63 is exactly representable; every double below it in magnitude converts exactly.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(v) || v != std::trunc(v) || v >= kLimit || v < -kLimit) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace reco
