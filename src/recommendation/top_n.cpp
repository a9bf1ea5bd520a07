#include "recommendation/top_n.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>

#include <fmt/format.h>

#include "algorithms/kernels.h"
#include "algorithms/simd.h"
#include "core/error.h"
#include "core/parallel.h"

namespace reco::recommendation {
namespace {

// Blocking for the caches (100 factors = 400 bytes a row):
//  - an item block of 512 rows (200 KB) stays in L2 while the user sub-blocks of a user block
//    pass over it;
//  - a user sub-block of 32 rows (12.8 KB) stays in L1 while its tiles meet one item group;
//  - a user block (up to kMaxUserBlock users) shares one pass over all the item rows, which on
//    large data come from L3 or memory: the larger the block, the fewer passes.
// Blocking only decides which independent sums run side by side: results do not depend on it.
constexpr uint32_t kItemBlock = 512;
constexpr uint32_t kUserSubBlock = 32;
constexpr uint32_t kMaxUserBlock = 512;

// The k best (score desc, then raw item id asc) among the items offered, skipping excluded ones.
class Selector {
 public:
  Selector(size_t k, const std::vector<int64_t>& raw) : k_(k), raw_(&raw) { heap_.reserve(k); }

  // Items must be offered in ascending order; `excluded` is ascending too.
  void reset(std::span<const uint32_t> excluded) {
    heap_.clear();
    ex_ = excluded.data();
    ex_end_ = excluded.data() + excluded.size();
  }

  // `candidates` needs room for count indices.
  void offer(algorithms::Isa isa, const float* scores, uint32_t first, uint32_t count,
             uint32_t* candidates) {
    if (k_ == 0) return;
    // Most items lose to the current k-th best: a vector comparison settles them. Equal scores
    // go on to the tie-break; a threshold that rises meanwhile is checked again below.
    const float threshold =
        heap_.size() == k_ ? heap_.front().score : -std::numeric_limits<float>::infinity();
    const uint32_t n =
        algorithms::kernels::indices_at_least(isa, scores, count, threshold, candidates);
    for (uint32_t c = 0; c < n; ++c) {
      const uint32_t j = candidates[c];
      const float s = scores[j];
      if (heap_.size() == k_ && s < heap_.front().score) continue;
      const uint32_t item = first + j;
      while (ex_ != ex_end_ && *ex_ < item) ++ex_;
      if (ex_ != ex_end_ && *ex_ == item) continue;
      const Scored cand{item, s};
      if (heap_.size() < k_) {
        heap_.push_back(cand);
        std::push_heap(heap_.begin(), heap_.end(), Better{raw_});
      } else if (Better{raw_}(cand, heap_.front())) {
        std::pop_heap(heap_.begin(), heap_.end(), Better{raw_});
        heap_.back() = cand;
        std::push_heap(heap_.begin(), heap_.end(), Better{raw_});
      }
    }
  }

  std::vector<Scored> take() {
    std::sort_heap(heap_.begin(), heap_.end(), Better{raw_});
    return std::move(heap_);
  }

 private:
  // "a ranks before b". As a heap comparator it keeps the worst kept item on top.
  struct Better {
    const std::vector<int64_t>* raw;
    bool operator()(const Scored& a, const Scored& b) const {
      if (a.score != b.score) return a.score > b.score;
      return (*raw)[a.item] < (*raw)[b.item];
    }
  };
  size_t k_;
  const std::vector<int64_t>* raw_;
  std::vector<Scored> heap_;
  const uint32_t* ex_ = nullptr;
  const uint32_t* ex_end_ = nullptr;
};

}  // namespace

TopN::TopN(const algorithms::Model& model) : model_(model), isa_(algorithms::active_isa()) {}

void TopN::score_range(std::span<const uint32_t> users, uint32_t first, uint32_t count, float* out,
                       size_t ld) const {
  model_.score_block(users, first, count, out, ld);
}

void TopN::score_all(int64_t user, std::span<float> out) const {
  const std::span<float> outs[1] = {out};
  score_tile(std::span<const int64_t>(&user, 1), outs);
}

void TopN::score_tile(std::span<const int64_t> users, std::span<const std::span<float>> out) const {
  const auto& m = model_;
  const uint32_t ni = m.n_items();
  if (users.empty() || out.size() != users.size()) {
    throw Error(ErrorKind::kInternal,
                fmt::format("score_tile: {} users, {} outputs", users.size(), out.size()));
  }
  std::vector<uint32_t> known(users.size());
  std::vector<size_t> slot(users.size());
  size_t n_known = 0;
  for (size_t t = 0; t < users.size(); ++t) {
    if (out[t].size() != ni) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("score buffer has {} slots for {} items", out[t].size(), ni));
    }
    if (users[t] >= static_cast<int64_t>(m.n_users())) {
      throw Error(ErrorKind::kInternal, fmt::format("model user {} out of range", users[t]));
    }
    if (users[t] >= 0) {
      known[n_known] = static_cast<uint32_t>(users[t]);
      slot[n_known++] = t;
    } else {
      m.score_unknown_user(0, ni, out[t].data());  // the model's fallback, estimate(-1, i)
    }
  }
  if (n_known == 0 || ni == 0) return;
  std::vector<float> buf(n_known * size_t{kItemBlock});
  for (uint32_t first = 0; first < ni; first += kItemBlock) {
    const uint32_t count = std::min(kItemBlock, ni - first);
    score_range(std::span<const uint32_t>(known.data(), n_known), first, count, buf.data(),
                kItemBlock);
    for (size_t s = 0; s < n_known; ++s) {
      std::copy_n(buf.data() + s * kItemBlock, count, out[slot[s]].data() + first);
    }
  }
}

std::vector<Scored> TopN::select(std::span<const float> scores, size_t k,
                                 std::span<const uint32_t> excluded) const {
  Selector sel(k, model_.items.raw_ids());
  sel.reset(excluded);
  std::vector<uint32_t> candidates(scores.size());
  sel.offer(isa_, scores.data(), 0, static_cast<uint32_t>(scores.size()), candidates.data());
  return sel.take();
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

std::vector<std::vector<Scored>> top_n_all_users(const algorithms::Model& model, size_t k,
                                                 int threads, Progress* work) {
  const TopN top(model);
  const uint32_t nu = model.n_users(), ni = model.n_items();
  if (work) work->begin("top-n", nu, "users");
  std::vector<std::vector<Scored>> result(nu);
  if (nu == 0) return result;
  // User blocks are handed out in order; each result slot is written by exactly one thread, so
  // the output is the same for any thread count. Small data gets smaller blocks, so that every
  // thread has several.
  const int n_threads = resolve_threads(threads, static_cast<int>(nu));
  const uint32_t per_thread = (nu + 4 * n_threads - 1) / (4 * static_cast<uint32_t>(n_threads));
  const uint32_t user_block =
      std::clamp<uint32_t>((per_thread + kUserSubBlock - 1) / kUserSubBlock * kUserSubBlock,
                           kUserSubBlock, kMaxUserBlock);
  const uint32_t n_blocks = (nu + user_block - 1) / user_block;
  std::atomic<uint32_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::atomic_flag error_set = ATOMIC_FLAG_INIT;
  auto worker = [&] {
    try {
      std::vector<float> scores(kUserSubBlock * size_t{kItemBlock});
      std::vector<uint32_t> candidates(kItemBlock);
      const algorithms::Isa isa = algorithms::active_isa();
      std::vector<Selector> sel(user_block, Selector(k, model.items.raw_ids()));
      std::vector<uint32_t> users(user_block);
      while (!failed.load()) {
        if (work) work->check();
        const uint32_t b = next.fetch_add(1);
        if (b >= n_blocks) return;
        const uint32_t ub = b * user_block, ue = std::min(nu, ub + user_block);
        for (uint32_t u = ub; u < ue; ++u) {
          users[u - ub] = u;
          sel[u - ub].reset(model.rated_by(u));
        }
        for (uint32_t first = 0; first < ni; first += kItemBlock) {
          const uint32_t count = std::min(kItemBlock, ni - first);
          for (uint32_t sb = ub; sb < ue; sb += kUserSubBlock) {
            const uint32_t n = std::min(kUserSubBlock, ue - sb);
            top.score_range(std::span<const uint32_t>(users.data() + (sb - ub), n), first, count,
                            scores.data(), kItemBlock);
            for (uint32_t t = 0; t < n; ++t) {
              sel[sb - ub + t].offer(isa, scores.data() + size_t{t} * kItemBlock, first, count,
                                     candidates.data());
            }
          }
        }
        for (uint32_t u = ub; u < ue; ++u) result[u] = sel[u - ub].take();
        if (work) work->advance(ue - ub);
      }
    } catch (...) {
      failed.store(true);
      if (!error_set.test_and_set()) error = std::current_exception();
    }
  };
  run_on_threads(std::min<int>(n_threads, static_cast<int>(n_blocks)), worker);
  if (error) std::rethrow_exception(error);
  return result;
}

std::vector<Scored> top_n_for_user(const algorithms::Model& model, int64_t raw_user, size_t k,
                                   std::span<const int64_t> extra_exclude_raw_items) {
  return TopN(model).for_raw_user(raw_user, k, extra_exclude_raw_items);
}

}  // namespace reco::recommendation
