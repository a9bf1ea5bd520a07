#include "algorithms/co_clustering.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "algorithms/training_set.h"
#include "core/binary.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::algorithms {

namespace {

constexpr uint64_t kHeaderSize = 40;

struct Header {
  double global_mean;
  uint32_t n_cltr_u, n_cltr_i;
  float min, max;
  uint32_t n_users, n_items;
  uint64_t n_rated;
};

Header read_header(const char* h) {
  using namespace binary;
  return {load_f64(h),      load_u32(h + 8),  load_u32(h + 12), load_f32(h + 16),
          load_f32(h + 20), load_u32(h + 24), load_u32(h + 28), load_u64(h + 32)};
}

// The averages of every user cluster, item cluster and co-cluster (the global mean when empty).
// A rating as the algorithm uses it: as given, or truncated to an integer (integer_ratings).
double used(float rating, bool integer_ratings) {
  return integer_ratings ? std::trunc(static_cast<double>(rating)) : rating;
}

void compute_averages(const TrainingSet& set, CoClusteringModel& m, bool integer_ratings) {
  const size_t ku = m.n_cltr_u, ki = m.n_cltr_i;
  std::vector<double> su(ku, 0), si(ki, 0), sc(ku * ki, 0);
  std::vector<uint64_t> cu(ku, 0), ci(ki, 0), cc(ku * ki, 0);
  for (uint32_t u = 0; u < set.n_users(); ++u) {
    const uint32_t uc = m.cltr_u[u];
    for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
      const uint32_t ic = m.cltr_i[set.item[k]];
      const double r = used(set.rating[k], integer_ratings);
      su[uc] += r;
      ++cu[uc];
      si[ic] += r;
      ++ci[ic];
      sc[uc * ki + ic] += r;
      ++cc[uc * ki + ic];
    }
  }
  auto mean = [&](double sum, uint64_t n) {
    return n ? sum / static_cast<double>(n) : m.global_mean;
  };
  m.avg_cltr_u.resize(ku);
  m.avg_cltr_i.resize(ki);
  m.avg_cocltr.resize(ku * ki);
  for (size_t c = 0; c < ku; ++c) m.avg_cltr_u[c] = mean(su[c], cu[c]);
  for (size_t c = 0; c < ki; ++c) m.avg_cltr_i[c] = mean(si[c], ci[c]);
  for (size_t c = 0; c < ku * ki; ++c) m.avg_cocltr[c] = mean(sc[c], cc[c]);
}

double cluster_estimate(const CoClusteringModel& m, uint32_t u, uint32_t i, uint32_t uc,
                        uint32_t ic) {
  return m.avg_cocltr[size_t{uc} * m.n_cltr_i + ic] + m.user_mean[u] - m.avg_cltr_u[uc] +
         m.item_mean[i] - m.avg_cltr_i[ic];
}

}  // namespace

double CoClusteringModel::estimate(int64_t user, int64_t item) const {
  if (user < 0 || item < 0) return global_mean;
  const auto u = static_cast<uint32_t>(user), i = static_cast<uint32_t>(item);
  return cluster_estimate(*this, u, i, cltr_u[u], cltr_i[i]);
}

void CoClusteringModel::validate() const {
  Model::validate();
  auto bad = [](const std::string& what) {
    throw Error(ErrorKind::kCorrupt, "invalid model: " + what);
  };
  if (n_cltr_u == 0 || n_cltr_i == 0) bad("a co-clustering model needs clusters");
  if (user_mean.size() != n_users() || cltr_u.size() != n_users()) bad("user arrays' sizes");
  if (item_mean.size() != n_items() || cltr_i.size() != n_items()) bad("item arrays' sizes");
  if (avg_cltr_u.size() != n_cltr_u || avg_cltr_i.size() != n_cltr_i ||
      avg_cocltr.size() != size_t{n_cltr_u} * n_cltr_i) {
    bad("cluster averages' sizes");
  }
  for (const uint32_t c : cltr_u)
    if (c >= n_cltr_u) bad(fmt::format("user cluster {} of {}", c, n_cltr_u));
  for (const uint32_t c : cltr_i)
    if (c >= n_cltr_i) bad(fmt::format("item cluster {} of {}", c, n_cltr_i));
}

const ModelType& CoClusteringModel::type() const {
  return coclustering_model_type();
}

const ModelType& coclustering_model_type() {
  static const ModelType type{
      "coclustering",
      kHeaderSize,
      [](const char* header) -> std::optional<std::vector<uint64_t>> {
        const Header h = read_header(header);
        const uint64_t nu = h.n_users, ni = h.n_items, ku = h.n_cltr_u, ki = h.n_cltr_i;
        return std::vector<uint64_t>{nu * 8,      ni * 8,       nu * 8,       ni * 8,
                                     nu * 4,      ni * 4,       ku * 8,       ki * 8,
                                     ku * ki * 8, (nu + 1) * 8, h.n_rated * 4};
      },
      [](const char* header) {
        const Header h = read_header(header);
        return fmt::format("n_users={}, n_items={}, clusters={}x{}, n_rated={}", h.n_users,
                           h.n_items, h.n_cltr_u, h.n_cltr_i, h.n_rated);
      },
      [](const char* header, uint64_t offset) {
        const Header h = read_header(header);
        if (h.n_cltr_u == 0 || h.n_cltr_u > 1000 || h.n_cltr_i == 0 || h.n_cltr_i > 1000) {
          return fmt::format("cluster counts {}x{} at offset {} are outside 1..1000", h.n_cltr_u,
                             h.n_cltr_i, offset + 8);
        }
        return std::string();
      },
      [](const char* header) {
        const Header h = read_header(header);
        return ModelShape{h.n_users, h.n_items, 0, h.n_rated};
      },
      [](const Model& model) {
        const auto& m = dynamic_cast<const CoClusteringModel&>(model);
        std::string h(kHeaderSize, '\0');
        binary::store_f64(h.data(), m.global_mean);
        binary::store_u32(h.data() + 8, m.n_cltr_u);
        binary::store_u32(h.data() + 12, m.n_cltr_i);
        binary::store_f32(h.data() + 16, m.scale.min);
        binary::store_f32(h.data() + 20, m.scale.max);
        binary::store_u32(h.data() + 24, m.n_users());
        binary::store_u32(h.data() + 28, m.n_items());
        binary::store_u64(h.data() + 32, m.rated_items.size());
        return h;
      },
      [](const Model& model, std::span<char* const> a) {
        const auto& m = dynamic_cast<const CoClusteringModel&>(model);
        store_identity_arrays(m, a[0], a[1], a[9], a[10]);
        binary::store_f64s(a[2], m.user_mean);
        binary::store_f64s(a[3], m.item_mean);
        binary::store_u32s(a[4], m.cltr_u);
        binary::store_u32s(a[5], m.cltr_i);
        binary::store_f64s(a[6], m.avg_cltr_u);
        binary::store_f64s(a[7], m.avg_cltr_i);
        binary::store_f64s(a[8], m.avg_cocltr);
      },
      [](std::string algorithm, const char* header,
         std::span<const std::string_view> a) -> std::unique_ptr<Model> {
        const Header h = read_header(header);
        auto m = std::make_unique<CoClusteringModel>();
        m->algorithm = std::move(algorithm);
        m->global_mean = h.global_mean;
        m->n_cltr_u = h.n_cltr_u;
        m->n_cltr_i = h.n_cltr_i;
        m->scale = {h.min, h.max};
        load_identity_arrays(*m, a[0], a[1], a[9], a[10]);
        m->user_mean = binary::load_f64s(a[2]);
        m->item_mean = binary::load_f64s(a[3]);
        m->cltr_u = binary::load_u32s(a[4]);
        m->cltr_i = binary::load_u32s(a[5]);
        m->avg_cltr_u = binary::load_f64s(a[6]);
        m->avg_cltr_i = binary::load_f64s(a[7]);
        m->avg_cocltr = binary::load_f64s(a[8]);
        return m;
      }};
  return type;
}

Algorithm co_clustering_algorithm() {
  Algorithm a;
  a.name = "co_clustering";
  a.doc =
      "users and items in clusters, predicted from cluster and co-cluster averages (Surprise's "
      "CoClustering)";
  using O = OptionSpec;
  a.params = {
      O::integer("n_cltr_u", 3, 1, 1000, "number of user clusters"),
      O::integer("n_cltr_i", 3, 1, 1000, "number of item clusters"),
      O::integer("n_epochs", 20, 1, 100000, "number of passes that move users and items"),
      O::boolean("integer_ratings", false,
                 "truncate ratings to integers everywhere, as Surprise 1.1.4's code does (its "
                 "ratings are C ints there), to reproduce its numbers; false: the ratings as they "
                 "are, the documented formula"),
  };
  a.model_type = &coclustering_model_type();
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    const TrainingSet& set = in.set;
    auto m = std::make_unique<CoClusteringModel>();
    fill_model_base(*m, set, "co_clustering", in.scale);
    m->global_mean = set.global_mean;
    m->n_cltr_u = static_cast<uint32_t>(in.params.get_int("n_cltr_u"));
    m->n_cltr_i = static_cast<uint32_t>(in.params.get_int("n_cltr_i"));
    const int n_epochs = static_cast<int>(in.params.get_int("n_epochs"));
    const bool integer_ratings = in.params.get_bool("integer_ratings");
    const uint32_t nu = set.n_users(), ni = set.n_items();
    Rng rng(in.seed, rng_stream::kFactorInit);
    m->cltr_u.resize(nu);
    m->cltr_i.resize(ni);
    for (auto& c : m->cltr_u) c = static_cast<uint32_t>(rng.below(m->n_cltr_u));
    for (auto& c : m->cltr_i) c = static_cast<uint32_t>(rng.below(m->n_cltr_i));
    // Means, and each item's ratings (item -> (user, rating)) for the item moves.
    m->user_mean.assign(nu, 0.0);
    m->item_mean.assign(ni, 0.0);
    std::vector<uint64_t> item_offsets(size_t{ni} + 1, 0);
    for (const uint32_t i : set.item) ++item_offsets[size_t{i} + 1];
    for (uint32_t i = 0; i < ni; ++i) item_offsets[i + 1] += item_offsets[i];
    std::vector<uint32_t> item_user(set.size());
    std::vector<float> item_rating(set.size());
    std::vector<uint64_t> fill(item_offsets.begin(), item_offsets.end() - 1);
    for (uint32_t u = 0; u < nu; ++u) {
      const uint64_t b = set.user_offsets[u], e = set.user_offsets[u + 1];
      for (uint64_t k = b; k < e; ++k) {
        m->user_mean[u] += used(set.rating[k], integer_ratings);
        const uint64_t slot = fill[set.item[k]]++;
        item_user[slot] = u;
        item_rating[slot] = set.rating[k];
      }
      m->user_mean[u] /= static_cast<double>(e - b);
    }
    for (uint32_t i = 0; i < ni; ++i) {
      double s = 0;
      for (uint64_t k = item_offsets[i]; k < item_offsets[i + 1]; ++k)
        s += used(item_rating[k], integer_ratings);
      m->item_mean[i] = s / static_cast<double>(item_offsets[i + 1] - item_offsets[i]);
    }
    std::vector<double> errors;
    for (int epoch = 1; epoch <= n_epochs; ++epoch) {
      compute_averages(set, *m, integer_ratings);
      errors.assign(m->n_cltr_u, 0.0);
      for (uint32_t u = 0; u < nu; ++u) {
        std::fill(errors.begin(), errors.end(), 0.0);
        for (uint32_t uc = 0; uc < m->n_cltr_u; ++uc) {
          for (uint64_t k = set.user_offsets[u]; k < set.user_offsets[u + 1]; ++k) {
            const uint32_t i = set.item[k];
            const double err =
                used(set.rating[k], integer_ratings) - cluster_estimate(*m, u, i, uc, m->cltr_i[i]);
            errors[uc] += err * err;
          }
        }
        m->cltr_u[u] = static_cast<uint32_t>(std::min_element(errors.begin(), errors.end()) -
                                             errors.begin());  // first minimum
      }
      errors.assign(m->n_cltr_i, 0.0);
      double sse = 0.0;
      for (uint32_t i = 0; i < ni; ++i) {
        std::fill(errors.begin(), errors.end(), 0.0);
        for (uint32_t ic = 0; ic < m->n_cltr_i; ++ic) {
          for (uint64_t k = item_offsets[i]; k < item_offsets[i + 1]; ++k) {
            const uint32_t u = item_user[k];
            const double err = used(item_rating[k], integer_ratings) -
                               cluster_estimate(*m, u, i, m->cltr_u[u], ic);
            errors[ic] += err * err;
          }
        }
        const auto best = std::min_element(errors.begin(), errors.end());
        m->cltr_i[i] = static_cast<uint32_t>(best - errors.begin());
        sse += *best;
      }
      if (in.progress)
        in.progress(epoch, n_epochs, std::sqrt(sse / static_cast<double>(set.size())));
    }
    compute_averages(set, *m, integer_ratings);
    return m;
  };
  return a;
}

}  // namespace reco::algorithms
