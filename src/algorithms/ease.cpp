#include "algorithms/ease.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "algorithms/interactions.h"
#include "algorithms/simd.h"
#include "core/binary.h"
#include "core/error.h"
#include "core/parallel.h"

namespace reco::algorithms {
namespace {

constexpr size_t kBlock = 64;  // pivots swept together
constexpr size_t kRows = 64;   // rows updated together (one task)
constexpr size_t kCols = 512;  // columns of a row updated together (stay in L1)

std::string size_text(uint64_t bytes) {
  if (bytes < 1'000'000) return fmt::format("{} bytes", bytes);
  if (bytes < 1'000'000'000) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
  return fmt::format("{:.1f} GB", static_cast<double>(bytes) / 1e9);
}

[[noreturn]] void fail(const std::string& what) {
  throw Error(ErrorKind::kCorrupt, "invalid model: " + what);
}

// a[j] -= w * b[j] for j < n, each as one fused multiply-add (the same result on every ISA).
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void axpy_sub(
    double* a, const double* b, double w, size_t n) {
  for (size_t j = 0; j < n; ++j) a[j] = std::fma(-w, b[j], a[j]);
}

// The trailing update of rows [i, i + 4), columns [c0, c1):
//   a[i + r][j] = fma(-v[k][i + r], w[k][j], a[i + r][j])   for k = 0, 1, ..., b - 1 in turn,
// exactly what axpy_sub does row by row (so both paths give the same bits), with the
// 4 x 32 block of `a` held in registers across the b steps and each w row loaded once for the
// four rows. AVX-512 only; the caller does the rest with axpy_sub.
__attribute__((target("avx512f"))) void update_4_rows_avx512(double* a, size_t lda, const double* v,
                                                             const double* w, size_t ldvw, size_t b,
                                                             size_t i, size_t c0, size_t c1) {
  size_t j = c0;
  for (; j + 32 <= c1; j += 32) {
    __m512d acc[4][4];
    for (size_t r = 0; r < 4; ++r)
      for (size_t m = 0; m < 4; ++m) acc[r][m] = _mm512_loadu_pd(&a[(i + r) * lda + j + 8 * m]);
    for (size_t k = 0; k < b; ++k) {
      const double* wk = &w[k * ldvw + j];
      const __m512d w0 = _mm512_loadu_pd(wk), w1 = _mm512_loadu_pd(wk + 8),
                    w2 = _mm512_loadu_pd(wk + 16), w3 = _mm512_loadu_pd(wk + 24);
      for (size_t r = 0; r < 4; ++r) {
        const __m512d f = _mm512_set1_pd(v[k * ldvw + i + r]);
        acc[r][0] = _mm512_fnmadd_pd(f, w0, acc[r][0]);
        acc[r][1] = _mm512_fnmadd_pd(f, w1, acc[r][1]);
        acc[r][2] = _mm512_fnmadd_pd(f, w2, acc[r][2]);
        acc[r][3] = _mm512_fnmadd_pd(f, w3, acc[r][3]);
      }
    }
    for (size_t r = 0; r < 4; ++r)
      for (size_t m = 0; m < 4; ++m) _mm512_storeu_pd(&a[(i + r) * lda + j + 8 * m], acc[r][m]);
  }
  for (size_t r = 0; r < 4; ++r)
    for (size_t k = 0; k < b; ++k)
      if (j < c1) axpy_sub(&a[(i + r) * lda + j], &w[k * ldvw + j], v[k * ldvw + i + r], c1 - j);
}

// The unblocked sweep of a small symmetric m x m matrix (full storage): afterwards m holds
// -m^-1. False when a pivot is not positive.
bool sweep_small(double* m, size_t n) {
  for (size_t p = 0; p < n; ++p) {
    const double d = m[p * n + p];
    if (!(d > 0.0) || !std::isfinite(d)) return false;
    for (size_t i = 0; i < n; ++i) {
      if (i == p) continue;
      const double f = m[i * n + p] / d;
      if (f == 0.0) continue;
      for (size_t j = 0; j < n; ++j)
        if (j != p) m[i * n + j] -= f * m[p * n + j];
    }
    for (size_t i = 0; i < n; ++i) {
      if (i == p) continue;
      m[i * n + p] /= d;
      m[p * n + i] /= d;
    }
    m[p * n + p] = -1.0 / d;
  }
  return true;
}

}  // namespace

uint64_t ease_memory_bytes(uint64_t n) {
  return 12 * n * n;
}

std::vector<double> invert_spd(std::vector<double> a, size_t n, int threads) {
  // Only the lower triangle (j <= i) of `a` is kept up to date. Sweeping the pivot block K:
  //   A_KK <- -D (D = A_KK^-1),  A_IK <- A_IK D,  A_IJ <- A_IJ - A_IK D A_KJ  (I, J != K);
  // after every block A = -(the input)^-1.
  std::vector<double> v, w, d;
  const bool wide = active_isa() == Isa::kAvx512;
  for (size_t k0 = 0; k0 < n; k0 += kBlock) {
    const size_t b = std::min(kBlock, n - k0);
    // V = A_K,: (b x n) from the lower triangle; D = A_KK^-1; W = D V.
    v.assign(b * n, 0.0);
    for (size_t k = 0; k < b; ++k) {
      const size_t r = k0 + k;
      for (size_t j = 0; j <= r; ++j) v[k * n + j] = a[r * n + j];
      for (size_t j = r + 1; j < n; ++j) v[k * n + j] = a[j * n + r];
    }
    d.assign(b * b, 0.0);
    for (size_t k = 0; k < b; ++k)
      for (size_t l = 0; l < b; ++l) d[k * b + l] = v[k * n + k0 + l];
    if (!sweep_small(d.data(), b)) {
      throw Error(ErrorKind::kInput,
                  "ease: the item-item system is not positive definite (lambda must be above 0)");
    }
    for (auto& x : d) x = -x;
    w.assign(b * n, 0.0);
    for_row_ranges(b, 1, threads, [&](size_t first, size_t last) {
      for (size_t k = first; k < last; ++k)
        for (size_t l = 0; l < b; ++l) axpy_sub(&w[k * n], &v[l * n], -d[k * b + l], n);
    });
    // The trailing update, rows in groups and columns in chunks so the rows of W being read stay
    // in cache. Rows of the block are skipped (overwritten below).
    for_row_ranges(n, kRows, threads, [&](size_t first, size_t last) {
      for (size_t c0 = 0; c0 < last; c0 += kCols) {
        for (size_t i = std::max(first, c0); i < last; ++i) {
          if (i >= k0 && i < k0 + b) continue;
          const size_t c1 = std::min(i + 1, c0 + kCols);
          // Four rows at once where they share columns (AVX-512), the rest row by row.
          const bool four = wide && i + 4 <= last && (i + 4 <= k0 || i >= k0 + b) && c1 > c0;
          if (four) {
            update_4_rows_avx512(a.data(), n, v.data(), w.data(), n, b, i, c0, c1);
            for (size_t r = 1; r < 4; ++r) {
              const size_t e = std::min(i + r + 1, c0 + kCols);
              for (size_t k = 0; k < b; ++k)
                axpy_sub(&a[(i + r) * n + c1], &w[k * n + c1], v[k * n + i + r], e - c1);
            }
            i += 3;
            continue;
          }
          for (size_t k = 0; k < b; ++k)
            axpy_sub(&a[i * n + c0], &w[k * n + c0], v[k * n + i], c1 - c0);
        }
      }
    });
    // A_K,j <- W_:,j (stored in the lower triangle); A_KK <- -D.
    for (size_t k = 0; k < b; ++k) {
      const size_t r = k0 + k;
      for (size_t j = 0; j < k0; ++j) a[r * n + j] = w[k * n + j];
      for (size_t i = k0 + b; i < n; ++i) a[i * n + r] = w[k * n + i];
      for (size_t l = 0; l <= k; ++l) a[r * n + k0 + l] = -d[k * b + l];
    }
  }
  // The inverse, both triangles: -A.
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      a[i * n + j] = -a[i * n + j];
      a[j * n + i] = a[i * n + j];
    }
  }
  return a;
}

EaseModel fit_ease(double lambda, double min_rating, uint64_t max_memory, const TrainingSet& set,
                   RatingScale scale, int threads) {
  const size_t n = set.n_items();
  const uint64_t need = ease_memory_bytes(n);
  if (need > max_memory) {
    throw Error(ErrorKind::kInput,
                fmt::format("ease: {} items need a {} x {} item-item matrix, {} to solve "
                            "(12 bytes per entry), above max_memory {}; raise max_memory "
                            "or use ials or bpr (memory linear in the items)",
                            n, n, n, size_text(need), size_text(max_memory)));
  }
  EaseModel m;
  fill_model_base(m, set, "ease", scale);
  m.lambda = lambda;
  m.min_rating = min_rating;
  const Interactions x = make_interactions(set, min_rating);
  m.positive_offsets = x.user_offsets;
  m.positive_items = x.user_item;
  m.popularity.resize(n);
  for (size_t i = 0; i < n; ++i)
    m.popularity[i] = static_cast<float>(x.item_offsets[i + 1] - x.item_offsets[i]);
  // G = X^T X + lambda I, lower triangle, by rows: row i counts, for each user with i, that
  // user's positives j <= i.
  std::vector<double> g(n * n, 0.0);
  for_row_ranges(n, 16, threads, [&](size_t first, size_t last) {
    for (size_t i = first; i < last; ++i) {
      double* row = &g[i * n];
      for (uint64_t e = x.item_offsets[i]; e < x.item_offsets[i + 1]; ++e) {
        const uint32_t u = x.item_user[e];
        for (uint64_t f = x.user_offsets[u]; f < x.user_offsets[u + 1]; ++f) {
          const uint32_t j = x.user_item[f];
          if (j > i) break;  // ascending
          row[j] += 1.0;
        }
      }
      row[i] += lambda;
    }
  });
  const std::vector<double> p = invert_spd(std::move(g), n, threads);
  m.weights.resize(n * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      m.weights[i * n + j] = i == j ? 0.0f : static_cast<float>(-p[i * n + j] / p[j * n + j]);
    }
  }
  return m;
}

// --- the model -------------------------------------------------------------------------------

void EaseModel::score_items(const uint32_t* positives, size_t count_positives, uint32_t first,
                            uint32_t count, float* out) const {
  const size_t n = n_items();
  std::fill_n(out, count, 0.0f);
  for (size_t t = 0; t < count_positives; ++t) {
    const float* row = &weights[size_t{positives[t]} * n + first];
    for (uint32_t j = 0; j < count; ++j) out[j] += row[j];
  }
}

double EaseModel::estimate(int64_t user, int64_t item) const {
  if (item < 0) return 0.0;
  if (user < 0) return popularity[static_cast<size_t>(item)];
  float s = 0.0f;
  const auto u = static_cast<size_t>(user);
  score_items(positive_items.data() + positive_offsets[u],
              positive_offsets[u + 1] - positive_offsets[u], static_cast<uint32_t>(item), 1, &s);
  return s;
}

void EaseModel::score_block(std::span<const uint32_t> block_users, uint32_t first, uint32_t count,
                            float* out, size_t ld) const {
  for (size_t t = 0; t < block_users.size(); ++t) {
    const uint32_t u = block_users[t];
    score_items(positive_items.data() + positive_offsets[u],
                positive_offsets[u + 1] - positive_offsets[u], first, count, out + t * ld);
  }
}

void EaseModel::score_unknown_user(uint32_t first, uint32_t count, float* out) const {
  std::copy_n(popularity.begin() + first, count, out);
}

void EaseModel::validate() const {
  validate_identity();
  const size_t nu = n_users(), ni = n_items();
  if (weights.size() != ni * ni) fail("ease weight matrix has the wrong size");
  if (popularity.size() != ni) fail("ease popularity has the wrong size");
  if (positive_offsets.size() != nu + 1 || positive_offsets.front() != 0 ||
      positive_offsets.back() != positive_items.size()) {
    fail("ease positives index is inconsistent");
  }
  for (size_t u = 0; u < nu; ++u) {
    if (positive_offsets[u] > positive_offsets[u + 1]) fail("ease positives index not monotonic");
    for (uint64_t e = positive_offsets[u]; e < positive_offsets[u + 1]; ++e) {
      if (positive_items[e] >= ni) fail(fmt::format("positive item {} out of range", e));
      if (e > positive_offsets[u] && positive_items[e] <= positive_items[e - 1])
        fail("ease positives are not ascending");
    }
  }
  validate_rated();
  if (!std::isfinite(lambda) || !std::isfinite(min_rating)) fail("ease header is not finite");
  for (const auto* v : {&weights, &popularity}) {
    for (const float x : *v)
      if (!std::isfinite(x)) fail("ease parameters contain NaN or infinity");
  }
}

const ModelType& EaseModel::type() const {
  return ease_model_type();
}

// Header (56 bytes): f64 lambda, f64 min_rating, f32 scale min, f32 scale max, u32 n_users,
// u32 n_items, u64 n_rated, u64 n_positive, u64 reserved. Arrays: user ids (i64), item ids (i64),
// B (f32, n_items x n_items), popularity (f32), positive offsets (u64, n_users + 1), positive
// items (u32), rated offsets (u64), rated items (u32).
namespace {

struct Header {
  double lambda, min_rating;
  float min, max;
  uint32_t n_users, n_items;
  uint64_t n_rated, n_positive, reserved;
};

Header read_header(const char* h) {
  using namespace binary;
  return {load_f64(h),      load_f64(h + 8),  load_f32(h + 16), load_f32(h + 20), load_u32(h + 24),
          load_u32(h + 28), load_u64(h + 32), load_u64(h + 40), load_u64(h + 48)};
}

const EaseModel& as_ease(const Model& model) {
  const auto* m = dynamic_cast<const EaseModel*>(&model);
  if (m == nullptr) {
    throw Error(ErrorKind::kInternal,
                fmt::format("model of algorithm {} is not an ease model", model.algorithm));
  }
  return *m;
}

}  // namespace

const ModelType& ease_model_type() {
  static const ModelType type{
      "ease",
      56,
      [](const char* header) -> std::optional<std::vector<uint64_t>> {
        using binary::checked_add;
        using binary::checked_mul;
        const Header h = read_header(header);
        const uint64_t nu = h.n_users, ni = h.n_items;
        return binary::all_sizes({checked_mul(nu, 8), checked_mul(ni, 8),
                                  checked_mul(checked_mul(ni, ni), 4), checked_mul(ni, 4),
                                  checked_mul(checked_add(nu, 1), 8), checked_mul(h.n_positive, 4),
                                  checked_mul(checked_add(nu, 1), 8), checked_mul(h.n_rated, 4)});
      },
      [](const char* header) {
        const Header h = read_header(header);
        return fmt::format("n_users={}, n_items={}, n_positive={}, n_rated={}", h.n_users,
                           h.n_items, h.n_positive, h.n_rated);
      },
      [](const char* header, uint64_t offset) -> std::string {
        if (read_header(header).reserved != 0)
          return fmt::format("reserved model header field at offset {} is not zero", offset + 48);
        return "";
      },
      [](const char* header) {
        const Header h = read_header(header);
        return ModelShape{h.n_users, h.n_items, 0, h.n_rated};
      },
      [](const Model& model) {
        using namespace binary;
        const EaseModel& m = as_ease(model);
        std::string h(56, '\0');
        store_f64(h.data(), m.lambda);
        store_f64(h.data() + 8, m.min_rating);
        store_f32(h.data() + 16, m.scale.min);
        store_f32(h.data() + 20, m.scale.max);
        store_u32(h.data() + 24, m.n_users());
        store_u32(h.data() + 28, m.n_items());
        store_u64(h.data() + 32, m.rated_items.size());
        store_u64(h.data() + 40, m.positive_items.size());
        return h;
      },
      [](const Model& model, std::span<char* const> a) {
        const EaseModel& m = as_ease(model);
        store_identity_arrays(m, a[0], a[1], a[6], a[7]);
        binary::store_f32s(a[2], m.weights);
        binary::store_f32s(a[3], m.popularity);
        binary::store_u64s(a[4], m.positive_offsets);
        binary::store_u32s(a[5], m.positive_items);
      },
      [](std::string algorithm, const char* header,
         std::span<const std::string_view> a) -> std::unique_ptr<Model> {
        const Header h = read_header(header);
        auto m = std::make_unique<EaseModel>();
        m->algorithm = std::move(algorithm);
        m->lambda = h.lambda;
        m->min_rating = h.min_rating;
        m->scale = {h.min, h.max};
        load_identity_arrays(*m, a[0], a[1], a[6], a[7]);
        m->weights = binary::load_f32s(a[2]);
        m->popularity = binary::load_f32s(a[3]);
        m->positive_offsets = binary::load_u64s(a[4]);
        m->positive_items = binary::load_u32s(a[5]);
        return m;
      }};
  return type;
}

Algorithm ease_algorithm() {
  Algorithm a;
  a.name = "ease";
  a.doc =
      "closed-form item-item model (Steck's EASE), for top-N ranking; item counts up to about "
      "20,000";
  using O = OptionSpec;
  a.params = {
      O::real("lambda", 500.0, 0.0, 1e12, "L2 regularization added to the diagonal of X^T X")
          .open_min(),
      min_rating_param(),
      O::bytes("max_memory", int64_t{4} << 30, 1, int64_t{1} << 50,
               "refuse item counts whose 12 x items^2 bytes exceed it (before allocating)"),
  };
  a.model_type = &ease_model_type();
  a.predicts_ratings = false;
  a.max_fit_threads = row_parallel_fit_threads;
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    return std::make_unique<EaseModel>(
        fit_ease(in.params.get_float("lambda"), in.params.get_float("min_rating"),
                 static_cast<uint64_t>(in.params.get_int("max_memory")), in.set, in.scale,
                 resolve_threads(in.threads, 64)));
  };
  return a;
}

}  // namespace reco::algorithms
