#include "algorithms/svdpp.h"

#include <cmath>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "algorithms/initial_factors.h"
#include "core/error.h"

namespace reco::algorithms {

SvdppOptions SvdppOptions::from_params(const Params& p) {
  SvdppOptions o;
  o.n_factors = static_cast<int>(p.get_int("n_factors"));
  o.n_epochs = static_cast<int>(p.get_int("n_epochs"));
  o.init_mean = p.get_float("init_mean");
  o.init_std_dev = p.get_float("init_std_dev");
  o.lr_bu = p.get_float("lr_bu");
  o.lr_bi = p.get_float("lr_bi");
  o.lr_pu = p.get_float("lr_pu");
  o.lr_qi = p.get_float("lr_qi");
  o.lr_yj = p.get_float("lr_yj");
  o.reg_bu = p.get_float("reg_bu");
  o.reg_bi = p.get_float("reg_bi");
  o.reg_pu = p.get_float("reg_pu");
  o.reg_qi = p.get_float("reg_qi");
  o.reg_yj = p.get_float("reg_yj");
  return o;
}

FactorModel fit_svdpp(const SvdppOptions& o, const TrainingSet& set, RatingScale scale,
                      uint64_t seed, const EpochProgress& progress, const InitialFactors* init) {
  FactorModel model = make_model_shell(set, "svdpp", scale);
  const size_t nu = set.n_users(), ni = set.n_items(), nf = static_cast<size_t>(o.n_factors);
  // Parameters in double, as Surprise keeps them; p_u, then q_i, then y_j from the seed's draws.
  const size_t n_init = (nu + 2 * ni) * nf;
  std::optional<InitialFactors> own;
  if (init == nullptr || !init->matches(seed, o.init_mean, o.init_std_dev) ||
      init->size() < n_init) {
    own.emplace(seed, o.init_mean, o.init_std_dev, n_init, 0);
    init = &*own;
  }
  std::vector<double> pu(init->data(), init->data() + nu * nf);
  std::vector<double> qi(init->data() + nu * nf, init->data() + (nu + ni) * nf);
  std::vector<double> yj(init->data() + (nu + ni) * nf, init->data() + n_init);
  own.reset();
  std::vector<double> bu(nu, 0.0), bi(ni, 0.0);
  const double mu = set.global_mean;
  const double decay = 1.0 - o.lr_yj * o.reg_yj;  // the y_j map's scale
  std::vector<double> y0(nf), c(nf), implicit(nf);

  auto diverged = [&](int epoch) {
    return Error(ErrorKind::kInput,
                 fmt::format("svdpp training diverged in epoch {} of {} (parameters became NaN "
                             "or infinite); lower the learning rates or raise the regularization",
                             epoch, o.n_epochs));
  };
  for (int epoch = 1; epoch <= o.n_epochs; ++epoch) {
    double sse = 0.0;
    for (size_t u = 0; u < nu; ++u) {
      const uint64_t begin = set.user_offsets[u], end = set.user_offsets[u + 1];
      const double n = static_cast<double>(end - begin);
      const double inv_sqrt = 1.0 / std::sqrt(n);
      // y_j (j in I_u) = scale * y_j(stored) + c, composed over this user's ratings.
      std::fill(y0.begin(), y0.end(), 0.0);
      for (uint64_t k = begin; k < end; ++k) {
        const double* y = &yj[size_t{set.item[k]} * nf];
        for (size_t f = 0; f < nf; ++f) y0[f] += y[f];
      }
      double scale_y = 1.0;
      std::fill(c.begin(), c.end(), 0.0);
      double* p = &pu[u * nf];
      for (uint64_t k = begin; k < end; ++k) {
        const uint32_t i = set.item[k];
        double* q = &qi[size_t{i} * nf];
        double dot = 0.0;
        for (size_t f = 0; f < nf; ++f) {
          implicit[f] = (scale_y * y0[f] + n * c[f]) * inv_sqrt;
          dot += q[f] * (p[f] + implicit[f]);
        }
        const double err = static_cast<double>(set.rating[k]) - (mu + bu[u] + bi[i] + dot);
        sse += err * err;
        bu[u] += o.lr_bu * (err - o.reg_bu * bu[u]);
        bi[i] += o.lr_bi * (err - o.reg_bi * bi[i]);
        for (size_t f = 0; f < nf; ++f) {
          const double puf = p[f], qif = q[f];
          p[f] += o.lr_pu * (err * qif - o.reg_pu * puf);
          q[f] += o.lr_qi * (err * (puf + implicit[f]) - o.reg_qi * qif);
          c[f] = decay * c[f] + o.lr_yj * err * qif * inv_sqrt;
        }
        scale_y *= decay;
      }
      for (uint64_t k = begin; k < end; ++k) {
        double* y = &yj[size_t{set.item[k]} * nf];
        for (size_t f = 0; f < nf; ++f) y[f] = scale_y * y[f] + c[f];
      }
    }
    if (!std::isfinite(sse)) throw diverged(epoch);
    if (progress) progress(epoch, o.n_epochs, std::sqrt(sse / static_cast<double>(set.size())));
  }

  // The published model: p_u + |I_u|^-1/2 sum y_j as the user's vector.
  model.biased = true;
  model.n_factors = static_cast<uint32_t>(nf);
  model.user_bias.resize(nu);
  model.item_bias.resize(ni);
  model.user_factors.resize(nu * nf);
  model.item_factors.resize(ni * nf);
  for (size_t u = 0; u < nu; ++u) {
    const uint64_t begin = set.user_offsets[u], end = set.user_offsets[u + 1];
    const double inv_sqrt = 1.0 / std::sqrt(static_cast<double>(end - begin));
    std::fill(y0.begin(), y0.end(), 0.0);
    for (uint64_t k = begin; k < end; ++k) {
      const double* y = &yj[size_t{set.item[k]} * nf];
      for (size_t f = 0; f < nf; ++f) y0[f] += y[f];
    }
    model.user_bias[u] = static_cast<float>(bu[u]);
    for (size_t f = 0; f < nf; ++f) {
      model.user_factors[u * nf + f] = static_cast<float>(pu[u * nf + f] + inv_sqrt * y0[f]);
    }
  }
  for (size_t i = 0; i < ni; ++i) {
    model.item_bias[i] = static_cast<float>(bi[i]);
    for (size_t f = 0; f < nf; ++f)
      model.item_factors[i * nf + f] = static_cast<float>(qi[i * nf + f]);
  }
  for (const auto* v :
       {&model.user_bias, &model.item_bias, &model.user_factors, &model.item_factors}) {
    for (const float x : *v)
      if (!std::isfinite(x)) throw diverged(o.n_epochs);
  }
  return model;
}

namespace {

OptionTable svdpp_params() {
  using O = OptionSpec;
  constexpr double kMaxLr = 1.0, kMaxReg = 1000.0;
  OptionTable t = {
      O::integer("n_factors", 20, 1, 4096, "number of latent factors"),
      O::integer("n_epochs", 20, 1, 100000, "number of SGD passes over the training ratings"),
      O::real("init_mean", 0.0, -100.0, 100.0, "mean of the normal the factors start from"),
      O::real("init_std_dev", 0.1, 0.0, 100.0,
              "standard deviation of the normal the factors start from"),
      O::real("lr_all", 0.007, 0.0, kMaxLr, "learning rate of every parameter"),
      O::real("reg_all", 0.02, 0.0, kMaxReg, "regularization of every parameter"),
  };
  struct Derived {
    const char* name;
    const char* doc;
  };
  for (const auto& [name, doc] : std::initializer_list<Derived>{
           {"lr_bu", "learning rate of the user biases"},
           {"lr_bi", "learning rate of the item biases"},
           {"lr_pu", "learning rate of the user factors"},
           {"lr_qi", "learning rate of the item factors"},
           {"lr_yj", "learning rate of the implicit item factors y_j"}}) {
    t.push_back(O::real(name, {}, 0.0, kMaxLr, doc).derived_from("lr_all"));
  }
  for (const auto& [name, doc] : std::initializer_list<Derived>{
           {"reg_bu", "regularization of the user biases"},
           {"reg_bi", "regularization of the item biases"},
           {"reg_pu", "regularization of the user factors"},
           {"reg_qi", "regularization of the item factors"},
           {"reg_yj", "regularization of the implicit item factors y_j"}}) {
    t.push_back(O::real(name, {}, 0.0, kMaxReg, doc).derived_from("reg_all"));
  }
  return t;
}

}  // namespace

Algorithm svdpp_algorithm() {
  Algorithm a;
  a.name = "svdpp";
  a.doc =
      "SVD++: biased factorization with implicit feedback from the items each user rated "
      "(Surprise's SVDpp)";
  a.params = svdpp_params();
  a.model_type = &factor_model_type();
  a.prepare_shared = [](const Dataset& data, const Params& params, uint64_t seed, int threads) {
    return std::make_unique<InitialFactors>(seed, params.get_float("init_mean"),
                                            params.get_float("init_std_dev"),
                                            (size_t{data.n_users()} + 2 * size_t{data.n_items()}) *
                                                static_cast<size_t>(params.get_int("n_factors")),
                                            threads);
  };
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    return std::make_unique<FactorModel>(fit_svdpp(SvdppOptions::from_params(in.params), in.set,
                                                   in.scale, in.seed, in.progress,
                                                   dynamic_cast<const InitialFactors*>(in.shared)));
  };
  return a;
}

}  // namespace reco::algorithms
