#include "algorithms/svd.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "algorithms/block_schedule.h"
#include "algorithms/kernels.h"
#include "core/error.h"
#include "core/parallel.h"

namespace reco::algorithms {
namespace {

bool all_finite(const std::vector<float>& v) {
  // Summing is cheaper than a branch per element and a NaN or infinity survives the sum.
  float acc = 0.0f;
  for (const float x : v) acc += x * 0.0f;
  return acc == 0.0f;
}

// Epochs of the block schedule: persistent workers take the blocks of a sub-epoch from a
// shared counter and meet at a barrier between sub-epochs. Blocks of one sub-epoch share no
// parameter, and every block's loss lands in its own slot, summed in a fixed order.
template <typename Diverged>
void run_block_epochs(const BlockSchedule& schedule, const SvdOptions& options, Isa isa,
                      const kernels::SgdRates& rates, const kernels::SgdParams& params,
                      const EpochProgress& progress, const Diverged& diverged, double n_ratings) {
  const uint32_t g = schedule.grid();
  const int n_threads = resolve_threads(options.threads, static_cast<int>(g));
  std::vector<double> block_sse(size_t{g} * g, 0.0);
  std::atomic<uint32_t> next{0};
  uint32_t sub = 0;
  int epoch = 1;
  bool stop = options.n_epochs < 1;
  std::exception_ptr error;
  auto phase_done = [&]() noexcept {
    next.store(0);
    if (++sub < g) return;
    sub = 0;
    double sse = 0.0;
    for (const double x : block_sse) sse += x;
    try {
      if (!std::isfinite(sse)) throw diverged(epoch);
      if (progress) progress(epoch, options.n_epochs, std::sqrt(sse / n_ratings));
    } catch (...) {
      error = std::current_exception();
      stop = true;
    }
    if (++epoch > options.n_epochs) stop = true;
  };
  std::barrier sync(n_threads, phase_done);
  run_on_threads(n_threads, [&] {
    while (!stop) {
      for (uint32_t r = next.fetch_add(1); r < g; r = next.fetch_add(1)) {
        const uint32_t c = (r + sub) % g;
        block_sse[size_t{r} * g + c] =
            kernels::sgd_pass(isa, rates, params, schedule.segments(r, c));
      }
      sync.arrive_and_wait();
    }
  });
  if (error) std::rethrow_exception(error);
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
  const std::string& parallel = params.get_enum("parallel");
  o.parallel = parallel == "on"    ? SvdOptions::Parallel::kOn
               : parallel == "off" ? SvdOptions::Parallel::kOff
                                   : SvdOptions::Parallel::kAuto;
  return o;
}

SvdOptions SvdOptions::defaults() {
  return from_params(default_params("svd"));
}

FactorModel fit_svd(const SvdOptions& options, const TrainingSet& set, RatingScale scale,
                    uint64_t seed, const EpochProgress& progress, const InitialFactors* init) {
  FactorModel model = make_model_shell(set, "svd", scale);
  model.biased = options.biased;
  model.n_factors = options.n_factors;
  const size_t nu = set.n_users(), ni = set.n_items(), nf = options.n_factors;
  model.user_bias.assign(nu, 0.0f);
  model.item_bias.assign(ni, 0.0f);
  model.user_factors.resize(nu * nf);
  model.item_factors.resize(ni * nf);

  const size_t n_init = (nu + ni) * nf;
  std::optional<InitialFactors> own;
  if (init == nullptr || !init->matches(seed, options.init_mean, options.init_std_dev) ||
      init->size() < n_init) {
    own.emplace(seed, options.init_mean, options.init_std_dev, n_init, 0);
    init = &*own;
  }
  // Training runs on copies of the parameters: factor rows padded to whole SIMD registers
  // (zeros in the padding stay zero: their updates are 0 * x terms), in the row order of the
  // schedule; the model keeps the unpadded layout in model order.
  const bool parallel = options.uses_block_schedule(set.size());
  std::optional<BlockSchedule> schedule;
  if (parallel) schedule.emplace(set, SvdOptions::kParallelGrid);
  auto user_row = [&](size_t u) { return schedule ? schedule->user_row(u) : u; };
  auto item_row = [&](size_t i) { return schedule ? schedule->item_row(i) : i; };
  const uint32_t stride = kernels::padded_width(options.n_factors);
  kernels::AlignedFloats pu(nu * stride), qi(ni * stride);
  std::vector<float> bu(nu, 0.0f), bi(ni, 0.0f);
  for (size_t u = 0; u < nu; ++u) {
    std::copy_n(init->data() + u * nf, nf, pu.data() + user_row(u) * stride);
  }
  for (size_t i = 0; i < ni; ++i) {
    std::copy_n(init->data() + (nu + i) * nf, nf, qi.data() + item_row(i) * stride);
  }
  own.reset();

  const kernels::SgdRates rates{
      options.lr_bu,
      options.lr_bi,
      options.lr_pu,
      options.lr_qi,
      1.0f - options.lr_bu * options.reg_bu,
      1.0f - options.lr_bi * options.reg_bi,
      1.0f - options.lr_pu * options.reg_pu,
      1.0f - options.lr_qi * options.reg_qi,
  };
  const kernels::SgdParams params{bu.data(),     bi.data(), pu.data(),
                                  qi.data(),     stride,    static_cast<float>(set.global_mean),
                                  options.biased};
  const Isa isa = options.isa.value_or(active_isa());
  auto diverged = [&](int epoch) {
    return Error(ErrorKind::kInput,
                 fmt::format("svd training diverged in epoch {} of {} (parameters became NaN or "
                             "infinite); lower the learning rates or raise the regularization",
                             epoch, options.n_epochs));
  };
  // A learning rate too large for the data makes SGD blow up; say so instead of handing out a
  // model full of NaN. A NaN or infinite parameter makes its next error NaN or infinite, so
  // checking the sum of squared errors each epoch (and everything at the end) finds it.
  if (schedule) {
    run_block_epochs(*schedule, options, isa, rates, params, progress, diverged,
                     static_cast<double>(set.size()));
  } else {
    const kernels::SgdSegments segments{nullptr, set.user_offsets.data(), nu, set.item.data(),
                                        set.rating.data()};
    for (int epoch = 1; epoch <= options.n_epochs; ++epoch) {
      const double sse = kernels::sgd_pass(isa, rates, params, segments);
      if (!std::isfinite(sse)) throw diverged(epoch);
      if (progress) {
        progress(epoch, options.n_epochs, std::sqrt(sse / static_cast<double>(set.size())));
      }
    }
  }
  for (size_t u = 0; u < nu; ++u) {
    model.user_bias[u] = bu[user_row(u)];
    std::copy_n(pu.data() + user_row(u) * stride, nf, model.user_factors.data() + u * nf);
  }
  for (size_t i = 0; i < ni; ++i) {
    model.item_bias[i] = bi[item_row(i)];
    std::copy_n(qi.data() + item_row(i) * stride, nf, model.item_factors.data() + i * nf);
  }
  if (!all_finite(model.user_bias) || !all_finite(model.item_bias) ||
      !all_finite(model.user_factors) || !all_finite(model.item_factors)) {
    throw diverged(options.n_epochs);
  }
  return model;
}

// --- registration ------------------------------------------------------------------------------

namespace {

// Bounds wide enough for any sensible experiment; they exist to reject typos (lr_all=5) and
// values that would overflow memory (n_factors=1e9) with a clear message instead of a crash.
constexpr int64_t kMaxFactors = 4096;
constexpr int64_t kMaxEpochs = 100000;
constexpr double kMaxReg = 1000.0;
constexpr double kMaxLr = 1.0;

OptionTable svd_params() {
  using O = OptionSpec;
  return {
      O::integer("n_factors", 100, 1, kMaxFactors, "number of latent factors"),
      O::integer("n_epochs", 20, 1, kMaxEpochs, "number of SGD passes over the training ratings"),
      O::boolean("biased", true, "use the global mean and user/item biases (false: plain PMF)"),
      O::real("init_mean", 0.0, -100.0, 100.0, "mean of the normal the factors start from"),
      O::real("init_std_dev", 0.1, 0.0, 100.0,
              "standard deviation of the normal the factors start from"),
      O::real("lr_all", 0.005, 0.0, kMaxLr, "learning rate of every parameter"),
      O::real("reg_all", 0.02, 0.0, kMaxReg, "regularization of every parameter"),
      O::real("lr_bu", {}, 0.0, kMaxLr, "learning rate of the user biases").derived_from("lr_all"),
      O::real("lr_bi", {}, 0.0, kMaxLr, "learning rate of the item biases").derived_from("lr_all"),
      O::real("lr_pu", {}, 0.0, kMaxLr, "learning rate of the user factors").derived_from("lr_all"),
      O::real("lr_qi", {}, 0.0, kMaxLr, "learning rate of the item factors").derived_from("lr_all"),
      O::real("reg_bu", {}, 0.0, kMaxReg, "regularization of the user biases")
          .derived_from("reg_all"),
      O::real("reg_bi", {}, 0.0, kMaxReg, "regularization of the item biases")
          .derived_from("reg_all"),
      O::real("reg_pu", {}, 0.0, kMaxReg, "regularization of the user factors")
          .derived_from("reg_all"),
      O::real("reg_qi", {}, 0.0, kMaxReg, "regularization of the item factors")
          .derived_from("reg_all"),
      O::choice("parallel", "auto", {"auto", "on", "off"},
                "off: one thread, Surprise's rating order; on: all cores, a fixed block "
                "schedule (deterministic, same result for any thread count, converges like the "
                "sequential order); auto: on from 1,000,000 training ratings"),
  };
}

}  // namespace

Algorithm svd_algorithm() {
  Algorithm a;
  a.name = "svd";
  a.doc = "biased matrix factorization trained by SGD (Surprise's SVD)";
  a.params = svd_params();
  a.model_type = &factor_model_type();
  // Every fold starts from the same random draws (same seed): make them once, on all threads.
  a.prepare_shared = [](const Dataset& data, const Params& params, uint64_t seed, int threads) {
    return std::make_unique<InitialFactors>(seed, params.get_float("init_mean"),
                                            params.get_float("init_std_dev"),
                                            (size_t{data.n_users()} + data.n_items()) *
                                                static_cast<size_t>(params.get_int("n_factors")),
                                            threads);
  };
  a.max_fit_threads = [](const Params& params, size_t n_ratings) {
    return SvdOptions::from_params(params).uses_block_schedule(n_ratings)
               ? static_cast<int>(SvdOptions::kParallelGrid)
               : 1;
  };
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    SvdOptions options = SvdOptions::from_params(in.params);
    options.threads = in.threads;
    return std::make_unique<FactorModel>(fit_svd(options, in.set, in.scale, in.seed, in.progress,
                                                 dynamic_cast<const InitialFactors*>(in.shared)));
  };
  return a;
}

}  // namespace reco::algorithms
