#include "algorithms/als.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/parallel.h"
#include "core/random.h"

namespace reco::algorithms {

AlsOptions AlsOptions::from_params(const Params& p) {
  AlsOptions o;
  o.rank = static_cast<int>(p.get_int("rank"));
  o.max_iter = static_cast<int>(p.get_int("max_iter"));
  o.reg_param = p.get_float("reg_param");
  return o;
}

namespace {

// Solves one row's least squares against the fixed factors y (k wide) into `out`; a, b are
// scratch. False when the system is singular (reg_param 0 and too few ratings).
bool solve_row(double reg_param, const float* y, size_t k, const uint32_t* index,
               const float* value, size_t count, std::vector<double>& a, std::vector<double>& b,
               float* out) {
  std::fill(a.begin(), a.end(), 0.0);
  std::fill(b.begin(), b.end(), 0.0);
  for (size_t e = 0; e < count; ++e) {
    const float* yi = &y[size_t{index[e]} * k];
    const double r = value[e];
    for (size_t p = 0; p < k; ++p) {
      const double yp = yi[p];
      b[p] += r * yp;
      for (size_t q = 0; q <= p; ++q) a[p * k + q] += yp * yi[q];
    }
  }
  for (size_t p = 0; p < k; ++p) a[p * k + p] += reg_param * static_cast<double>(count);
  if (!solve_spd_in_place(a.data(), b.data(), k)) return false;
  for (size_t p = 0; p < k; ++p) out[p] = static_cast<float>(b[p]);
  return true;
}

void solve_side(double reg_param, std::vector<float>& x, size_t n, const std::vector<float>& y,
                size_t k, const std::vector<uint64_t>& offsets, const std::vector<uint32_t>& index,
                const std::vector<float>& value, int threads, const char* side) {
  for_row_ranges(n, 64, threads, [&](size_t first, size_t last) {
    std::vector<double> a(k * k), b(k);
    for (size_t r = first; r < last; ++r) {
      const uint64_t begin = offsets[r];
      if (!solve_row(reg_param, y.data(), k, index.data() + begin, value.data() + begin,
                     offsets[r + 1] - begin, a, b, &x[r * k])) {
        throw Error(ErrorKind::kInput,
                    fmt::format("als: the least-squares system of {} {} is singular (fewer "
                                "ratings than rank with reg_param 0): raise reg_param",
                                side, r));
      }
    }
  });
}

}  // namespace

FactorModel fit_als(const AlsOptions& o, const TrainingSet& set, RatingScale scale, uint64_t seed,
                    int threads, const EpochProgress& progress) {
  FactorModel model = make_model_shell(set, "als", scale);
  const Interactions x = all_interactions(set);
  const size_t nu = x.n_users, ni = x.n_items, k = static_cast<size_t>(o.rank);
  Rng rng(seed, rng_stream::kFactorInit);
  std::vector<float> users(nu * k, 0.0f), items(ni * k);
  for (size_t i = 0; i < ni; ++i) {
    double norm = 0.0;
    std::vector<double> row(k);
    for (auto& v : row) {
      v = rng.normal(0.0, 1.0);
      norm += v * v;
    }
    norm = std::sqrt(norm);
    for (size_t f = 0; f < k; ++f) items[i * k + f] = static_cast<float>(row[f] / norm);
  }
  for (int it = 1; it <= o.max_iter; ++it) {
    solve_side(o.reg_param, users, nu, items, k, x.user_offsets, x.user_item, x.user_value, threads,
               "user");
    solve_side(o.reg_param, items, ni, users, k, x.item_offsets, x.item_user, x.item_value, threads,
               "item");
    double sse = 0.0;
    for (size_t u = 0; u < nu; ++u) {
      for (uint64_t e = x.user_offsets[u]; e < x.user_offsets[u + 1]; ++e) {
        double d = 0.0;
        for (size_t f = 0; f < k; ++f)
          d += double{users[u * k + f]} * items[size_t{x.user_item[e]} * k + f];
        const double err = x.user_value[e] - d;
        sse += err * err;
      }
    }
    if (!std::isfinite(sse)) {
      throw Error(ErrorKind::kInput,
                  fmt::format("als training diverged in iteration {} of {}", it, o.max_iter));
    }
    if (progress) progress(it, o.max_iter, std::sqrt(sse / static_cast<double>(x.size())));
  }
  model.biased = false;
  model.n_factors = static_cast<uint32_t>(k);
  model.user_bias.assign(nu, 0.0f);
  model.item_bias.assign(ni, 0.0f);
  model.user_factors = std::move(users);
  model.item_factors = std::move(items);
  return model;
}

std::vector<double> als_solve_user(double reg_param, const FactorModel& m,
                                   const std::vector<uint32_t>& items,
                                   const std::vector<double>& ratings) {
  const size_t k = m.n_factors;
  std::vector<double> a(k * k), b(k);
  std::vector<float> values(ratings.begin(), ratings.end()), out(k);
  if (!solve_row(reg_param, m.item_factors.data(), k, items.data(), values.data(), items.size(), a,
                 b, out.data())) {
    throw Error(ErrorKind::kInput,
                "fold-in: the user's ALS system is singular (fewer ratings than rank with "
                "reg_param 0)");
  }
  return {out.begin(), out.end()};
}

Algorithm als_algorithm() {
  Algorithm a;
  a.name = "als";
  a.doc =
      "explicit alternating least squares with weighted-lambda regularisation (Spark MLlib's "
      "ALS)";
  using O = OptionSpec;
  a.params = {
      O::integer("rank", 10, 1, 4096, "number of latent factors (Spark's rank)"),
      O::integer("max_iter", 10, 1, 10000, "rounds of (users, items) solves (Spark's maxIter)"),
      O::real("reg_param", 0.1, 0.0, 1e6,
              "regularization, multiplied by each user's or item's rating count (Spark's "
              "regParam)"),
  };
  a.model_type = &factor_model_type();
  a.max_fit_threads = row_parallel_fit_threads;
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    return std::make_unique<FactorModel>(fit_als(AlsOptions::from_params(in.params), in.set,
                                                 in.scale, in.seed, resolve_threads(in.threads, 64),
                                                 in.progress));
  };
  return a;
}

}  // namespace reco::algorithms
