#include "algorithms/baseline.h"

#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "algorithms/similarity.h"
#include "core/error.h"

namespace reco::algorithms {
namespace {

void check_finite(const std::vector<double>& bu, const std::vector<double>& bi, int epoch,
                  int n_epochs) {
  for (const auto* v : {&bu, &bi}) {
    for (const double x : *v) {
      if (!std::isfinite(x)) {
        throw Error(ErrorKind::kInput,
                    fmt::format("baseline training diverged in epoch {} of {} (biases became NaN "
                                "or infinite); lower learning_rate or raise reg",
                                epoch, n_epochs));
      }
    }
  }
}

}  // namespace

BaselineOptions BaselineOptions::from_params(const Params& params) {
  if (!params.has("method")) {
    throw Error(ErrorKind::kInternal,
                "BaselineOptions built from " + params.algorithm() + " params");
  }
  BaselineOptions o;
  o.method = params.get_enum("method") == "sgd" ? Method::kSgd : Method::kAls;
  o.n_epochs = static_cast<int>(params.get_int("n_epochs"));
  if (o.method == Method::kAls) {
    o.reg_u = params.get_float("reg_u");
    o.reg_i = params.get_float("reg_i");
  } else {
    o.reg = params.get_float("reg");
    o.learning_rate = params.get_float("learning_rate");
  }
  return o;
}

BaselineOptions BaselineOptions::defaults() {
  return from_params(default_params("baseline"));
}

Baselines compute_baselines(const BaselineOptions& options, const TrainingSet& set,
                            const EpochProgress& progress) {
  const uint32_t nu = set.n_users(), ni = set.n_items();
  const double mu = set.global_mean;
  std::vector<double> bu(nu, 0.0), bi(ni, 0.0);

  if (options.method == BaselineOptions::Method::kAls) {
    const RatingRows ir = ratings_by_item(set, false);  // Surprise's ir: in training order
    for (int epoch = 1; epoch <= options.n_epochs; ++epoch) {
      for (uint32_t i = 0; i < ni; ++i) {
        double dev = 0.0;
        for (uint64_t k = ir.offsets[i]; k < ir.offsets[i + 1]; ++k) {
          dev += ir.values[k] - mu - bu[ir.cols[k]];
        }
        bi[i] = dev / (options.reg_i + static_cast<double>(ir.offsets[i + 1] - ir.offsets[i]));
      }
      for (uint32_t u = 0; u < nu; ++u) {
        double dev = 0.0;
        for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
          dev += set.rating[k] - mu - bi[set.item[k]];
        }
        bu[u] = dev / (options.reg_u +
                       static_cast<double>(set.user_offsets[u + 1] - set.user_offsets[u]));
      }
      check_finite(bu, bi, epoch, options.n_epochs);
      if (progress) progress(epoch, options.n_epochs, std::numeric_limits<double>::quiet_NaN());
    }
  } else {
    const double lr = options.learning_rate, reg = options.reg;
    for (int epoch = 1; epoch <= options.n_epochs; ++epoch) {
      double sse = 0.0;
      for (uint32_t u = 0; u < nu; ++u) {
        for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
          const uint32_t i = set.item[k];
          const double err = set.rating[k] - (mu + bu[u] + bi[i]);
          sse += err * err;
          bu[u] += lr * (err - reg * bu[u]);
          bi[i] += lr * (err - reg * bi[i]);
        }
      }
      check_finite(bu, bi, epoch, options.n_epochs);
      if (progress) {
        progress(epoch, options.n_epochs, std::sqrt(sse / static_cast<double>(set.size())));
      }
    }
  }

  return {std::move(bu), std::move(bi)};
}

FactorModel fit_baseline(const BaselineOptions& options, const TrainingSet& set, RatingScale scale,
                         const EpochProgress& progress) {
  FactorModel model = make_model_shell(set, "baseline", scale);
  model.biased = true;
  model.n_factors = 0;
  const Baselines b = compute_baselines(options, set, progress);
  model.user_bias.assign(b.user_bias.begin(), b.user_bias.end());
  model.item_bias.assign(b.item_bias.begin(), b.item_bias.end());
  return model;
}

// --- registration ------------------------------------------------------------------------------

OptionTable baseline_param_rows() {
  using O = OptionSpec;
  constexpr int64_t kMaxEpochs = 100000;
  return {
      O::choice("method", "als", {"als", "sgd"},
                "alternating least squares or stochastic gradient descent"),
      O::integer("n_epochs", 10, 1, kMaxEpochs, "number of ALS sweeps or SGD passes")
          .default_when("method", "sgd", int64_t{20}),
      O::real("reg_u", 15.0, 0.0, 1e9, "regularization of the user biases")
          .only_when("method", "als"),
      O::real("reg_i", 10.0, 0.0, 1e9, "regularization of the item biases")
          .only_when("method", "als"),
      O::real("reg", 0.02, 0.0, 1000.0, "regularization of both biases").only_when("method", "sgd"),
      O::real("learning_rate", 0.005, 0.0, 1.0, "learning rate of both biases")
          .only_when("method", "sgd"),
  };
}

Algorithm baseline_algorithm() {
  Algorithm a;
  a.name = "baseline";
  a.doc = "global mean plus user and item biases only (Surprise's BaselineOnly)";
  a.params = baseline_param_rows();
  a.model_type = &factor_model_type();
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    return std::make_unique<FactorModel>(
        fit_baseline(BaselineOptions::from_params(in.params), in.set, in.scale, in.progress));
  };
  return a;
}

}  // namespace reco::algorithms
