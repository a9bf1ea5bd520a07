#include "recommendation/top_n.h"

#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::recommendation {
namespace {

// Items per block of the transposed item factors. Each (user, item) sum still runs over the
// factors in order; blocking only decides which independent sums run side by side.
constexpr size_t kLanes = 8;

// A GCC/Clang vector of four floats (one SSE or NEON register). Written as plain loops, GCC 12
// vectorises across factors instead and then adds the products back in order one at a time,
// which is many times slower.
typedef float Float4 __attribute__((vector_size(4 * sizeof(float))));

// out[t * kLanes + j] = sum over f, in order, of p[t][f] * block[f][j], for 4 users and kLanes
// items: per lane exactly the float operations of FactorModel::estimate's dot product. The
// eight accumulators fit in registers and hide the latency of the additions.
inline void dot_tile(const float* block, const float* const p[4], size_t n_factors, float* out) {
  static_assert(kLanes == 8 && TopN::kUserTile == 4);
  Float4 a00 = {}, a01 = {}, a10 = {}, a11 = {}, a20 = {}, a21 = {}, a30 = {}, a31 = {};
  const float *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3];
  for (size_t f = 0; f < n_factors; ++f) {
    Float4 r0, r1;
    std::memcpy(&r0, block + f * kLanes, sizeof(r0));
    std::memcpy(&r1, block + f * kLanes + 4, sizeof(r1));
    a00 += p0[f] * r0;
    a01 += p0[f] * r1;
    a10 += p1[f] * r0;
    a11 += p1[f] * r1;
    a20 += p2[f] * r0;
    a21 += p2[f] * r1;
    a30 += p3[f] * r0;
    a31 += p3[f] * r1;
  }
  const Float4 acc[8] = {a00, a01, a10, a11, a20, a21, a30, a31};
  std::memcpy(out, acc, sizeof(acc));
}

}  // namespace

TopN::TopN(const algorithms::FactorModel& model) : model_(model) {
  const size_t ni = model.n_items(), nf = model.n_factors;
  if (nf == 0) return;
  const size_t blocks = (ni + kLanes - 1) / kLanes;
  blocked_factors_.assign(blocks * nf * kLanes, 0.0f);
  for (size_t i = 0; i < ni; ++i) {
    const float* q = model.item_factors.data() + i * nf;
    float* dst = blocked_factors_.data() + (i / kLanes) * nf * kLanes + i % kLanes;
    for (size_t f = 0; f < nf; ++f) dst[f * kLanes] = q[f];
  }
}

void TopN::score_all(int64_t user, std::span<float> out) const {
  const std::span<float> outs[1] = {out};
  score_tile(std::span<const int64_t>(&user, 1), outs);
}

void TopN::score_tile(std::span<const int64_t> users, std::span<const std::span<float>> out) const {
  const auto& m = model_;
  const size_t ni = m.n_items(), nf = m.n_factors;
  if (users.empty() || users.size() > kUserTile || out.size() != users.size()) {
    throw Error(ErrorKind::kInternal,
                fmt::format("score_tile: {} users, {} outputs", users.size(), out.size()));
  }
  // Users whose scores need dot products; the others are filled directly.
  size_t n_dot = 0;
  size_t dot_slot[kUserTile];
  for (size_t t = 0; t < users.size(); ++t) {
    if (out[t].size() != ni) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("score buffer has {} slots for {} items", out[t].size(), ni));
    }
    if (users[t] >= static_cast<int64_t>(m.n_users())) {
      throw Error(ErrorKind::kInternal, fmt::format("model user {} out of range", users[t]));
    }
    // The same additions, in the same order and precision, as FactorModel::estimate.
    const bool known = users[t] >= 0;
    double base = m.biased ? m.global_mean : 0.0;
    if (m.biased && known) base += m.user_bias[static_cast<size_t>(users[t])];
    for (size_t i = 0; i < ni; ++i) {
      out[t][i] = static_cast<float>(m.biased ? base + m.item_bias[i] : base);
    }
    if (known && nf > 0) dot_slot[n_dot++] = t;
  }
  if (n_dot == 0) return;

  // Unused user slots repeat the last user; their results are dropped.
  const float* p[kUserTile];
  double base[kUserTile];
  for (size_t s = 0; s < kUserTile; ++s) {
    const size_t t = dot_slot[std::min(s, n_dot - 1)];
    const auto u = static_cast<size_t>(users[t]);
    p[s] = m.user_factors.data() + u * nf;
    base[s] = m.biased ? m.global_mean + m.user_bias[u] : 0.0;
  }
  float acc[kUserTile * kLanes];
  for (size_t b0 = 0; b0 < ni; b0 += kLanes) {
    dot_tile(blocked_factors_.data() + (b0 / kLanes) * nf * kLanes, p, nf, acc);
    const size_t n = std::min(kLanes, ni - b0);
    for (size_t s = 0; s < n_dot; ++s) {
      float* o = out[dot_slot[s]].data() + b0;
      for (size_t j = 0; j < n; ++j) {
        const double est = m.biased ? base[s] + m.item_bias[b0 + j] : base[s];
        o[j] = static_cast<float>(est + acc[s * kLanes + j]);
      }
    }
  }
}

std::vector<Scored> TopN::select(std::span<const float> scores, size_t k,
                                 std::span<const uint32_t> excluded) const {
  std::vector<Scored> heap;
  if (k == 0) return heap;
  const auto& raw = model_.items.raw_ids();
  // "a ranks before b". As a heap comparator it keeps the worst kept item on top.
  auto better = [&raw](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return raw[a.item] < raw[b.item];
  };
  heap.reserve(std::min(k, scores.size()));
  size_t ex = 0;
  for (uint32_t i = 0; i < scores.size(); ++i) {
    while (ex < excluded.size() && excluded[ex] < i) ++ex;
    if (ex < excluded.size() && excluded[ex] == i) continue;
    const Scored cand{i, scores[i]};
    if (heap.size() < k) {
      heap.push_back(cand);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(cand, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = cand;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  return heap;
}

std::vector<std::vector<Scored>> TopN::for_model_users(uint32_t first, uint32_t count, size_t k,
                                                       std::vector<float>& scratch) const {
  const uint32_t ni = model_.n_items();
  if (count == 0 || count > kUserTile || first + uint64_t{count} > model_.n_users()) {
    throw Error(ErrorKind::kInternal,
                fmt::format("model users [{}, {}) out of range ({} users, tile {})", first,
                            uint64_t{first} + count, model_.n_users(), kUserTile));
  }
  scratch.resize(size_t{count} * ni);
  int64_t users[kUserTile];
  std::span<float> outs[kUserTile];
  for (uint32_t t = 0; t < count; ++t) {
    users[t] = first + t;
    outs[t] = std::span<float>(scratch).subspan(size_t{t} * ni, ni);
  }
  score_tile(std::span<const int64_t>(users, count),
             std::span<const std::span<float>>(outs, count));
  std::vector<std::vector<Scored>> result(count);
  for (uint32_t t = 0; t < count; ++t) result[t] = select(outs[t], k, model_.rated_by(first + t));
  return result;
}

std::vector<Scored> TopN::for_raw_user(int64_t raw_user, size_t k,
                                       std::span<const int64_t> extra_exclude_raw_items) const {
  const int64_t user = model_.users.find(raw_user);
  std::vector<uint32_t> excluded;
  if (user >= 0) {
    const auto rated = model_.rated_by(static_cast<uint32_t>(user));
    excluded.assign(rated.begin(), rated.end());
  }
  for (const int64_t raw : extra_exclude_raw_items) {
    const int64_t i = model_.items.find(raw);
    if (i >= 0) excluded.push_back(static_cast<uint32_t>(i));
  }
  std::sort(excluded.begin(), excluded.end());
  excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
  std::vector<float> scores(model_.n_items());
  score_all(user, scores);
  return select(scores, k, excluded);
}

std::vector<std::vector<Scored>> top_n_all_users(const algorithms::FactorModel& model, size_t k,
                                                 int threads) {
  const TopN top(model);
  const uint32_t nu = model.n_users();
  std::vector<std::vector<Scored>> result(nu);
  // Users are handed out in small chunks; each result slot is written by exactly one thread, so
  // the output is the same for any thread count.
  constexpr uint32_t kChunk = 32;
  std::atomic<uint32_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::atomic_flag error_set = ATOMIC_FLAG_INIT;
  auto worker = [&] {
    std::vector<float> scratch;
    try {
      while (!failed.load()) {
        const uint32_t begin = next.fetch_add(kChunk);
        if (begin >= nu) return;
        const uint32_t end = std::min(nu, begin + kChunk);
        for (uint32_t u = begin; u < end; u += TopN::kUserTile) {
          const uint32_t count = std::min<uint32_t>(TopN::kUserTile, end - u);
          auto tile = top.for_model_users(u, count, k, scratch);
          for (uint32_t t = 0; t < count; ++t) result[u + t] = std::move(tile[t]);
        }
      }
    } catch (...) {
      failed.store(true);
      if (!error_set.test_and_set()) error = std::current_exception();
    }
  };
  run_on_threads(resolve_threads(threads, static_cast<int>((nu + kChunk - 1) / kChunk)), worker);
  if (error) std::rethrow_exception(error);
  return result;
}

std::vector<Scored> top_n_for_user(const algorithms::FactorModel& model, int64_t raw_user, size_t k,
                                   std::span<const int64_t> extra_exclude_raw_items) {
  return TopN(model).for_raw_user(raw_user, k, extra_exclude_raw_items);
}

}  // namespace reco::recommendation
