#include "algorithms/svd.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/random.h"

namespace reco::algorithms {
namespace {

struct SgdRates {
  float lr_bu, lr_bi, lr_pu, lr_qi;
  float reg_bu, reg_bi, reg_pu, reg_qi;
};

// The factor step of one rating. p and q are rows of different matrices, so they never alias;
// saying so lets the compiler vectorise the loop.
inline void update_factors(float* __restrict p, float* __restrict q, uint32_t n_factors, float err,
                           const SgdRates& r) {
  for (uint32_t f = 0; f < n_factors; ++f) {
    const float puf = p[f];
    const float qif = q[f];
    p[f] = puf + r.lr_pu * (err * qif - r.reg_pu * puf);
    q[f] = qif + r.lr_qi * (err * puf - r.reg_qi * qif);
  }
}

// q . p in float with kDotLanes interleaved partial sums: lane j adds the products of factors
// j, j + 8, j + 16, ... in order, then the lanes are combined pairwise (0+4, 1+5, 2+6, 3+7, then
// 0+2, 1+3, then 0+1). A single running sum would serialise on the latency of each addition;
// this fixed order is what an 8-wide (or 2 x 4-wide) vector unit computes naturally, so SIMD
// versions can reproduce it bit for bit.
constexpr uint32_t kDotLanes = 8;

inline float dot(const float* __restrict p, const float* __restrict q, uint32_t n_factors) {
  float lane[kDotLanes] = {};
  uint32_t f = 0;
  for (; f + kDotLanes <= n_factors; f += kDotLanes) {
    for (uint32_t j = 0; j < kDotLanes; ++j) lane[j] += q[f + j] * p[f + j];
  }
  for (uint32_t j = 0; f + j < n_factors; ++j) lane[j] += q[f + j] * p[f + j];
  for (uint32_t j = 0; j < 4; ++j) lane[j] += lane[j + 4];
  for (uint32_t j = 0; j < 2; ++j) lane[j] += lane[j + 2];
  return lane[0] + lane[1];
}

// One pass over the ratings in Surprise's all_ratings() order. This is the scalar reference
// path; faster variants must reproduce it.
template <bool kBiased>
void sgd_epoch(const TrainingSet& set, uint32_t n_factors, float mu, const SgdRates& rates,
               float* __restrict bu, float* __restrict bi, float* __restrict pu_all,
               float* __restrict qi_all) {
  const uint32_t nu = set.n_users();
  const uint32_t* items = set.item.data();
  const float* ratings = set.rating.data();
  for (uint32_t u = 0; u < nu; ++u) {
    float* p = pu_all + size_t{u} * n_factors;
    const uint64_t end = set.user_offsets[u + 1];
    for (uint64_t k = set.user_offsets[u]; k < end; ++k) {
      const uint32_t i = items[k];
      float* q = qi_all + size_t{i} * n_factors;
      const float d = dot(p, q, n_factors);
      if constexpr (kBiased) {
        const float err = ratings[k] - (mu + bu[u] + bi[i] + d);
        bu[u] += rates.lr_bu * (err - rates.reg_bu * bu[u]);
        bi[i] += rates.lr_bi * (err - rates.reg_bi * bi[i]);
        update_factors(p, q, n_factors, err, rates);
      } else {
        const float err = ratings[k] - d;
        update_factors(p, q, n_factors, err, rates);
      }
    }
  }
}

bool all_finite(const std::vector<float>& v) {
  // Summing is cheaper than a branch per element and a NaN or infinity survives the sum.
  float acc = 0.0f;
  for (const float x : v) acc += x * 0.0f;
  return acc == 0.0f;
}

}  // namespace

SvdOptions SvdOptions::from_params(const Params& params) {
  if (params.algorithm() != "svd") {
    throw Error(ErrorKind::kInternal, "SvdOptions built from " + params.algorithm() + " params");
  }
  SvdOptions o;
  o.n_factors = static_cast<uint32_t>(params.get_int("n_factors"));
  o.n_epochs = static_cast<int>(params.get_int("n_epochs"));
  o.biased = params.get_bool("biased");
  o.init_mean = params.get_float("init_mean");
  o.init_std_dev = params.get_float("init_std_dev");
  o.lr_bu = static_cast<float>(params.get_float("lr_bu"));
  o.lr_bi = static_cast<float>(params.get_float("lr_bi"));
  o.lr_pu = static_cast<float>(params.get_float("lr_pu"));
  o.lr_qi = static_cast<float>(params.get_float("lr_qi"));
  o.reg_bu = static_cast<float>(params.get_float("reg_bu"));
  o.reg_bi = static_cast<float>(params.get_float("reg_bi"));
  o.reg_pu = static_cast<float>(params.get_float("reg_pu"));
  o.reg_qi = static_cast<float>(params.get_float("reg_qi"));
  return o;
}

FactorModel fit_svd(const SvdOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, const EpochProgress& progress) {
  FactorModel model = make_model_shell(set, "svd", scale);
  model.biased = options.biased;
  model.n_factors = options.n_factors;
  const size_t nu = set.n_users(), ni = set.n_items(), nf = options.n_factors;
  model.user_bias.assign(nu, 0.0f);
  model.item_bias.assign(ni, 0.0f);
  model.user_factors.resize(nu * nf);
  model.item_factors.resize(ni * nf);

  Rng rng(seed, rng_stream::kFactorInit);
  for (float& x : model.user_factors) {
    x = static_cast<float>(rng.normal(options.init_mean, options.init_std_dev));
  }
  for (float& x : model.item_factors) {
    x = static_cast<float>(rng.normal(options.init_mean, options.init_std_dev));
  }

  const SgdRates rates{options.lr_bu,  options.lr_bi,  options.lr_pu,  options.lr_qi,
                       options.reg_bu, options.reg_bi, options.reg_pu, options.reg_qi};
  const float mu = static_cast<float>(set.global_mean);
  for (int epoch = 1; epoch <= options.n_epochs; ++epoch) {
    if (options.biased) {
      sgd_epoch<true>(set, options.n_factors, mu, rates, model.user_bias.data(),
                      model.item_bias.data(), model.user_factors.data(), model.item_factors.data());
    } else {
      sgd_epoch<false>(set, options.n_factors, mu, rates, model.user_bias.data(),
                       model.item_bias.data(), model.user_factors.data(),
                       model.item_factors.data());
    }
    // A learning rate too large for the data makes SGD blow up; say so instead of handing out
    // a model full of NaN.
    if (!all_finite(model.user_bias) || !all_finite(model.item_bias) ||
        !all_finite(model.user_factors) || !all_finite(model.item_factors)) {
      throw Error(ErrorKind::kInput,
                  fmt::format("svd training diverged in epoch {} of {} (parameters became NaN or "
                              "infinite); lower the learning rates or raise the regularization",
                              epoch, options.n_epochs));
    }
    if (progress) progress(epoch, options.n_epochs);
  }
  return model;
}

}  // namespace reco::algorithms
