#include "core/ratings.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/hash.h"

namespace reco {

uint32_t IdIndex::intern(int64_t raw) {
  auto [it, inserted] = index_.try_emplace(raw, static_cast<uint32_t>(raw_.size()));
  if (inserted) raw_.push_back(raw);
  return it->second;
}

IdIndex IdIndex::from_raw_ids(std::vector<int64_t> raw_ids) {
  IdIndex index;
  index.index_.reserve(raw_ids.size());
  for (size_t k = 0; k < raw_ids.size(); ++k) {
    if (!index.index_.emplace(raw_ids[k], static_cast<uint32_t>(k)).second) {
      throw Error(ErrorKind::kCorrupt, fmt::format("id {} appears twice in an id map", raw_ids[k]));
    }
  }
  index.raw_ = std::move(raw_ids);
  return index;
}

Dataset Dataset::from_raw(const RawRatings& raw) {
  Dataset d;
  const size_t n = raw.size();
  d.user.resize(n);
  d.item.resize(n);
  d.rating.assign(raw.ratings.begin(), raw.ratings.end());
  if (!raw.timestamps.empty()) {
    if (raw.timestamps.size() != n)
      throw Error(ErrorKind::kInternal, "raw ratings: timestamps and ratings differ in number");
    d.timestamp = raw.timestamps;
  }
  for (size_t k = 0; k < n; ++k) {
    d.user[k] = d.users.intern(raw.users[k]);
    d.item[k] = d.items.intern(raw.items[k]);
  }
  // Detect duplicate (user, item) pairs by sorting packed keys.
  std::vector<uint64_t> keys(n);
  for (size_t k = 0; k < n; ++k) keys[k] = (uint64_t{d.user[k]} << 32) | d.item[k];
  std::sort(keys.begin(), keys.end());
  auto dup = std::adjacent_find(keys.begin(), keys.end());
  if (dup != keys.end()) {
    const uint32_t u = static_cast<uint32_t>(*dup >> 32);
    const uint32_t i = static_cast<uint32_t>(*dup & 0xffffffffu);
    const size_t count = static_cast<size_t>(std::upper_bound(dup, keys.end(), *dup) -
                                             std::lower_bound(keys.begin(), dup, *dup));
    throw Error(ErrorKind::kInput,
                fmt::format("duplicate rating: user {} rated item {} {} times; each (user, item) "
                            "pair must appear once (deduplicate the input first, e.g. keep the "
                            "latest rating)",
                            d.users.raw(u), d.items.raw(i), count));
  }
  return d;
}

uint64_t Dataset::fingerprint() const {
  Fnv1a64 h;
  h.update_u64(size());
  for (size_t k = 0; k < size(); ++k) {
    h.update_u64(static_cast<uint64_t>(users.raw(user[k])));
    h.update_u64(static_cast<uint64_t>(items.raw(item[k])));
    h.update_u64(std::bit_cast<uint32_t>(rating[k]));
  }
  return h.digest();
}

RatingScale Dataset::observed_scale() const {
  if (rating.empty()) return {};
  auto [lo, hi] = std::minmax_element(rating.begin(), rating.end());
  return {*lo, *hi};
}

}  // namespace reco
