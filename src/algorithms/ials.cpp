#include "algorithms/ials.h"

#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "algorithms/kernels.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/random.h"

namespace reco::algorithms {

IalsOptions IalsOptions::from_params(const Params& p) {
  IalsOptions o;
  o.factors = static_cast<int>(p.get_int("factors"));
  o.regularization = p.get_float("regularization");
  o.alpha = p.get_float("alpha");
  o.iterations = static_cast<int>(p.get_int("iterations"));
  o.cg_steps = static_cast<int>(p.get_int("cg_steps"));
  o.rating_confidence = p.get_enum("confidence") == "rating";
  o.min_rating = p.get_float("min_rating");
  return o;
}

namespace {

// Y^T Y + reg I of the fixed side (n rows of k floats), as float, summed in double over a fixed
// partition of the rows so the result does not depend on the thread count.
std::vector<float> gram(const std::vector<float>& y, size_t n, size_t k, double reg, int threads) {
  constexpr size_t kParts = 16;
  const size_t per = (n + kParts - 1) / kParts;
  std::vector<std::vector<double>> partial(kParts, std::vector<double>(k * k, 0.0));
  for_row_ranges(kParts, 1, threads, [&](size_t first, size_t last) {
    for (size_t part = first; part < last; ++part) {
      std::vector<double>& g = partial[part];
      for (size_t r = part * per; r < std::min(n, (part + 1) * per); ++r) {
        const float* row = &y[r * k];
        for (size_t a = 0; a < k; ++a) {
          const double ya = row[a];
          for (size_t b = 0; b <= a; ++b) g[a * k + b] += ya * row[b];
        }
      }
    }
  });
  std::vector<float> out(k * k);
  for (size_t a = 0; a < k; ++a) {
    for (size_t b = 0; b <= a; ++b) {
      double s = 0.0;
      for (const auto& g : partial) s += g[a * k + b];
      if (a == b) s += reg;
      out[a * k + b] = out[b * k + a] = static_cast<float>(s);
    }
  }
  return out;
}

// implicit's conjugate-gradient update of every row of `x` (n rows) against the fixed side y:
// rows [offsets[u], offsets[u + 1]) of (index, value) are row u's positives.
void cg_side(const IalsOptions& o, std::vector<float>& x, size_t n, const std::vector<float>& y,
             size_t n_fixed, const std::vector<uint64_t>& offsets,
             const std::vector<uint32_t>& index, const std::vector<float>& value, int threads) {
  const size_t k = static_cast<size_t>(o.factors);
  const std::vector<float> yty = gram(y, n_fixed, k, o.regularization, threads);
  const kernels::DotFn dot = kernels::dot_function();
  const auto kf = static_cast<uint32_t>(k);
  for_row_ranges(n, 64, threads, [&](size_t first, size_t last) {
    std::vector<float> r(k), p(k), ap(k);
    for (size_t u = first; u < last; ++u) {
      float* xu = &x[u * k];
      // r = b - A x
      for (size_t a = 0; a < k; ++a) r[a] = -dot(&yty[a * k], xu, kf);
      for (uint64_t e = offsets[u]; e < offsets[u + 1]; ++e) {
        const float* yi = &y[size_t{index[e]} * k];
        const auto c = static_cast<float>(o.confidence(value[e]));
        const float w = c - (c - 1.0f) * dot(yi, xu, kf);
        for (size_t a = 0; a < k; ++a) r[a] += w * yi[a];
      }
      p = r;
      float rs_old = dot(r.data(), r.data(), kf);
      if (rs_old < 1e-20f) continue;
      for (int step = 0; step < o.cg_steps; ++step) {
        for (size_t a = 0; a < k; ++a) ap[a] = dot(&yty[a * k], p.data(), kf);
        for (uint64_t e = offsets[u]; e < offsets[u + 1]; ++e) {
          const float* yi = &y[size_t{index[e]} * k];
          const auto c = static_cast<float>(o.confidence(value[e]));
          const float w = (c - 1.0f) * dot(yi, p.data(), kf);
          for (size_t a = 0; a < k; ++a) ap[a] += w * yi[a];
        }
        const float step_size = rs_old / dot(p.data(), ap.data(), kf);
        for (size_t a = 0; a < k; ++a) {
          xu[a] += step_size * p[a];
          r[a] -= step_size * ap[a];
        }
        const float rs_new = dot(r.data(), r.data(), kf);
        if (rs_new < 1e-20f) break;
        const float beta = rs_new / rs_old;
        for (size_t a = 0; a < k; ++a) p[a] = r[a] + beta * p[a];
        rs_old = rs_new;
      }
    }
  });
}

}  // namespace

FactorModel fit_ials(const IalsOptions& o, const TrainingSet& set, RatingScale scale, uint64_t seed,
                     int threads, const EpochProgress& progress) {
  FactorModel model = make_model_shell(set, "ials", scale);
  const Interactions x = make_interactions(set, o.min_rating);
  const size_t nu = x.n_users, ni = x.n_items, k = static_cast<size_t>(o.factors);
  Rng rng(seed, rng_stream::kFactorInit);
  std::vector<float> users(nu * k), items(ni * k);
  for (auto& v : users) v = static_cast<float>(rng.uniform() * 0.01);
  for (auto& v : items) v = static_cast<float>(rng.uniform() * 0.01);
  for (int it = 1; it <= o.iterations; ++it) {
    cg_side(o, users, nu, items, ni, x.user_offsets, x.user_item, x.user_value, threads);
    cg_side(o, items, ni, users, nu, x.item_offsets, x.item_user, x.item_value, threads);
    for (const auto* v : {&users, &items}) {
      for (const float f : *v) {
        if (!std::isfinite(f)) {
          throw Error(ErrorKind::kInput,
                      fmt::format("ials training diverged in iteration {} of {} (factors became "
                                  "NaN or infinite): raise regularization or lower alpha",
                                  it, o.iterations));
        }
      }
    }
    if (progress) progress(it, o.iterations, std::numeric_limits<double>::quiet_NaN());
  }
  model.biased = false;
  model.global_mean = 0.0;
  model.n_factors = static_cast<uint32_t>(k);
  model.user_bias.assign(nu, 0.0f);
  model.item_bias.assign(ni, 0.0f);
  model.user_factors = std::move(users);
  model.item_factors = std::move(items);
  return model;
}

std::vector<double> ials_solve_user(const IalsOptions& o, const FactorModel& m,
                                    const std::vector<uint32_t>& items,
                                    const std::vector<double>& ratings) {
  const size_t k = m.n_factors;
  std::vector<double> a(k * k, 0.0), b(k, 0.0);
  for (uint32_t i = 0; i < m.n_items(); ++i) {
    const float* y = &m.item_factors[size_t{i} * k];
    for (size_t r = 0; r < k; ++r)
      for (size_t c = 0; c <= r; ++c) a[r * k + c] += double{y[r]} * y[c];
  }
  for (size_t r = 0; r < k; ++r) a[r * k + r] += o.regularization;
  for (size_t t = 0; t < items.size(); ++t) {
    const float* y = &m.item_factors[size_t{items[t]} * k];
    const double c = o.confidence(static_cast<float>(ratings[t]));
    for (size_t r = 0; r < k; ++r) {
      b[r] += c * y[r];
      for (size_t col = 0; col <= r; ++col) a[r * k + col] += (c - 1.0) * y[r] * y[col];
    }
  }
  if (!solve_spd_in_place(a.data(), b.data(), k)) {
    throw Error(ErrorKind::kInput,
                "fold-in: the user's iALS system is not positive definite (regularization 0?)");
  }
  return b;
}

Algorithm ials_algorithm() {
  Algorithm a;
  a.name = "ials";
  a.doc =
      "implicit ALS (WRMF) by conjugate gradient, for top-N ranking (the implicit library's "
      "AlternatingLeastSquares)";
  using O = OptionSpec;
  a.params = {
      O::integer("factors", 100, 1, 4096, "number of latent factors"),
      O::real("regularization", 0.01, 0.0, 1e6, "L2 regularization of the factors"),
      O::real("alpha", 1.0, 0.0, 1e6,
              "confidence weight of a positive: c = 1 + alpha (binary) or 1 + alpha * rating"),
      O::integer("iterations", 15, 1, 10000, "rounds of (users, items) updates"),
      O::integer("cg_steps", 3, 1, 1000, "conjugate-gradient steps per user or item update"),
      O::choice("confidence", "binary", {"binary", "rating"},
                "a positive's weight w in c = 1 + alpha * w: 1 (binary) or its rating"),
      min_rating_param(),
  };
  a.model_type = &factor_model_type();
  a.predicts_ratings = false;
  a.max_fit_threads = row_parallel_fit_threads;
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    const int threads = resolve_threads(in.threads, 64);
    return std::make_unique<FactorModel>(fit_ials(IalsOptions::from_params(in.params), in.set,
                                                  in.scale, in.seed, threads, in.progress));
  };
  return a;
}

}  // namespace reco::algorithms
