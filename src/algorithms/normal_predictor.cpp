#include "algorithms/normal_predictor.h"

#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "algorithms/training_set.h"
#include "core/binary.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::algorithms {

namespace {

constexpr uint64_t kHeaderSize = 48;
constexpr int64_t kUnknownUser = std::numeric_limits<int64_t>::min();

struct Header {
  double mu, sigma;
  uint64_t seed;
  float min, max;
  uint32_t n_users, n_items;
  uint64_t n_rated;
};

Header read_header(const char* h) {
  using namespace binary;
  return {load_f64(h),      load_f64(h + 8),  load_u64(h + 16), load_f32(h + 24),
          load_f32(h + 28), load_u32(h + 32), load_u32(h + 36), load_u64(h + 40)};
}

}  // namespace

double NormalModel::estimate(int64_t user, int64_t item) const {
  // A standard normal from the pair's own stream: Box-Muller on two uniforms of SplitMix64.
  uint64_t state = seed ^ 0x6e6f726d616c5052ULL;  // "normalPR"
  state ^=
      static_cast<uint64_t>(user >= 0 ? users.raw(static_cast<uint32_t>(user)) : kUnknownUser) *
      0x9e3779b97f4a7c15ULL;
  (void)splitmix64(state);
  state ^=
      static_cast<uint64_t>(item >= 0 ? items.raw(static_cast<uint32_t>(item)) : kUnknownUser) *
      0xc2b2ae3d27d4eb4fULL;
  const double u1 = static_cast<double>((splitmix64(state) >> 11) + 1) * 0x1.0p-53;  // (0, 1]
  const double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  return mu + sigma * z;
}

void NormalModel::validate() const {
  Model::validate();
  if (!std::isfinite(mu) || !std::isfinite(sigma) || sigma < 0) {
    throw Error(ErrorKind::kCorrupt,
                fmt::format("model: a normal model with mu {} and sigma {}", mu, sigma));
  }
}

const ModelType& NormalModel::type() const {
  return normal_model_type();
}

const ModelType& normal_model_type() {
  static const ModelType type{
      "normal",
      kHeaderSize,
      [](const char* header) -> std::optional<std::vector<uint64_t>> {
        const Header h = read_header(header);
        return std::vector<uint64_t>{uint64_t{h.n_users} * 8, uint64_t{h.n_items} * 8,
                                     (uint64_t{h.n_users} + 1) * 8, h.n_rated * 4};
      },
      [](const char* header) {
        const Header h = read_header(header);
        return fmt::format("n_users={}, n_items={}, n_rated={}", h.n_users, h.n_items, h.n_rated);
      },
      [](const char*, uint64_t) { return std::string(); },
      [](const char* header) {
        const Header h = read_header(header);
        return ModelShape{h.n_users, h.n_items, 0, h.n_rated};
      },
      [](const Model& model) {
        const auto& m = dynamic_cast<const NormalModel&>(model);
        std::string h(kHeaderSize, '\0');
        binary::store_f64(h.data(), m.mu);
        binary::store_f64(h.data() + 8, m.sigma);
        binary::store_u64(h.data() + 16, m.seed);
        binary::store_f32(h.data() + 24, m.scale.min);
        binary::store_f32(h.data() + 28, m.scale.max);
        binary::store_u32(h.data() + 32, m.n_users());
        binary::store_u32(h.data() + 36, m.n_items());
        binary::store_u64(h.data() + 40, m.rated_items.size());
        return h;
      },
      [](const Model& m, std::span<char* const> a) {
        store_identity_arrays(m, a[0], a[1], a[2], a[3]);
      },
      [](std::string algorithm, const char* header,
         std::span<const std::string_view> a) -> std::unique_ptr<Model> {
        const Header h = read_header(header);
        auto m = std::make_unique<NormalModel>();
        m->algorithm = std::move(algorithm);
        m->mu = h.mu;
        m->sigma = h.sigma;
        m->seed = h.seed;
        m->scale = {h.min, h.max};
        load_identity_arrays(*m, a[0], a[1], a[2], a[3]);
        return m;
      }};
  return type;
}

Algorithm normal_predictor_algorithm() {
  Algorithm a;
  a.name = "normal_predictor";
  a.doc =
      "a rating drawn from the normal distribution of the training ratings (Surprise's "
      "NormalPredictor): the floor to beat";
  a.params = {};
  a.model_type = &normal_model_type();
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    auto m = std::make_unique<NormalModel>();
    fill_model_base(*m, in.set, "normal_predictor", in.scale);
    double sum = 0.0;
    for (const float r : in.set.rating) sum += r;
    const double n = static_cast<double>(in.set.size());
    m->mu = sum / n;
    double sq = 0.0;
    for (const float r : in.set.rating) sq += (r - m->mu) * (r - m->mu);
    m->sigma = std::sqrt(sq / n);
    m->seed = in.seed;
    if (in.progress) in.progress(1, 1, m->sigma);  // its training error is sigma itself
    return m;
  };
  return a;
}

}  // namespace reco::algorithms
