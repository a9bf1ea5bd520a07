#include "algorithms/slope_one.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "algorithms/similarity.h"
#include "algorithms/sparse_rows.h"
#include "algorithms/training_set.h"
#include "core/binary.h"
#include "core/error.h"

namespace reco::algorithms {

namespace {

constexpr uint64_t kHeaderSize = 40;
constexpr uint64_t kBytesPerDeviation = 8;  // u32 item + f32 deviation

struct Header {
  double global_mean;
  float min, max;
  uint32_t n_users, n_items;
  uint64_t n_rated, n_dev;
};

Header read_header(const char* h) {
  using namespace binary;
  return {load_f64(h),      load_f32(h + 8),  load_f32(h + 12), load_u32(h + 16),
          load_u32(h + 20), load_u64(h + 24), load_u64(h + 32)};
}

// A rating as the deviations use it: as given, or truncated (integer_ratings).
double used(double rating, bool integer_ratings) {
  return integer_ratings ? std::trunc(rating) : rating;
}

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::kCorrupt, "invalid model: " + what);
}

// mu_u + the mean of the deviations of u's items co-rated with i; dev_of(j) is NaN when j and
// i share no rater.
template <typename DevOf>
double slope_one(std::span<const uint32_t> rated, double mean, const DevOf& dev_of) {
  double sum = 0.0;
  uint64_t n = 0;
  for (const uint32_t j : rated) {
    const float d = dev_of(j);
    if (!std::isnan(d)) {
      sum += d;
      ++n;
    }
  }
  double est = mean;
  if (n > 0) est += sum / static_cast<double>(n);
  return est;
}

template <typename DevOf>
double slope_one(const SlopeOneModel& m, uint32_t u, const DevOf& dev_of) {
  return slope_one(m.rated_by(u), m.user_mean[u], dev_of);
}

constexpr float kAbsent = std::numeric_limits<float>::quiet_NaN();  // not co-rated
thread_local std::vector<float> t_row;                              // kAbsent outside spread_row()

// Writes item i's deviations (0 for i itself) into a dense row indexed by item, or clears them.
void spread_row(const SlopeOneModel& m, uint32_t i, std::vector<float>& row, bool on) {
  for (uint64_t t = m.dev_offsets[i]; t < m.dev_offsets[i + 1]; ++t)
    row[m.dev_items[t]] = on ? m.dev[t] : kAbsent;
  row[i] = on ? 0.0f : kAbsent;
}

}  // namespace

double SlopeOneModel::estimate(int64_t user, int64_t item) const {
  if (user < 0 || item < 0) return global_mean;
  const auto i = static_cast<uint32_t>(item);
  const auto u = static_cast<uint32_t>(user);
  const uint64_t row_size = dev_offsets[i + 1] - dev_offsets[i];
  if (row_size > 8 * rated_by(u).size()) {  // a binary search per rated item is cheaper
    const auto first = dev_items.begin() + static_cast<ptrdiff_t>(dev_offsets[i]);
    const auto last = dev_items.begin() + static_cast<ptrdiff_t>(dev_offsets[i + 1]);
    return slope_one(*this, u, [&](uint32_t j) {
      if (j == i) return 0.0f;
      const auto it = std::lower_bound(first, last, j);
      return it != last && *it == j ? dev[static_cast<size_t>(it - dev_items.begin())] : kAbsent;
    });
  }
  std::vector<float>& row = t_row;  // spread i's row: one pass, then one load per rated item
  if (row.size() < n_items()) row.resize(n_items(), kAbsent);
  spread_row(*this, i, row, true);
  const double est = slope_one(*this, u, [&](uint32_t j) { return row[j]; });
  spread_row(*this, i, row, false);
  return est;
}

void SlopeOneModel::score_block(std::span<const uint32_t> block_users, uint32_t first,
                                uint32_t count, float* out, size_t ld) const {
  // For each user, the deviations of every item of the block at once, scattered from the rows
  // of the items the user rated (only the part inside the block: ids are ascending), using
  // dev(i, j) = -dev(j, i), which holds exactly. Items j go in ascending order, so each item's
  // terms are summed in the same order as in estimate().
  const uint32_t last = first + count;
  std::vector<double> sum(count);
  std::vector<uint32_t> n(count);
  for (size_t t = 0; t < block_users.size(); ++t) {
    const uint32_t u = block_users[t];
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(n.begin(), n.end(), 0);
    for (const uint32_t j : rated_by(u)) {
      if (j >= first && j < last) {
        sum[j - first] += 0.0f;  // dev(j, j)
        ++n[j - first];
      }
      const auto ids_begin = dev_items.begin();
      const auto row_end = ids_begin + static_cast<ptrdiff_t>(dev_offsets[j + 1]);
      for (auto it =
               std::lower_bound(ids_begin + static_cast<ptrdiff_t>(dev_offsets[j]), row_end, first);
           it != row_end && *it < last; ++it) {
        sum[*it - first] += -dev[static_cast<size_t>(it - ids_begin)];
        ++n[*it - first];
      }
    }
    for (uint32_t c = 0; c < count; ++c) {
      double est = user_mean[u];
      if (n[c] > 0) est += sum[c] / static_cast<double>(n[c]);
      out[t * ld + c] = static_cast<float>(est);
    }
  }
}

void SlopeOneModel::score_new_user(std::span<const uint32_t> rated, double mean,
                                   std::span<float> out) const {
  std::vector<float> row(n_items(), kAbsent);
  for (uint32_t i = 0; i < n_items(); ++i) {
    spread_row(*this, i, row, true);
    out[i] = static_cast<float>(slope_one(rated, mean, [&](uint32_t j) { return row[j]; }));
    spread_row(*this, i, row, false);
  }
}

void SlopeOneModel::validate() const {
  Model::validate();
  if (user_mean.size() != n_users()) bad("slope one user means' size");
  for (const double x : user_mean)
    if (!std::isfinite(x)) bad("a slope one user mean is not finite");
  const size_t ni = n_items();
  if (dev_offsets.size() != ni + 1 || dev_offsets.front() != 0 ||
      dev_offsets.back() != dev_items.size() || dev.size() != dev_items.size()) {
    bad("slope one deviation lists' sizes");
  }
  for (size_t i = 0; i < ni; ++i) {
    if (dev_offsets[i] > dev_offsets[i + 1]) bad("slope one deviation lists are not monotonic");
    for (uint64_t t = dev_offsets[i]; t < dev_offsets[i + 1]; ++t) {
      if (dev_items[t] >= ni || dev_items[t] == i ||
          (t > dev_offsets[i] && dev_items[t] <= dev_items[t - 1])) {
        bad(fmt::format("slope one deviation list of item {} is not ascending within range", i));
      }
      if (!std::isfinite(dev[t])) bad("a slope one deviation is not finite");
    }
  }
}

const ModelType& SlopeOneModel::type() const {
  return slopeone_model_type();
}

const ModelType& slopeone_model_type() {
  static const ModelType type{
      "slopeone",
      kHeaderSize,
      [](const char* header) -> std::optional<std::vector<uint64_t>> {
        const Header h = read_header(header);
        const uint64_t nu = h.n_users, ni = h.n_items;
        const auto rated = binary::checked_mul(h.n_rated, 4);
        const auto devs = binary::checked_mul(h.n_dev, 4);
        if (!rated || !devs) return std::nullopt;
        return std::vector<uint64_t>{nu * 8, ni * 8,       (nu + 1) * 8, *rated,
                                     nu * 8, (ni + 1) * 8, *devs,        *devs};
      },
      [](const char* header) {
        const Header h = read_header(header);
        return fmt::format("n_users={}, n_items={}, n_rated={}, n_deviations={}", h.n_users,
                           h.n_items, h.n_rated, h.n_dev);
      },
      [](const char*, uint64_t) { return std::string(); },
      [](const char* header) {
        const Header h = read_header(header);
        return ModelShape{h.n_users, h.n_items, 0, h.n_rated};
      },
      [](const Model& model) {
        const auto& m = dynamic_cast<const SlopeOneModel&>(model);
        std::string h(kHeaderSize, '\0');
        binary::store_f64(h.data(), m.global_mean);
        binary::store_f32(h.data() + 8, m.scale.min);
        binary::store_f32(h.data() + 12, m.scale.max);
        binary::store_u32(h.data() + 16, m.n_users());
        binary::store_u32(h.data() + 20, m.n_items());
        binary::store_u64(h.data() + 24, m.rated_items.size());
        binary::store_u64(h.data() + 32, m.dev.size());
        return h;
      },
      [](const Model& model, std::span<char* const> a) {
        const auto& m = dynamic_cast<const SlopeOneModel&>(model);
        store_identity_arrays(m, a[0], a[1], a[2], a[3]);
        binary::store_f64s(a[4], m.user_mean);
        binary::store_u64s(a[5], m.dev_offsets);
        binary::store_u32s(a[6], m.dev_items);
        binary::store_f32s(a[7], m.dev);
      },
      [](std::string algorithm, const char* header,
         std::span<const std::string_view> a) -> std::unique_ptr<Model> {
        const Header h = read_header(header);
        auto m = std::make_unique<SlopeOneModel>();
        m->algorithm = std::move(algorithm);
        m->global_mean = h.global_mean;
        m->scale = {h.min, h.max};
        load_identity_arrays(*m, a[0], a[1], a[2], a[3]);
        m->user_mean = binary::load_f64s(a[4]);
        m->dev_offsets = binary::load_u64s(a[5]);
        m->dev_items = binary::load_u32s(a[6]);
        m->dev = binary::load_f32s(a[7]);
        return m;
      }};
  return type;
}

Algorithm slope_one_algorithm() {
  Algorithm a;
  a.name = "slope_one";
  a.doc = "the user's mean plus the mean rating deviation between items (Surprise's SlopeOne)";
  a.params = {
      OptionSpec::boolean("integer_ratings", false,
                          "truncate the ratings to integers in the deviations, as Surprise "
                          "1.1.4's code does (its ratings are C ints there), to reproduce its "
                          "numbers; false: the ratings as they are, the documented formula"),
      OptionSpec::bytes("memory_limit", int64_t{2} << 30, 1, int64_t{1} << 50,
                        "the most memory the item-item deviations may take (8 bytes per "
                        "co-rated pair); training refuses above it"),
  };
  a.model_type = &slopeone_model_type();
  a.max_fit_threads = [](const Params&, size_t) { return 64; };
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    const TrainingSet& set = in.set;
    auto m = std::make_unique<SlopeOneModel>();
    fill_model_base(*m, set, "slope_one", in.scale);
    m->global_mean = set.global_mean;
    m->user_mean.resize(set.n_users());
    for (uint32_t u = 0; u < set.n_users(); ++u) {
      double s = 0.0;
      for (uint64_t t = set.user_offsets[u]; t < set.user_offsets[u + 1]; ++t) s += set.rating[t];
      m->user_mean[u] = s / static_cast<double>(set.user_offsets[u + 1] - set.user_offsets[u]);
    }
    const RatingRows by_item = ratings_by_item(set, true);  // users ascending: Surprise's order
    const RatingRows by_user = ratings_by_user(set, true);  // items ascending
    const uint32_t ni = set.n_items();
    const auto limit = static_cast<uint64_t>(in.params.get_int("memory_limit"));
    if (uint64_t{ni} * (ni > 0 ? ni - 1 : 0) * kBytesPerDeviation > limit) {
      const uint64_t pairs = count_candidate_pairs(by_item, by_user, 1, 0, in.threads);
      if (pairs * kBytesPerDeviation > limit) {
        throw Error(ErrorKind::kInput,
                    fmt::format("slope_one: the deviations of {} co-rated item pairs would take "
                                "{:.1f} MiB ({} bytes), above memory_limit={}",
                                pairs, static_cast<double>(pairs * kBytesPerDeviation) / 1048576.0,
                                pairs * kBytesPerDeviation, limit));
      }
    }
    const bool integer_ratings = in.params.get_bool("integer_ratings");
    auto rows = build_sparse_rows<float>(ni, in.threads, [&] {
      return [&, sum = std::vector<double>(ni, 0.0), freq = std::vector<uint32_t>(ni, 0),
              touched = std::vector<uint32_t>()](uint32_t i, std::vector<uint32_t>& ids,
                                                 std::vector<float>& devs) mutable {
        for (uint64_t t = by_item.offsets[i]; t < by_item.offsets[i + 1]; ++t) {
          const uint32_t u = by_item.cols[t];
          const double r_ui = used(by_item.values[t], integer_ratings);
          // Only j > i (the upper triangle, mirrored below with dev(j, i) = -dev(i, j)).
          const auto row_end =
              by_user.cols.begin() + static_cast<ptrdiff_t>(by_user.offsets[u + 1]);
          const auto after_i = std::upper_bound(
              by_user.cols.begin() + static_cast<ptrdiff_t>(by_user.offsets[u]), row_end, i);
          for (auto q = static_cast<uint64_t>(after_i - by_user.cols.begin());
               q < by_user.offsets[u + 1]; ++q) {
            const uint32_t j = by_user.cols[q];
            if (freq[j]++ == 0) touched.push_back(j);
            sum[j] += r_ui - used(by_user.values[q], integer_ratings);
          }
        }
        ascending_ids(touched, ni, [&](uint32_t j) { return freq[j] > 0; });
        for (const uint32_t j : touched) {
          if (j != i) {
            ids.push_back(j);
            devs.push_back(static_cast<float>(sum[j] / freq[j]));
          }
          sum[j] = 0.0;
          freq[j] = 0;
        }
        touched.clear();
      };
    });
    rows = mirror_upper(std::move(rows), true);
    m->dev_offsets = std::move(rows.offsets);
    m->dev_items = std::move(rows.ids);
    m->dev = std::move(rows.values);
    if (in.progress) in.progress(1, 1, std::numeric_limits<double>::quiet_NaN());
    return m;
  };
  return a;
}

}  // namespace reco::algorithms
