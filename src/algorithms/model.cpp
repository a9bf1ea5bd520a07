#include "algorithms/model.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/binary.h"
#include "core/error.h"

namespace reco::algorithms {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw Error(ErrorKind::kCorrupt, "invalid model: " + what);
}

}  // namespace

double Model::clip(double est) const {
  if (ranking_scores) return est;
  return std::clamp(est, static_cast<double>(scale.min), static_cast<double>(scale.max));
}

void Model::score_block(std::span<const uint32_t> block_users, uint32_t first, uint32_t count,
                        float* out, size_t ld) const {
  for (size_t t = 0; t < block_users.size(); ++t) {
    float* o = out + t * ld;
    for (uint32_t j = 0; j < count; ++j)
      o[j] = static_cast<float>(estimate(block_users[t], first + j));
  }
}

void Model::score_unknown_user(uint32_t first, uint32_t count, float* out) const {
  for (uint32_t j = 0; j < count; ++j) out[j] = static_cast<float>(estimate(-1, first + j));
}

void Model::validate() const {
  validate_identity();
  validate_rated();
}

void Model::validate_identity() const {
  if (algorithm.empty()) fail("no algorithm name");
  if (!(scale.min < scale.max))
    fail(fmt::format("rating scale [{}, {}] is empty", scale.min, scale.max));
}

void Model::validate_rated() const {
  const size_t nu = n_users(), ni = n_items();
  if (rated_offsets.size() != nu + 1) fail("rated-items index has the wrong size");
  if (rated_offsets.front() != 0 || rated_offsets.back() != rated_items.size())
    fail("rated-items index is inconsistent");
  for (size_t u = 0; u < nu; ++u) {
    if (rated_offsets[u] > rated_offsets[u + 1]) fail("rated-items index is not monotonic");
  }
  for (uint32_t i : rated_items) {
    if (i >= ni) fail(fmt::format("rated item index {} out of range", i));
  }
}

void store_identity_arrays(const Model& model, char* users, char* items, char* offsets,
                           char* rated) {
  binary::store_i64s(users, model.users.raw_ids());
  binary::store_i64s(items, model.items.raw_ids());
  binary::store_u64s(offsets, model.rated_offsets);
  binary::store_u32s(rated, model.rated_items);
}

void load_identity_arrays(Model& model, std::string_view users, std::string_view items,
                          std::string_view offsets, std::string_view rated) {
  model.users = IdIndex::from_raw_ids(binary::load_i64s(users));
  model.items = IdIndex::from_raw_ids(binary::load_i64s(items));
  model.rated_offsets = binary::load_u64s(offsets);
  model.rated_items = binary::load_u32s(rated);
}

}  // namespace reco::algorithms
