#include "algorithms/blend.h"

#include <cmath>
#include <exception>
#include <limits>
#include <mutex>

#include <fmt/format.h>

#include "algorithms/train.h"
#include "algorithms/training_set.h"
#include "core/binary.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/random.h"

namespace reco::algorithms {

namespace {

constexpr uint64_t kHeaderSize = 32 + 8 * kMaxBlendBases;
constexpr uint64_t kBlendFoldStream = 0x626c656e64;  // "blend": the stacking folds' shuffle

Error usage(const std::string& message) {
  return Error(ErrorKind::kUsage, "blend: " + message);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "name" or "name(k=v;k=v)" -> validated Params.
Params parse_base(std::string_view item) {
  item = trim(item);
  std::string_view name = item, inside;
  const size_t open = item.find('(');
  if (open != std::string_view::npos) {
    if (item.back() != ')') {
      throw usage(fmt::format("algorithms: '{}' opens a parameter list it does not close", item));
    }
    name = trim(item.substr(0, open));
    inside = item.substr(open + 1, item.size() - open - 2);
  }
  if (name.empty()) throw usage("algorithms: an empty name in the list");
  if (name == "blend") throw usage("algorithms: a blend cannot contain another blend");
  if (!find_algorithm(name).predicts_ratings) {  // Error(kUsage) listing the algorithms if unknown
    throw usage(fmt::format(
        "algorithms: {} is a ranking model whose scores are not ratings; a blend fits its weights "
        "to ratings, so its bases must predict them",
        name));
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t pos = 0;
  while (pos < inside.size()) {
    size_t end = inside.find_first_of("; \t", pos);
    if (end == std::string_view::npos) end = inside.size();
    const std::string_view pair = inside.substr(pos, end - pos);
    pos = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw usage(
          fmt::format("algorithms: '{}' in the parameters of {} is not NAME=VALUE", pair, name));
    }
    pairs.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
  }
  try {
    return parse_params(name, pairs);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("blend: algorithms: {}", e.what()));
  }
}

// A model inside the blend's artifact, self-describing: u32 name length, u32 array count, the
// algorithm name padded to 8 bytes, u64 model-header size, the header padded to 8 bytes, u64 size
// of each array, then each array padded to 8 bytes. The name says which model type reads it.
uint64_t pad8(uint64_t n) {
  return (n + 7) & ~uint64_t{7};
}

// A base's header and array sizes, and the bytes its nested form takes: computed from the header
// alone, so the blend's header can state the size without encoding the base's arrays.
struct NestedLayout {
  std::string header;
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
};

NestedLayout nested_layout(const Model& model) {
  const ModelType& type = model.type();
  NestedLayout l;
  l.header = type.encode_header(model);
  auto sizes = type.array_sizes(l.header.data());
  if (!sizes) throw Error(ErrorKind::kInternal, "blend: a base model's arrays overflow");
  l.sizes = std::move(*sizes);
  l.total = 8 + pad8(model.algorithm.size()) + 8 + pad8(l.header.size()) + 8 * l.sizes.size();
  for (const uint64_t s : l.sizes) l.total += pad8(s);
  return l;
}

// Writes the nested form into `out`, which holds nested_layout(model).total zeroed bytes.
void encode_nested(const Model& model, char* out) {
  const NestedLayout l = nested_layout(model);
  char* p = out;
  binary::store_u32(p, static_cast<uint32_t>(model.algorithm.size()));
  binary::store_u32(p + 4, static_cast<uint32_t>(l.sizes.size()));
  p += 8;
  std::copy(model.algorithm.begin(), model.algorithm.end(), p);
  p += pad8(model.algorithm.size());
  binary::store_u64(p, l.header.size());
  p += 8;
  std::copy(l.header.begin(), l.header.end(), p);
  p += pad8(l.header.size());
  for (const uint64_t s : l.sizes) {
    binary::store_u64(p, s);
    p += 8;
  }
  std::vector<char*> regions;
  for (const uint64_t s : l.sizes) {
    regions.push_back(p);
    p += pad8(s);
  }
  model.type().encode_arrays(model, regions);
}

std::unique_ptr<Model> decode_nested(std::string_view bytes, size_t base) {
  size_t pos = 0;
  auto take = [&](uint64_t n, const char* what) {
    if (n > bytes.size() - pos) {
      throw Error(ErrorKind::kCorrupt, fmt::format("blend base {}: {} runs past its {} bytes",
                                                   base + 1, what, bytes.size()));
    }
    const std::string_view part = bytes.substr(pos, n);
    pos += static_cast<size_t>(n);
    if (pos < bytes.size()) pos = std::min(bytes.size(), static_cast<size_t>(pad8(pos)));
    return part;
  };
  const std::string_view counts = take(8, "the counts");
  const uint32_t name_length = binary::load_u32(counts.data());
  const uint32_t n_arrays = binary::load_u32(counts.data() + 4);
  const std::string name(take(name_length, "the algorithm name"));
  const Algorithm* algorithm = find_algorithm_or_null(name);
  if (algorithm == nullptr || name == "blend") {
    throw Error(ErrorKind::kCorrupt,
                fmt::format("blend base {}: unknown algorithm '{}'", base + 1, name));
  }
  const ModelType& type = *algorithm->model_type;
  const uint64_t header_size = binary::load_u64(take(8, "the header size").data());
  if (header_size != type.header_size) {
    throw Error(ErrorKind::kCorrupt,
                fmt::format("blend base {}: a {} model header of {} bytes, expected {}", base + 1,
                            type.name, header_size, type.header_size));
  }
  const std::string header(take(header_size, "the model header"));
  const auto expected = type.array_sizes(header.data());
  if (!expected || expected->size() != n_arrays) {
    throw Error(ErrorKind::kCorrupt,
                fmt::format("blend base {}: {} arrays do not match its {} header ({})", base + 1,
                            n_arrays, type.name, type.describe(header.data())));
  }
  std::vector<uint64_t> sizes;
  for (uint32_t k = 0; k < n_arrays; ++k)
    sizes.push_back(binary::load_u64(take(8, "the array sizes").data()));
  if (sizes != *expected) {
    throw Error(ErrorKind::kCorrupt,
                fmt::format("blend base {}: array sizes do not match its header ({})", base + 1,
                            type.describe(header.data())));
  }
  if (const std::string problem = type.check_header(header.data(), 0); !problem.empty()) {
    throw Error(ErrorKind::kCorrupt, fmt::format("blend base {}: {}", base + 1, problem));
  }
  std::vector<std::string_view> arrays;
  for (const uint64_t s : sizes) arrays.push_back(take(s, "an array"));
  auto model = type.decode(name, header.data(), arrays);
  model->validate();
  return model;
}

struct Header {
  uint32_t n_bases, reserved;
  float min, max;
  uint32_t n_users, n_items;
  uint64_t n_rated;
  uint64_t nested[kMaxBlendBases];
};

Header read_header(const char* h) {
  using namespace binary;
  Header out{load_u32(h),      load_u32(h + 4),  load_f32(h + 8),  load_f32(h + 12),
             load_u32(h + 16), load_u32(h + 20), load_u64(h + 24), {}};
  for (size_t b = 0; b < kMaxBlendBases; ++b) out.nested[b] = load_u64(h + 32 + 8 * b);
  return out;
}

// Solves the (m x m) system a x = b in place by Gaussian elimination with partial pivoting;
// false when it is singular.
bool solve(std::vector<double>& a, std::vector<double>& b, size_t m) {
  for (size_t c = 0; c < m; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < m; ++r) {
      if (std::fabs(a[r * m + c]) > std::fabs(a[pivot * m + c])) pivot = r;
    }
    if (!(std::fabs(a[pivot * m + c]) > 1e-12 * std::max(1.0, std::fabs(a[c * m + c])))) {
      return false;
    }
    if (pivot != c) {
      for (size_t k = 0; k < m; ++k) std::swap(a[c * m + k], a[pivot * m + k]);
      std::swap(b[c], b[pivot]);
    }
    for (size_t r = c + 1; r < m; ++r) {
      const double f = a[r * m + c] / a[c * m + c];
      for (size_t k = c; k < m; ++k) a[r * m + k] -= f * a[c * m + k];
      b[r] -= f * b[c];
    }
  }
  for (size_t c = m; c-- > 0;) {
    double s = b[c];
    for (size_t k = c + 1; k < m; ++k) s -= a[c * m + k] * b[k];
    b[c] = s / a[c * m + c];
  }
  return true;
}

// A base's answer as the blend uses it: the float estimate (what score_block gives), clipped.
double base_prediction(const Model& base, int64_t user, int64_t item) {
  return base.clip(static_cast<float>(base.estimate(user, item)));
}

}  // namespace

std::vector<uint8_t> blend_fold_of(size_t n, size_t folds, uint64_t seed) {
  std::vector<uint32_t> perm(n);
  for (size_t k = 0; k < n; ++k) perm[k] = static_cast<uint32_t>(k);
  Rng rng(seed, kBlendFoldStream);
  rng.shuffle(perm);
  std::vector<uint8_t> fold_of(n);
  for (size_t k = 0; k < n; ++k) fold_of[perm[k]] = static_cast<uint8_t>(k * folds / n);
  return fold_of;
}

std::vector<double> stack_weights(std::span<const double> predictions,
                                  std::span<const float> ratings, size_t nb, double reg) {
  // Ridge normal equations over [1, p_1 .. p_B]: (X'X + reg D) w = X'y, D = diag(0, 1, ..., 1).
  const size_t m = nb + 1, n = ratings.size();
  std::vector<double> xtx(m * m, 0.0), xty(m, 0.0);
  std::vector<double> row(m);
  for (size_t q = 0; q < n; ++q) {
    row[0] = 1.0;
    for (size_t b = 0; b < nb; ++b) row[b + 1] = predictions[q * nb + b];
    const double y = ratings[q];
    for (size_t r = 0; r < m; ++r) {
      xty[r] += row[r] * y;
      for (size_t c = 0; c < m; ++c) xtx[r * m + c] += row[r] * row[c];
    }
  }
  for (size_t r = 1; r < m; ++r) xtx[r * m + r] += reg;
  if (!solve(xtx, xty, m)) {
    throw Error(ErrorKind::kInput,
                "blend: the bases' out-of-fold predictions are collinear (e.g. the same "
                "algorithm twice with the same parameters): set reg above 0 or change the bases");
  }
  return xty;
}

std::vector<Params> parse_blend_bases(std::string_view text) {
  std::vector<Params> out;
  int depth = 0;
  size_t start = 0;
  for (size_t k = 0; k <= text.size(); ++k) {
    const char c = k < text.size() ? text[k] : ',';
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) throw usage(fmt::format("algorithms: unbalanced ')' in '{}'", text));
    if (c == ',' && depth == 0) {
      const std::string_view item = trim(text.substr(start, k - start));
      if (!item.empty()) out.push_back(parse_base(item));
      start = k + 1;
    }
  }
  if (depth != 0) throw usage(fmt::format("algorithms: unbalanced '(' in '{}'", text));
  if (out.size() < 2 || out.size() > kMaxBlendBases) {
    throw usage(fmt::format("algorithms: {} base algorithms in '{}'; a blend takes 2 to {}",
                            out.size(), text, kMaxBlendBases));
  }
  return out;
}

double BlendModel::estimate(int64_t user, int64_t item) const {
  double s = weights[0];
  for (size_t b = 0; b < bases.size(); ++b)
    s += weights[b + 1] * base_prediction(*bases[b], user, item);
  return s;
}

void BlendModel::score_block(std::span<const uint32_t> block_users, uint32_t first, uint32_t count,
                             float* out, size_t ld) const {
  const size_t n = block_users.size() * count;
  std::vector<double> acc(n, weights[0]);
  std::vector<float> part(n);
  for (size_t b = 0; b < bases.size(); ++b) {
    bases[b]->score_block(block_users, first, count, part.data(), count);
    const double w = weights[b + 1];
    for (size_t k = 0; k < n; ++k) acc[k] += w * bases[b]->clip(part[k]);
  }
  for (size_t t = 0; t < block_users.size(); ++t) {
    for (uint32_t j = 0; j < count; ++j) out[t * ld + j] = static_cast<float>(acc[t * count + j]);
  }
}

void BlendModel::score_unknown_user(uint32_t first, uint32_t count, float* out) const {
  std::vector<double> acc(count, weights[0]);
  std::vector<float> part(count);
  for (size_t b = 0; b < bases.size(); ++b) {
    bases[b]->score_unknown_user(first, count, part.data());
    for (uint32_t j = 0; j < count; ++j) acc[j] += weights[b + 1] * bases[b]->clip(part[j]);
  }
  for (uint32_t j = 0; j < count; ++j) out[j] = static_cast<float>(acc[j]);
}

void BlendModel::validate() const {
  Model::validate();
  auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kCorrupt, "model: blend: " + what);
  };
  if (bases.size() < 2 || bases.size() > kMaxBlendBases)
    fail(fmt::format("{} bases (2 to {})", bases.size(), kMaxBlendBases));
  if (weights.size() != bases.size() + 1)
    fail(fmt::format("{} weights for {} bases", weights.size(), bases.size()));
  for (const double w : weights) {
    if (!std::isfinite(w)) fail(fmt::format("weight {} is not finite", w));
  }
  for (size_t b = 0; b < bases.size(); ++b) {
    if (!bases[b]) fail(fmt::format("base {} is missing", b + 1));
    if (bases[b]->users.raw_ids() != users.raw_ids() ||
        bases[b]->items.raw_ids() != items.raw_ids()) {
      fail(fmt::format("base {} ({}) has other users or items than the blend", b + 1,
                       bases[b]->algorithm));
    }
  }
}

const ModelType& BlendModel::type() const {
  return blend_model_type();
}

const ModelType& blend_model_type() {
  static const ModelType type{
      "blend",
      kHeaderSize,
      [](const char* header) -> std::optional<std::vector<uint64_t>> {
        const Header h = read_header(header);
        if (h.n_bases > kMaxBlendBases) return std::nullopt;
        std::vector<uint64_t> sizes{(uint64_t{h.n_bases} + 1) * 8, uint64_t{h.n_users} * 8,
                                    uint64_t{h.n_items} * 8, (uint64_t{h.n_users} + 1) * 8,
                                    h.n_rated * 4};
        for (uint32_t b = 0; b < h.n_bases; ++b) sizes.push_back(h.nested[b]);
        return sizes;
      },
      [](const char* header) {
        const Header h = read_header(header);
        return fmt::format("n_bases={}, n_users={}, n_items={}, n_rated={}", h.n_bases, h.n_users,
                           h.n_items, h.n_rated);
      },
      [](const char* header, uint64_t offset) {
        const Header h = read_header(header);
        if (h.n_bases < 2 || h.n_bases > kMaxBlendBases) {
          return fmt::format("n_bases {} at offset {} is out of range (2 to {})", h.n_bases, offset,
                             kMaxBlendBases);
        }
        if (h.reserved != 0) {
          return fmt::format("reserved word at offset {} is {}, expected 0", offset + 4,
                             h.reserved);
        }
        for (uint32_t b = h.n_bases; b < kMaxBlendBases; ++b) {
          if (h.nested[b] != 0) {
            return fmt::format("size of unused base {} at offset {} is {}, expected 0", b + 1,
                               offset + 32 + 8 * b, h.nested[b]);
          }
        }
        return std::string();
      },
      [](const char* header) {
        const Header h = read_header(header);
        return ModelShape{h.n_users, h.n_items, 0, h.n_rated};
      },
      [](const Model& model) {
        const auto& m = dynamic_cast<const BlendModel&>(model);
        std::string h(kHeaderSize, '\0');
        binary::store_u32(h.data(), static_cast<uint32_t>(m.bases.size()));
        binary::store_f32(h.data() + 8, m.scale.min);
        binary::store_f32(h.data() + 12, m.scale.max);
        binary::store_u32(h.data() + 16, m.n_users());
        binary::store_u32(h.data() + 20, m.n_items());
        binary::store_u64(h.data() + 24, m.rated_items.size());
        for (size_t b = 0; b < m.bases.size(); ++b)
          binary::store_u64(h.data() + 32 + 8 * b, nested_layout(*m.bases[b]).total);
        return h;
      },
      [](const Model& model, std::span<char* const> a) {
        const auto& m = dynamic_cast<const BlendModel&>(model);
        binary::store_f64s(a[0], m.weights);
        store_identity_arrays(m, a[1], a[2], a[3], a[4]);
        for (size_t b = 0; b < m.bases.size(); ++b) encode_nested(*m.bases[b], a[5 + b]);
      },
      [](std::string algorithm, const char* header,
         std::span<const std::string_view> a) -> std::unique_ptr<Model> {
        const Header h = read_header(header);
        auto m = std::make_unique<BlendModel>();
        m->algorithm = std::move(algorithm);
        m->scale = {h.min, h.max};
        m->weights = binary::load_f64s(a[0]);
        load_identity_arrays(*m, a[1], a[2], a[3], a[4]);
        for (uint32_t b = 0; b < h.n_bases; ++b) m->bases.push_back(decode_nested(a[5 + b], b));
        return m;
      }};
  return type;
}

Algorithm blend_algorithm() {
  using O = OptionSpec;
  Algorithm a;
  a.name = "blend";
  a.doc =
      "linear stacking: several algorithms combined with weights fit on their out-of-fold "
      "predictions (ridge least squares)";
  a.params = {
      O::text("algorithms", "svd,svdpp,knn_baseline(user_based=false;similarity=pearson_baseline)",
              "the base algorithms, comma-separated, each optionally with parameters: "
              "svd(n_factors=50;reg_all=0.05)")
          .with_range_doc("2 to 8 algorithms"),
      O::integer("blend_folds", 5, 2, 20,
                 "folds of the training ratings whose held-out predictions fit the weights"),
      O::real("reg", 1.0, 0.0, 1e12, "ridge regularization of the weights (not of the intercept)"),
  };
  a.model_type = &blend_model_type();
  a.max_fit_threads = [](const Params& p, size_t) {
    const auto bases = parse_blend_bases(p.get_enum("algorithms"));
    return static_cast<int>((p.get_int("blend_folds") + 1) * static_cast<int64_t>(bases.size()));
  };
  a.fit = [](const FitInput& in) -> std::unique_ptr<Model> {
    const std::vector<Params> bases = parse_blend_bases(in.params.get_enum("algorithms"));
    const auto n_folds = static_cast<size_t>(in.params.get_int("blend_folds"));
    const double reg = in.params.get_float("reg");
    const Dataset& data = *in.set.dataset;
    const std::span<const uint32_t> list = in.set.indices;
    const size_t n = list.size(), nb = bases.size();
    if (n < n_folds) {
      throw Error(
          ErrorKind::kInput,
          fmt::format("blend: {} training ratings, fewer than blend_folds ({})", n, n_folds));
    }
    const std::vector<uint8_t> fold_of = blend_fold_of(n, n_folds, in.seed);

    // Tasks: (fold, base) out-of-fold fits, then (n_folds, base) the fits on the whole list.
    const size_t n_tasks = (n_folds + 1) * nb;
    std::vector<double> oof(n * nb);
    std::vector<std::unique_ptr<Model>> finals(nb);
    std::vector<std::exception_ptr> failures(n_tasks);
    std::mutex mutex;
    size_t next = 0, done = 0;
    auto worker = [&] {
      for (;;) {
        size_t task;
        {
          std::lock_guard lock(mutex);
          if (next == n_tasks) return;
          task = next++;
        }
        const size_t fold = task / nb, b = task % nb;
        try {
          if (fold == n_folds) {
            finals[b] =
                fit(bases[b].algorithm(), bases[b], data, list, in.scale, in.seed, {}, nullptr, 1);
          } else {
            std::vector<uint32_t> train;
            train.reserve(n);
            for (size_t q = 0; q < n; ++q) {
              if (fold_of[q] != fold) train.push_back(list[q]);
            }
            const auto model =
                fit(bases[b].algorithm(), bases[b], data, train, in.scale, in.seed, {}, nullptr, 1);
            for (size_t q = 0; q < n; ++q) {
              if (fold_of[q] != fold) continue;
              const uint32_t k = list[q];
              oof[q * nb + b] =
                  base_prediction(*model, model->users.find(data.users.raw(data.user[k])),
                                  model->items.find(data.items.raw(data.item[k])));
            }
          }
        } catch (...) {
          failures[task] = std::current_exception();
        }
        std::lock_guard lock(mutex);
        ++done;
        if (in.progress) {
          in.progress(static_cast<int>(done), static_cast<int>(n_tasks),
                      std::numeric_limits<double>::quiet_NaN());
        }
      }
    };
    run_on_threads(resolve_threads(in.threads, static_cast<int>(n_tasks)), worker);
    for (const auto& failure : failures) {
      if (failure) std::rethrow_exception(failure);
    }

    std::vector<float> ratings(n);
    for (size_t q = 0; q < n; ++q) ratings[q] = data.rating[list[q]];
    std::vector<double> weights = stack_weights(oof, ratings, nb, reg);

    auto model = std::make_unique<BlendModel>();
    fill_model_base(*model, in.set, "blend", in.scale);
    model->weights = std::move(weights);
    model->bases = std::move(finals);
    return model;
  };
  return a;
}

}  // namespace reco::algorithms
