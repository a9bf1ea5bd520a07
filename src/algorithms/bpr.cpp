#include "algorithms/bpr.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "algorithms/kernels.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::algorithms {

BprOptions BprOptions::from_params(const Params& p) {
  BprOptions o;
  o.factors = static_cast<int>(p.get_int("factors"));
  o.learning_rate = p.get_float("learning_rate");
  o.regularization = p.get_float("regularization");
  o.iterations = static_cast<int>(p.get_int("iterations"));
  o.min_rating = p.get_float("min_rating");
  return o;
}

FactorModel fit_bpr(const BprOptions& o, const TrainingSet& set, RatingScale scale, uint64_t seed,
                    const EpochProgress& progress) {
  FactorModel model = make_model_shell(set, "bpr", scale);
  const Interactions x = make_interactions(set, o.min_rating);
  const size_t nu = x.n_users, ni = x.n_items, k = static_cast<size_t>(o.factors);
  Rng rng(seed, rng_stream::kFactorInit);
  std::vector<float> pu(nu * k), qi(ni * k), bi(ni, 0.0f);
  for (auto& v : pu) v = static_cast<float>((rng.uniform() - 0.5) / static_cast<double>(k));
  for (auto& v : qi) v = static_cast<float>((rng.uniform() - 0.5) / static_cast<double>(k));
  // The user of each positive, for drawing (u, i) uniformly among the positives.
  std::vector<uint32_t> owner(x.size());
  for (uint32_t u = 0; u < nu; ++u)
    std::fill(owner.begin() + static_cast<ptrdiff_t>(x.user_offsets[u]),
              owner.begin() + static_cast<ptrdiff_t>(x.user_offsets[u + 1]), u);
  const auto lr = static_cast<float>(o.learning_rate);
  const auto reg = static_cast<float>(o.regularization);
  const kernels::DotFn dot = kernels::dot_function();
  const auto kf = static_cast<uint32_t>(k);
  Rng sampler(seed, rng_stream::kSampling);
  std::vector<float> diff(k);
  const uint64_t n = x.size();
  for (int it = 1; it <= o.iterations; ++it) {
    for (uint64_t s = 0; s < n; ++s) {
      const uint64_t e = sampler.below(n);
      const uint32_t u = owner[e], i = x.user_item[e];
      const auto begin = x.user_item.begin() + static_cast<ptrdiff_t>(x.user_offsets[u]);
      const auto end = x.user_item.begin() + static_cast<ptrdiff_t>(x.user_offsets[u + 1]);
      if (static_cast<size_t>(end - begin) >= ni) continue;  // no negative item exists
      uint32_t j = static_cast<uint32_t>(sampler.below(ni));
      while (std::binary_search(begin, end, j)) j = static_cast<uint32_t>(sampler.below(ni));
      float* p = &pu[size_t{u} * k];
      float* q_i = &qi[size_t{i} * k];
      float* q_j = &qi[size_t{j} * k];
      for (size_t f = 0; f < k; ++f) diff[f] = q_i[f] - q_j[f];
      const float xuij = bi[i] - bi[j] + dot(p, diff.data(), kf);
      const float z = 1.0f / (1.0f + std::exp(xuij));
      for (size_t f = 0; f < k; ++f) {
        const float pf = p[f], qif = q_i[f], qjf = q_j[f];
        p[f] = pf + lr * (z * diff[f] - reg * pf);
        q_i[f] = qif + lr * (z * pf - reg * qif);
        q_j[f] = qjf + lr * (-z * pf - reg * qjf);
      }
      bi[i] += lr * (z - reg * bi[i]);
      bi[j] += lr * (-z - reg * bi[j]);
    }
    for (const auto* v : {&pu, &qi, &bi}) {
      for (const float f : *v) {
        if (!std::isfinite(f)) {
          throw Error(ErrorKind::kInput,
                      fmt::format("bpr training diverged in iteration {} of {} (factors became "
                                  "NaN or infinite): lower learning_rate",
                                  it, o.iterations));
        }
      }
    }
    if (progress) progress(it, o.iterations, std::nan(""));  // BPR measures no RMSE
  }
  model.biased = true;
  model.global_mean = 0.0;
  model.n_factors = static_cast<uint32_t>(k);
  model.user_bias.assign(nu, 0.0f);
  model.item_bias = std::move(bi);
  model.user_factors = std::move(pu);
  model.item_factors = std::move(qi);
  return model;
}

Algorithm bpr_algorithm() {
  Algorithm a;
  a.name = "bpr";
  a.doc =
      "Bayesian personalized ranking by SGD with uniform negative sampling, for top-N ranking "
      "(the implicit library's BayesianPersonalizedRanking)";
  using O = OptionSpec;
  a.params = {
      O::integer("factors", 100, 1, 4096, "number of latent factors"),
      O::real("learning_rate", 0.01, 0.0, 10.0, "SGD step size").open_min(),
      O::real("regularization", 0.01, 0.0, 1e6, "L2 regularization of factors and item biases"),
      O::integer("iterations", 100, 1, 100000,
                 "passes, each of as many sampled triples as there are positives"),
      min_rating_param(),
  };
  a.model_type = &factor_model_type();
  a.predicts_ratings = false;
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    return std::make_unique<FactorModel>(
        fit_bpr(BprOptions::from_params(in.params), in.set, in.scale, in.seed, in.progress));
  };
  return a;
}

}  // namespace reco::algorithms
