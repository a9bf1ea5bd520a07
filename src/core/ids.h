#pragma once
// User and item ids as callers send them. A warehouse that casts a float column sends the same
// id as 10, 10.0, "10" or "10.0"; all of them mean 10. Anything that is not an integral value
// in the int64 range (10.5, "abc", "", "1e400", NaN) is refused.

#include <cstdint>
#include <optional>
#include <string_view>

namespace reco {

// Decimal text: optional sign, digits, optionally '.' followed by zeros only. Surrounding
// spaces are allowed.
std::optional<int64_t> id_from_text(std::string_view text);
// A floating-point value with no fractional part, within the int64 range.
std::optional<int64_t> id_from_double(double value);

}  // namespace reco
