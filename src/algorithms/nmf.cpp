#include "algorithms/nmf.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/random.h"

namespace reco::algorithms {

NmfOptions NmfOptions::from_params(const Params& p) {
  NmfOptions o;
  o.n_factors = static_cast<int>(p.get_int("n_factors"));
  o.n_epochs = static_cast<int>(p.get_int("n_epochs"));
  o.biased = p.get_bool("biased");
  o.reg_pu = p.get_float("reg_pu");
  o.reg_qi = p.get_float("reg_qi");
  o.reg_bu = p.get_float("reg_bu");
  o.reg_bi = p.get_float("reg_bi");
  o.lr_bu = p.get_float("lr_bu");
  o.lr_bi = p.get_float("lr_bi");
  o.init_low = p.get_float("init_low");
  o.init_high = p.get_float("init_high");
  return o;
}

FactorModel fit_nmf(const NmfOptions& o, const TrainingSet& set, RatingScale scale, uint64_t seed,
                    const EpochProgress& progress) {
  if (!(o.init_low <= o.init_high)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("nmf: init_low {} is above init_high {}", o.init_low, o.init_high));
  }
  FactorModel model = make_model_shell(set, "nmf", scale);
  const size_t nu = set.n_users(), ni = set.n_items(), nf = static_cast<size_t>(o.n_factors);
  Rng rng(seed, rng_stream::kFactorInit);
  std::vector<double> pu(nu * nf), qi(ni * nf);
  for (auto& x : pu) x = o.init_low + (o.init_high - o.init_low) * rng.uniform();
  for (auto& x : qi) x = o.init_low + (o.init_high - o.init_low) * rng.uniform();
  std::vector<double> bu(nu, 0.0), bi(ni, 0.0);
  std::vector<uint32_t> item_count(ni, 0);
  for (const uint32_t i : set.item) ++item_count[i];
  const double mu = o.biased ? set.global_mean : 0.0;

  std::vector<double> user_num(nu * nf), user_den(nu * nf), item_num(ni * nf), item_den(ni * nf);
  for (int epoch = 1; epoch <= o.n_epochs; ++epoch) {
    std::fill(user_num.begin(), user_num.end(), 0.0);
    std::fill(user_den.begin(), user_den.end(), 0.0);
    std::fill(item_num.begin(), item_num.end(), 0.0);
    std::fill(item_den.begin(), item_den.end(), 0.0);
    double sse = 0.0;
    for (size_t u = 0; u < nu; ++u) {
      const double* p = &pu[u * nf];
      for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
        const uint32_t i = set.item[k];
        const double r = set.rating[k];
        const double* q = &qi[size_t{i} * nf];
        double dot = 0.0;
        for (size_t f = 0; f < nf; ++f) dot += q[f] * p[f];
        const double est = mu + bu[u] + bi[i] + dot;
        const double err = r - est;
        sse += err * err;
        if (o.biased) {
          bu[u] += o.lr_bu * (err - o.reg_bu * bu[u]);
          bi[i] += o.lr_bi * (err - o.reg_bi * bi[i]);
        }
        for (size_t f = 0; f < nf; ++f) {
          user_num[u * nf + f] += q[f] * r;
          user_den[u * nf + f] += q[f] * est;
          item_num[size_t{i} * nf + f] += p[f] * r;
          item_den[size_t{i} * nf + f] += p[f] * est;
        }
      }
    }
    for (size_t u = 0; u < nu; ++u) {
      const double n = static_cast<double>(set.user_offsets[u + 1] - set.user_offsets[u]);
      for (size_t f = 0; f < nf; ++f) {
        const size_t x = u * nf + f;
        user_den[x] += n * o.reg_pu * pu[x];
        pu[x] *= user_num[x] / user_den[x];
      }
    }
    for (size_t i = 0; i < ni; ++i) {
      const double n = static_cast<double>(item_count[i]);
      for (size_t f = 0; f < nf; ++f) {
        const size_t x = i * nf + f;
        item_den[x] += n * o.reg_qi * qi[x];
        qi[x] *= item_num[x] / item_den[x];
      }
    }
    if (!std::isfinite(sse)) {
      throw Error(ErrorKind::kInput,
                  fmt::format("nmf training diverged in epoch {} of {} (parameters became NaN or "
                              "infinite); NMF needs ratings above 0 and a positive init range",
                              epoch, o.n_epochs));
    }
    if (progress) progress(epoch, o.n_epochs, std::sqrt(sse / static_cast<double>(set.size())));
  }
  model.biased = o.biased;
  model.n_factors = static_cast<uint32_t>(nf);
  model.user_bias.assign(bu.begin(), bu.end());
  model.item_bias.assign(bi.begin(), bi.end());
  model.user_factors.assign(pu.begin(), pu.end());
  model.item_factors.assign(qi.begin(), qi.end());
  for (const auto* v :
       {&model.user_factors, &model.item_factors, &model.user_bias, &model.item_bias}) {
    for (const float x : *v) {
      if (!std::isfinite(x)) {
        throw Error(ErrorKind::kInput,
                    "nmf training produced NaN (a user or item whose factors all reached 0 "
                    "divides 0 by 0): raise init_low above 0");
      }
    }
  }
  return model;
}

namespace {

OptionTable nmf_params() {
  using O = OptionSpec;
  return {
      O::integer("n_factors", 15, 1, 4096, "number of latent factors"),
      O::integer("n_epochs", 50, 1, 100000, "number of passes over the training ratings"),
      O::boolean("biased", false, "add the global mean and user/item biases (SGD steps)"),
      O::real("reg_pu", 0.06, 0.0, 1000.0, "regularization of the user factors"),
      O::real("reg_qi", 0.06, 0.0, 1000.0, "regularization of the item factors"),
      O::real("reg_bu", 0.02, 0.0, 1000.0, "regularization of the user biases (biased only)"),
      O::real("reg_bi", 0.02, 0.0, 1000.0, "regularization of the item biases (biased only)"),
      O::real("lr_bu", 0.005, 0.0, 1.0, "learning rate of the user biases (biased only)"),
      O::real("lr_bi", 0.005, 0.0, 1.0, "learning rate of the item biases (biased only)"),
      O::real("init_low", 0.0, 0.0, 1000.0, "lower bound of the uniform initial factors (>= 0)"),
      O::real("init_high", 1.0, 0.0, 1000.0, "upper bound of the uniform initial factors"),
  };
}

}  // namespace

Algorithm nmf_algorithm() {
  Algorithm a;
  a.name = "nmf";
  a.doc = "non-negative matrix factorization by multiplicative updates (Surprise's NMF)";
  a.params = nmf_params();
  a.model_type = &factor_model_type();
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    return std::make_unique<FactorModel>(
        fit_nmf(NmfOptions::from_params(in.params), in.set, in.scale, in.seed, in.progress));
  };
  return a;
}

}  // namespace reco::algorithms
