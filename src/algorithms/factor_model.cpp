#include "algorithms/factor_model.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "algorithms/kernels.h"
#include "algorithms/simd.h"
#include "core/binary.h"
#include "core/error.h"

namespace reco::algorithms {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw Error(ErrorKind::kCorrupt, "invalid model: " + what);
}

}  // namespace

double FactorModel::estimate(int64_t user, int64_t item) const {
  // Without biases Surprise cannot predict an unknown user or item (PredictionImpossible) and
  // answers the global mean of the training ratings instead.
  if (!biased && (user < 0 || item < 0)) return global_mean;
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

void FactorModel::score_block(std::span<const uint32_t> block_users, uint32_t first, uint32_t count,
                              float* out, size_t ld) const {
  if (block_users.empty() || count == 0) return;
  const Isa isa = active_isa();
  const uint32_t nf = n_factors;
  if (nf > 0) {
    std::vector<const float*> rows(block_users.size());
    for (size_t t = 0; t < block_users.size(); ++t)
      rows[t] = user_factors.data() + size_t{block_users[t]} * nf;
    kernels::dot_tile(isa, rows.data(), static_cast<uint32_t>(block_users.size()),
                      item_factors.data() + size_t{first} * nf, nf, count, nf, out, ld);
  }
  if (!biased) {
    // Unbiased with factors: 0.0 + dot is the dot itself.
    if (nf == 0)
      for (size_t t = 0; t < block_users.size(); ++t) std::fill_n(out + t * ld, count, 0.0f);
    return;
  }
  // The same additions, in the same order and precision, as estimate(): the item biases as
  // double, a chunk at a time.
  constexpr uint32_t kChunk = 256;
  double bi[kChunk];
  for (uint32_t c = 0; c < count; c += kChunk) {
    const uint32_t n = std::min(kChunk, count - c);
    for (uint32_t j = 0; j < n; ++j) bi[j] = item_bias[first + c + j];
    for (size_t t = 0; t < block_users.size(); ++t) {
      float* o = out + t * ld + c;
      const double base = global_mean + user_bias[block_users[t]];
      if (nf > 0) {
        kernels::add_biases(isa, o, n, base, bi);
      } else {
        for (uint32_t j = 0; j < n; ++j) o[j] = static_cast<float>(base + bi[j]);
      }
    }
  }
}

void FactorModel::validate() const {
  validate_identity();
  const size_t nu = n_users(), ni = n_items();
  if (user_bias.size() != nu)
    fail(fmt::format("{} user biases for {} users", user_bias.size(), nu));
  if (item_bias.size() != ni)
    fail(fmt::format("{} item biases for {} items", item_bias.size(), ni));
  if (user_factors.size() != nu * n_factors) fail("user factor matrix has the wrong size");
  if (item_factors.size() != ni * n_factors) fail("item factor matrix has the wrong size");
  validate_rated();
  auto all_finite = [](const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
  };
  if (!std::isfinite(global_mean)) fail("global mean is not finite");
  if (!all_finite(user_bias) || !all_finite(item_bias) || !all_finite(user_factors) ||
      !all_finite(item_factors)) {
    fail("parameters contain NaN or infinity");
  }
}

const ModelType& FactorModel::type() const {
  return factor_model_type();
}

const FactorModel& as_factor_model(const Model& model) {
  const auto* f = dynamic_cast<const FactorModel*>(&model);
  if (f == nullptr) {
    throw Error(ErrorKind::kInternal,
                fmt::format("model of algorithm {} is a {} model, not a factor model",
                            model.algorithm, model.type().name));
  }
  return *f;
}

// --- artifact encoding -------------------------------------------------------------------------
//
// Model header (48 bytes): u32 biased, u32 reserved, f64 mu, f32 scale min, f32 scale max,
// u32 n_users, u32 n_items, u32 n_factors, u32 reserved, u64 n_rated. Arrays: user raw ids
// (i64), item raw ids (i64), user biases (f32), item biases (f32), user factors (f32), item
// factors (f32), rated offsets (u64, n_users + 1), rated items (u32).

namespace {

struct Header {
  uint32_t biased, reserved0;
  double global_mean;
  float scale_min, scale_max;
  uint32_t n_users, n_items, n_factors, reserved1;
  uint64_t n_rated;
};

Header read_header(const char* h) {
  using namespace binary;
  return {load_u32(h),      load_u32(h + 4),  load_f64(h + 8),  load_f32(h + 16), load_f32(h + 20),
          load_u32(h + 24), load_u32(h + 28), load_u32(h + 32), load_u32(h + 36), load_u64(h + 40)};
}

std::optional<std::vector<uint64_t>> array_sizes(const char* header) {
  using binary::checked_add;
  using binary::checked_mul;
  const Header h = read_header(header);
  const uint64_t nu = h.n_users, ni = h.n_items, k = h.n_factors;
  return binary::all_sizes({checked_mul(nu, 8), checked_mul(ni, 8), checked_mul(nu, 4),
                            checked_mul(ni, 4), checked_mul(checked_mul(nu, k), 4),
                            checked_mul(checked_mul(ni, k), 4), checked_mul(checked_add(nu, 1), 8),
                            checked_mul(h.n_rated, 4)});
}

std::string describe(const char* header) {
  const Header h = read_header(header);
  return fmt::format("n_users={}, n_items={}, n_factors={}, n_rated={}", h.n_users, h.n_items,
                     h.n_factors, h.n_rated);
}

std::string check_header(const char* header, uint64_t offset) {
  const Header h = read_header(header);
  if (h.biased > 1)
    return fmt::format("biased flag at offset {} is {} (must be 0 or 1)", offset, h.biased);
  if (h.reserved0 != 0 || h.reserved1 != 0)
    return fmt::format("reserved model header fields at offset {} are not zero", offset);
  return "";
}

ModelShape shape(const char* header) {
  const Header h = read_header(header);
  return {h.n_users, h.n_items, h.n_factors, h.n_rated};
}

std::string encode_header(const Model& model) {
  using namespace binary;
  const FactorModel& m = as_factor_model(model);
  std::string h(48, '\0');
  store_u32(h.data() + 0, m.biased ? 1 : 0);
  store_f64(h.data() + 8, m.global_mean);
  store_f32(h.data() + 16, m.scale.min);
  store_f32(h.data() + 20, m.scale.max);
  store_u32(h.data() + 24, m.n_users());
  store_u32(h.data() + 28, m.n_items());
  store_u32(h.data() + 32, m.n_factors);
  store_u64(h.data() + 40, m.rated_items.size());
  return h;
}

void encode_arrays(const Model& model, std::span<char* const> a) {
  using namespace binary;
  const FactorModel& m = as_factor_model(model);
  store_i64s(a[0], m.users.raw_ids());
  store_i64s(a[1], m.items.raw_ids());
  store_f32s(a[2], m.user_bias);
  store_f32s(a[3], m.item_bias);
  store_f32s(a[4], m.user_factors);
  store_f32s(a[5], m.item_factors);
  store_u64s(a[6], m.rated_offsets);
  store_u32s(a[7], m.rated_items);
}

std::unique_ptr<Model> decode(std::string algorithm, const char* header,
                              std::span<const std::string_view> a) {
  using namespace binary;
  const Header h = read_header(header);
  auto m = std::make_unique<FactorModel>();
  m->algorithm = std::move(algorithm);
  m->biased = h.biased == 1;
  m->global_mean = h.global_mean;
  m->scale = {h.scale_min, h.scale_max};
  m->users = IdIndex::from_raw_ids(load_i64s(a[0]));
  m->items = IdIndex::from_raw_ids(load_i64s(a[1]));
  m->user_bias = load_f32s(a[2]);
  m->item_bias = load_f32s(a[3]);
  m->n_factors = h.n_factors;
  m->user_factors = load_f32s(a[4]);
  m->item_factors = load_f32s(a[5]);
  m->rated_offsets = load_u64s(a[6]);
  m->rated_items = load_u32s(a[7]);
  return m;
}

}  // namespace

const ModelType& factor_model_type() {
  static const ModelType type{"factor",     48,    array_sizes,   describe,
                              check_header, shape, encode_header, encode_arrays,
                              decode};
  return type;
}

}  // namespace reco::algorithms
