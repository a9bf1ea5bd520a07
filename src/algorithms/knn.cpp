#include "algorithms/knn.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "algorithms/baseline.h"
#include "algorithms/training_set.h"
#include "core/binary.h"
#include "core/error.h"

namespace reco::algorithms {

namespace {

constexpr uint64_t kHeaderSize = 64;
constexpr const char* kKindNames[] = {"knn_basic", "knn_with_means", "knn_with_zscore",
                                      "knn_baseline"};

struct Header {
  uint32_t kind, user_based, k, min_k;
  double global_mean;
  float min, max;
  uint32_t n_users, n_items;
  uint64_t n_rated, n_neighbours;
  uint32_t similarity, flags;
};

Header read_header(const char* h) {
  using namespace binary;
  return {load_u32(h),      load_u32(h + 4),  load_u32(h + 8),  load_u32(h + 12), load_f64(h + 16),
          load_f32(h + 24), load_f32(h + 28), load_u32(h + 32), load_u32(h + 36), load_u64(h + 40),
          load_u64(h + 48), load_u32(h + 56), load_u32(h + 60)};
}

bool has_means(uint32_t kind) {
  return kind == static_cast<uint32_t>(KnnKind::kWithMeans) ||
         kind == static_cast<uint32_t>(KnnKind::kWithZScore);
}

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::kCorrupt, "invalid model: " + what);
}

// Candidates ordered as Surprise's heapq.nlargest orders them: similarity descending, then the
// position in y's ratings.
constexpr auto before = [](const KnnModel::Candidate& a, const KnnModel::Candidate& b) {
  return a.key > b.key;
};

thread_local std::vector<KnnModel::Candidate> t_candidates;
thread_local std::vector<float> t_row;  // zero outside spread_row()

}  // namespace

template <typename Lookup>
void KnnModel::collect(uint32_t y, const Lookup& sim_of, std::vector<Candidate>& out) const {
  out.clear();
  const uint64_t b = y_offsets[y], e = y_offsets[y + 1];
  for (uint64_t t = b; t < e; ++t) {
    const float s = sim_of(y_x[t]);
    if (s > 0.0f) out.emplace_back(s, static_cast<uint32_t>(t - b), y_x[t], y_rating[t]);
  }
}

void KnnModel::spread_row(uint32_t x, std::vector<float>& row, bool on) const {
  for (uint64_t t = neighbours.offsets[x]; t < neighbours.offsets[x + 1]; ++t)
    row[neighbours.ids[t]] = on ? neighbours.sims[t] : 0.0f;
  row[x] = on ? 1.0f : 0.0f;
}

double KnnModel::y_bias(uint32_t y) const {
  if (kind != KnnKind::kBaseline) return 0.0;
  return user_based ? item_bias[y] : user_bias[y];
}

void KnnModel::score_new_user(std::span<const std::pair<uint32_t, double>> ratings,
                              double user_bias_value, std::span<float> out) const {
  if (user_based) {
    throw Error(ErrorKind::kUsage,
                "a user-based knn model scores only the users it was trained on (the new user's "
                "similarities to them are not in the model); train with user_based=false for "
                "fold-in");
  }
  std::vector<Candidate> c;
  for (uint32_t i = 0; i < n_items(); ++i) {
    c.clear();
    for (size_t t = 0; t < ratings.size(); ++t) {
      const float s = neighbours.find(i, ratings[t].first);
      if (s > 0.0f) {
        c.emplace_back(s, static_cast<uint32_t>(t), ratings[t].first,
                       static_cast<float>(ratings[t].second));
      }
    }
    out[i] = static_cast<float>(aggregate(i, user_bias_value, c));
  }
}

double KnnModel::fallback(int64_t user, int64_t item) const {
  if (kind != KnnKind::kBaseline) return global_mean;
  double est = global_mean;
  if (user >= 0) est += user_bias[static_cast<size_t>(user)];
  if (item >= 0) est += item_bias[static_cast<size_t>(item)];
  return est;
}

double KnnModel::aggregate(uint32_t x, double yb, std::span<Candidate> c) const {
  const size_t n = std::min<size_t>(k, c.size());
  if (c.size() > n) {
    std::nth_element(c.begin(), c.begin() + static_cast<ptrdiff_t>(n), c.end(), before);
  }
  std::sort(c.begin(), c.begin() + static_cast<ptrdiff_t>(n), before);
  double sum_sim = 0.0, sum_ratings = 0.0;
  const uint32_t actual_k = static_cast<uint32_t>(n);
  const std::vector<double>& bx = user_based ? user_bias : item_bias;
  for (size_t t = 0; t < n; ++t) {
    const double sim = c[t].sim(), r = c[t].rating;
    sum_sim += sim;
    switch (kind) {
      case KnnKind::kBasic:
        sum_ratings += sim * r;
        break;
      case KnnKind::kWithMeans:
        sum_ratings += sim * (r - x_mean[c[t].x2]);
        break;
      case KnnKind::kWithZScore:
        sum_ratings += sim * (r - x_mean[c[t].x2]) / x_sigma[c[t].x2];
        break;
      case KnnKind::kBaseline:
        sum_ratings += sim * (r - (global_mean + bx[c[t].x2] + yb));
        break;
    }
  }
  if (kind == KnnKind::kBasic) return actual_k < min_k ? global_mean : sum_ratings / sum_sim;
  if (actual_k < min_k) sum_ratings = 0.0;
  double est = 0.0;
  switch (kind) {
    case KnnKind::kWithMeans:
      est = x_mean[x];
      if (sum_sim != 0.0) est += sum_ratings / sum_sim;
      break;
    case KnnKind::kWithZScore:
      est = x_mean[x];
      if (sum_sim != 0.0) est += sum_ratings / sum_sim * x_sigma[x];
      break;
    default:  // mu + b_u + b_i
      est = user_based ? global_mean + bx[x] + yb : global_mean + yb + bx[x];
      if (sum_sim != 0.0) est += sum_ratings / sum_sim;
  }
  return est;
}

double KnnModel::estimate(int64_t user, int64_t item) const {
  if (user < 0 || item < 0) return fallback(user, item);
  const auto x = static_cast<uint32_t>(user_based ? user : item);
  const auto y = static_cast<uint32_t>(user_based ? item : user);
  std::vector<Candidate>& c = t_candidates;
  const uint64_t n_candidates = y_offsets[y + 1] - y_offsets[y];
  const uint64_t n_neighbours = neighbours.offsets[x + 1] - neighbours.offsets[x];
  if (n_neighbours > 8 * n_candidates) {  // a binary search per candidate is cheaper
    collect(
        y, [&](uint32_t x2) { return neighbours.find(x, x2); }, c);
  } else {  // spread x's row: one pass over it, then one load per candidate
    std::vector<float>& row = t_row;
    if (row.size() < n_x()) row.resize(n_x(), 0.0f);
    spread_row(x, row, true);
    collect(
        y, [&](uint32_t x2) { return row[x2]; }, c);
    spread_row(x, row, false);
  }
  return aggregate(x, y_bias(y), c);
}

void KnnModel::score_block(std::span<const uint32_t> block_users, uint32_t first, uint32_t count,
                           float* out, size_t ld) const {
  // One x's similarities spread into a dense row, then every prediction of that x looks its
  // candidates up there: the same candidates, in the same order, as estimate().
  std::vector<float> row(n_x(), 0.0f);
  std::vector<Candidate> c;
  auto spread = [&](uint32_t x, bool on) { spread_row(x, row, on); };
  auto lookup = [&](uint32_t x2) { return row[x2]; };
  if (user_based) {
    for (size_t t = 0; t < block_users.size(); ++t) {
      const uint32_t u = block_users[t];
      spread(u, true);
      for (uint32_t j = 0; j < count; ++j) {
        collect(first + j, lookup, c);
        out[t * ld + j] = static_cast<float>(aggregate(u, y_bias(first + j), c));
      }
      spread(u, false);
    }
  } else if (!neighbours.symmetric) {
    // Item-based with cut lists: one item's row spread, looked up for every user.
    for (uint32_t j = 0; j < count; ++j) {
      const uint32_t i = first + j;
      spread(i, true);
      for (size_t t = 0; t < block_users.size(); ++t) {
        collect(block_users[t], lookup, c);
        out[t * ld + j] = static_cast<float>(aggregate(i, y_bias(block_users[t]), c));
      }
      spread(i, false);
    }
  } else {
    // Item-based: for each user, the candidates of every item of the block at once, scattered
    // from the neighbour lists of the items the user rated (only the part of each list inside
    // the block: ids are ascending), bucketed by item: sim(i, j) is read from j's list, the
    // same number as in i's when the lists are symmetric. The same candidates as estimate() (the
    // selection orders them fully), without looking up the pairs that are not neighbours.
    const uint32_t last = first + count;
    std::vector<uint32_t> starts(size_t{count} + 1);
    std::vector<Candidate> buckets;
    for (size_t t = 0; t < block_users.size(); ++t) {
      const uint32_t u = block_users[t];
      const uint64_t b = y_offsets[u], e = y_offsets[u + 1];
      auto for_each_candidate = [&](const auto& f) {
        for (uint64_t q = b; q < e; ++q) {
          const uint32_t j = y_x[q];
          const auto pos = static_cast<uint32_t>(q - b);
          if (j >= first && j < last) f(j, Candidate{1.0f, pos, j, y_rating[q]});
          const auto ids_begin = neighbours.ids.begin();
          auto it = std::lower_bound(ids_begin + static_cast<ptrdiff_t>(neighbours.offsets[j]),
                                     ids_begin + static_cast<ptrdiff_t>(neighbours.offsets[j + 1]),
                                     first);
          for (; it != ids_begin + static_cast<ptrdiff_t>(neighbours.offsets[j + 1]) && *it < last;
               ++it) {
            f(*it,
              Candidate{neighbours.sims[static_cast<size_t>(it - ids_begin)], pos, j, y_rating[q]});
          }
        }
      };
      std::fill(starts.begin(), starts.end(), 0);
      for_each_candidate([&](uint32_t i, const Candidate&) { ++starts[i - first + 1]; });
      for (uint32_t j = 0; j < count; ++j) starts[j + 1] += starts[j];
      buckets.resize(starts[count]);
      std::vector<uint32_t> next(starts.begin(), starts.end() - 1);
      for_each_candidate(
          [&](uint32_t i, const Candidate& cand) { buckets[next[i - first]++] = cand; });
      const double yb = y_bias(u);
      for (uint32_t j = 0; j < count; ++j) {
        const std::span<Candidate> c_i(buckets.data() + starts[j], starts[j + 1] - starts[j]);
        out[t * ld + j] = static_cast<float>(aggregate(first + j, yb, c_i));
      }
    }
  }
}

void KnnModel::validate() const {
  Model::validate();
  const auto kind_n = static_cast<uint32_t>(kind);
  if (kind_n > 3) bad(fmt::format("knn kind {}", kind_n));
  if (k == 0 || min_k > k) bad(fmt::format("k={} min_k={}", k, min_k));
  const size_t nx = n_x(), ny = n_y();
  if (x_mean.size() != (has_means(kind_n) ? nx : 0)) bad("knn means' size");
  if (x_sigma.size() != (kind == KnnKind::kWithZScore ? nx : 0)) bad("knn deviations' size");
  const bool baseline = kind == KnnKind::kBaseline;
  if (user_bias.size() != (baseline ? n_users() : 0) ||
      item_bias.size() != (baseline ? n_items() : 0)) {
    bad("knn baselines' size");
  }
  for (const auto* v : {&x_mean, &x_sigma, &user_bias, &item_bias}) {
    for (const double d : *v)
      if (!std::isfinite(d)) bad("a knn mean, deviation or baseline is not finite");
  }
  for (const double s : x_sigma)
    if (!(s > 0.0)) bad("a knn standard deviation is not positive");
  if (y_offsets.size() != ny + 1 || y_offsets.front() != 0 || y_offsets.back() != y_x.size() ||
      y_rating.size() != y_x.size() || y_x.size() != rated_items.size()) {
    bad("knn rating lists' sizes");
  }
  for (size_t y = 0; y < ny; ++y)
    if (y_offsets[y] > y_offsets[y + 1]) bad("knn rating lists are not monotonic");
  for (const uint32_t x : y_x)
    if (x >= nx) bad(fmt::format("knn rating list entry {} out of range", x));
  for (const float r : y_rating)
    if (!std::isfinite(r)) bad("a knn training rating is not finite");
  const NeighbourLists& nb = neighbours;
  if (nb.offsets.size() != nx + 1 || nb.offsets.front() != 0 ||
      nb.offsets.back() != nb.ids.size() || nb.sims.size() != nb.ids.size()) {
    bad("knn neighbour lists' sizes");
  }
  for (size_t x = 0; x < nx; ++x) {
    if (nb.offsets[x] > nb.offsets[x + 1]) bad("knn neighbour lists are not monotonic");
    for (uint64_t t = nb.offsets[x]; t < nb.offsets[x + 1]; ++t) {
      if (nb.ids[t] >= nx || nb.ids[t] == x || (t > nb.offsets[x] && nb.ids[t] <= nb.ids[t - 1]))
        bad(fmt::format("knn neighbour list of {} is not ascending within range", x));
      if (!(nb.sims[t] > 0.0f) || !std::isfinite(nb.sims[t]))
        bad(fmt::format("knn similarity {} is not positive and finite", nb.sims[t]));
      if (nb.symmetric && nb.find(nb.ids[t], static_cast<uint32_t>(x)) != nb.sims[t])
        bad(fmt::format("knn neighbour lists marked symmetric are not ({} and {})", x, nb.ids[t]));
    }
  }
}

const ModelType& KnnModel::type() const {
  return knn_model_type();
}

const ModelType& knn_model_type() {
  static const ModelType type{
      "knn",
      kHeaderSize,
      [](const char* header) -> std::optional<std::vector<uint64_t>> {
        const Header h = read_header(header);
        const uint64_t nu = h.n_users, ni = h.n_items;
        const uint64_t nx = h.user_based ? nu : ni, ny = h.user_based ? ni : nu;
        const auto nb = binary::checked_mul(h.n_neighbours, 4);
        const auto rated = binary::checked_mul(h.n_rated, 4);
        if (!nb || !rated) return std::nullopt;
        const bool baseline = h.kind == static_cast<uint32_t>(KnnKind::kBaseline);
        return std::vector<uint64_t>{
            nu * 8,
            ni * 8,
            (nu + 1) * 8,
            *rated,
            (ny + 1) * 8,
            *rated,
            *rated,
            (nx + 1) * 8,
            *nb,
            *nb,
            has_means(h.kind) ? nx * 8 : 0,
            h.kind == static_cast<uint32_t>(KnnKind::kWithZScore) ? nx * 8 : 0,
            baseline ? nu * 8 : 0,
            baseline ? ni * 8 : 0};
      },
      [](const char* header) {
        const Header h = read_header(header);
        return fmt::format(
            "{}, {}-based, similarity={}, k={}, n_users={}, n_items={}, "
            "n_rated={}, n_neighbours={}",
            h.kind <= 3 ? kKindNames[h.kind] : "?", h.user_based ? "user" : "item",
            h.similarity <= 3 ? similarity_name(static_cast<Similarity>(h.similarity)) : "?", h.k,
            h.n_users, h.n_items, h.n_rated, h.n_neighbours);
      },
      [](const char* header, uint64_t offset) {
        const Header h = read_header(header);
        if (h.kind > 3) return fmt::format("knn kind {} at offset {} is not 0..3", h.kind, offset);
        if (h.user_based > 1) {
          return fmt::format("user_based flag {} at offset {} is not 0 or 1", h.user_based,
                             offset + 4);
        }
        if (h.k == 0 || h.min_k > h.k) {
          return fmt::format("k={} min_k={} at offset {}: need 1 <= k and min_k <= k", h.k, h.min_k,
                             offset + 8);
        }
        if (h.similarity > 3) {
          return fmt::format("similarity {} at offset {} is not 0..3", h.similarity, offset + 56);
        }
        if (h.flags > 1)
          return fmt::format("flags {} at offset {} are not 0 or 1", h.flags, offset + 60);
        return std::string();
      },
      [](const char* header) {
        const Header h = read_header(header);
        return ModelShape{h.n_users, h.n_items, 0, h.n_rated};
      },
      [](const Model& model) {
        const auto& m = dynamic_cast<const KnnModel&>(model);
        std::string h(kHeaderSize, '\0');
        binary::store_u32(h.data(), static_cast<uint32_t>(m.kind));
        binary::store_u32(h.data() + 4, m.user_based ? 1 : 0);
        binary::store_u32(h.data() + 8, m.k);
        binary::store_u32(h.data() + 12, m.min_k);
        binary::store_f64(h.data() + 16, m.global_mean);
        binary::store_f32(h.data() + 24, m.scale.min);
        binary::store_f32(h.data() + 28, m.scale.max);
        binary::store_u32(h.data() + 32, m.n_users());
        binary::store_u32(h.data() + 36, m.n_items());
        binary::store_u64(h.data() + 40, m.rated_items.size());
        binary::store_u64(h.data() + 48, m.neighbours.ids.size());
        binary::store_u32(h.data() + 56, static_cast<uint32_t>(m.similarity));
        binary::store_u32(h.data() + 60, m.neighbours.symmetric ? 1 : 0);
        return h;
      },
      [](const Model& model, std::span<char* const> a) {
        const auto& m = dynamic_cast<const KnnModel&>(model);
        store_identity_arrays(m, a[0], a[1], a[2], a[3]);
        binary::store_u64s(a[4], m.y_offsets);
        binary::store_u32s(a[5], m.y_x);
        binary::store_f32s(a[6], m.y_rating);
        binary::store_u64s(a[7], m.neighbours.offsets);
        binary::store_u32s(a[8], m.neighbours.ids);
        binary::store_f32s(a[9], m.neighbours.sims);
        binary::store_f64s(a[10], m.x_mean);
        binary::store_f64s(a[11], m.x_sigma);
        binary::store_f64s(a[12], m.user_bias);
        binary::store_f64s(a[13], m.item_bias);
      },
      [](std::string algorithm, const char* header,
         std::span<const std::string_view> a) -> std::unique_ptr<Model> {
        const Header h = read_header(header);
        auto m = std::make_unique<KnnModel>();
        m->algorithm = std::move(algorithm);
        m->kind = static_cast<KnnKind>(h.kind);
        m->user_based = h.user_based != 0;
        m->k = h.k;
        m->min_k = h.min_k;
        m->similarity = static_cast<Similarity>(h.similarity);
        m->neighbours.symmetric = (h.flags & 1) != 0;
        m->global_mean = h.global_mean;
        m->scale = {h.min, h.max};
        load_identity_arrays(*m, a[0], a[1], a[2], a[3]);
        m->y_offsets = binary::load_u64s(a[4]);
        m->y_x = binary::load_u32s(a[5]);
        m->y_rating = binary::load_f32s(a[6]);
        m->neighbours.offsets = binary::load_u64s(a[7]);
        m->neighbours.ids = binary::load_u32s(a[8]);
        m->neighbours.sims = binary::load_f32s(a[9]);
        m->x_mean = binary::load_f64s(a[10]);
        m->x_sigma = binary::load_f64s(a[11]);
        m->user_bias = binary::load_f64s(a[12]);
        m->item_bias = binary::load_f64s(a[13]);
        return m;
      }};
  return type;
}

// --- training ------------------------------------------------------------------------------------

namespace {

std::unique_ptr<Model> fit_knn(KnnKind kind, const FitInput& in) {
  const Params& p = in.params;
  const TrainingSet& set = in.set;
  const char* name = kKindNames[static_cast<uint32_t>(kind)];
  auto m = std::make_unique<KnnModel>();
  fill_model_base(*m, set, name, in.scale);
  m->kind = kind;
  m->similarity = similarity_from_name(p.get_enum("similarity"));
  m->user_based = p.get_bool("user_based");
  m->k = static_cast<uint32_t>(p.get_int("k"));
  m->min_k = static_cast<uint32_t>(p.get_int("min_k"));
  m->global_mean = set.global_mean;
  const auto max_neighbors = static_cast<uint64_t>(p.get_int("max_neighbors"));
  if (m->min_k > m->k) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: min_k {} is above k {} (no prediction could use its "
                            "neighbours)",
                            name, m->min_k, m->k));
  }
  if (max_neighbors > 0 && max_neighbors < m->k) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: max_neighbors {} is below k {} (a prediction could never use k "
                            "neighbours); use at least k, or 0 for all",
                            name, max_neighbors, m->k));
  }
  const bool ub = m->user_based;
  // The x side sorted (the similarity sums run over y ascending), the y side in training order.
  RatingRows by_user = ratings_by_user(set, ub);
  RatingRows by_item = ratings_by_item(set, !ub);
  RatingRows& by_x = ub ? by_user : by_item;
  RatingRows& by_y = ub ? by_item : by_user;
  const uint32_t nx = by_x.n_rows();

  if (kind == KnnKind::kWithMeans || kind == KnnKind::kWithZScore) {
    double all_sum = 0.0;
    for (const float r : set.rating) all_sum += r;
    const double all_mean = all_sum / static_cast<double>(set.size());
    double all_sq = 0.0;
    for (const float r : set.rating) all_sq += (r - all_mean) * (r - all_mean);
    const double overall_sigma = std::sqrt(all_sq / static_cast<double>(set.size()));
    m->x_mean.resize(nx);
    if (kind == KnnKind::kWithZScore) m->x_sigma.resize(nx);
    for (uint32_t x = 0; x < nx; ++x) {
      const uint64_t b = by_x.offsets[x], e = by_x.offsets[x + 1];
      double s = 0.0;
      for (uint64_t t = b; t < e; ++t) s += by_x.values[t];
      const double mean = s / static_cast<double>(e - b);
      m->x_mean[x] = mean;
      if (kind == KnnKind::kWithZScore) {
        double sq = 0.0;
        for (uint64_t t = b; t < e; ++t) sq += (by_x.values[t] - mean) * (by_x.values[t] - mean);
        const double sigma = std::sqrt(sq / static_cast<double>(e - b));
        m->x_sigma[x] = sigma == 0.0 ? overall_sigma : sigma;
      }
    }
  }

  // The baselines: knn_baseline's predictions and the pearson_baseline similarity use them.
  Baselines baselines;
  if (kind == KnnKind::kBaseline || m->similarity == Similarity::kPearsonBaseline) {
    const BaselineOptions bsl =
        p.has("method") ? BaselineOptions::from_params(p) : BaselineOptions::defaults();
    baselines = compute_baselines(bsl, set);
  }

  // The model's y lists: the ratings as given (before any residuals replace them).
  m->y_offsets = by_y.offsets;
  m->y_x = by_y.cols;
  m->y_rating.assign(by_y.values.begin(), by_y.values.end());

  SimilarityOptions so;
  so.similarity = m->similarity;
  so.min_support = static_cast<uint32_t>(p.get_int("min_support"));
  if (p.has("shrinkage")) so.shrinkage = p.get_float("shrinkage");
  so.max_neighbors = max_neighbors;
  so.memory_limit = static_cast<uint64_t>(p.get_int("memory_limit"));
  so.threads = in.threads;
  so.subject = fmt::format("{}: the {} similarities", name, ub ? "user" : "item");
  if (m->similarity == Similarity::kPearsonBaseline) {
    // Residuals r - (mu + b_y + b_x), grouped as Surprise does: (mu + b_y) + b_x.
    const std::vector<double>& bx = ub ? baselines.user_bias : baselines.item_bias;
    const std::vector<double>& by = ub ? baselines.item_bias : baselines.user_bias;
    for (uint32_t x = 0; x < nx; ++x) {
      for (uint64_t t = by_x.offsets[x]; t < by_x.offsets[x + 1]; ++t)
        by_x.values[t] -= (set.global_mean + by[by_x.cols[t]]) + bx[x];
    }
    for (uint32_t y = 0; y < by_y.n_rows(); ++y) {
      for (uint64_t t = by_y.offsets[y]; t < by_y.offsets[y + 1]; ++t)
        by_y.values[t] -= (set.global_mean + by[y]) + bx[by_y.cols[t]];
    }
  }
  m->neighbours = compute_neighbours(by_x, by_y, so);
  if (kind == KnnKind::kBaseline) {
    m->user_bias = std::move(baselines.user_bias);
    m->item_bias = std::move(baselines.item_bias);
  }
  if (in.progress) in.progress(1, 1, std::numeric_limits<double>::quiet_NaN());
  return m;
}

OptionTable knn_params(KnnKind kind) {
  using O = OptionSpec;
  constexpr int64_t kMaxK = 1000000;
  OptionTable t = {
      O::integer("k", 40, 1, kMaxK, "the most neighbours a prediction uses"),
      O::integer("min_k", 1, 1, kMaxK,
                 kind == KnnKind::kBasic
                     ? "the fewest neighbours a prediction needs (fewer: the global mean)"
                     : "the fewest neighbours a prediction needs (fewer: no neighbour term)"),
      O::choice("similarity", "msd", similarity_names(),
                "similarity measure between users (items)"),
      O::boolean("user_based", true, "similarities between users (true) or between items"),
      O::integer("min_support", 1, 1, 1000000000,
                 "the fewest co-rated items (users) for a non-zero similarity"),
      O::real("shrinkage", 100.0, 0.0, 1e9, "shrinkage of the pearson_baseline similarity")
          .only_when("similarity", "pearson_baseline"),
      O::integer("max_neighbors", 0, 0, 1000000000,
                 "similarities kept per user (item), the largest; 0: all (Surprise's); "
                 "fewer save memory but can leave a prediction short of its k nearest"),
      O::bytes("memory_limit", int64_t{2} << 30, 1, int64_t{1} << 50,
               "the most memory the kept similarities may take (8 bytes each); training "
               "refuses above it"),
  };
  if (kind == KnnKind::kBaseline) {
    for (OptionSpec row : baseline_param_rows()) {
      row.doc += " (baseline estimates)";
      t.push_back(std::move(row));
    }
  }
  return t;
}

Algorithm knn_algorithm(KnnKind kind, const char* doc) {
  Algorithm a;
  a.name = kKindNames[static_cast<uint32_t>(kind)];
  a.doc = doc;
  a.params = knn_params(kind);
  a.model_type = &knn_model_type();
  a.max_fit_threads = [](const Params&, size_t) { return 64; };
  a.fit = [kind](const FitInput& in) { return fit_knn(kind, in); };
  return a;
}

}  // namespace

Algorithm knn_basic_algorithm() {
  return knn_algorithm(KnnKind::kBasic,
                       "k nearest neighbours, similarity-weighted average of their ratings "
                       "(Surprise's KNNBasic)");
}

Algorithm knn_with_means_algorithm() {
  return knn_algorithm(KnnKind::kWithMeans,
                       "k nearest neighbours on mean-centred ratings (Surprise's KNNWithMeans)");
}

Algorithm knn_with_zscore_algorithm() {
  return knn_algorithm(KnnKind::kWithZScore,
                       "k nearest neighbours on z-scored ratings (Surprise's KNNWithZScore)");
}

Algorithm knn_baseline_algorithm() {
  return knn_algorithm(KnnKind::kBaseline,
                       "k nearest neighbours on the residuals of baseline estimates (Surprise's "
                       "KNNBaseline)");
}

}  // namespace reco::algorithms
