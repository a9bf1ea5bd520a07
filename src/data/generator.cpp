#include "data/generator.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/random.h"

namespace reco::data {
namespace fs = std::filesystem;

namespace {

// Bump when the output for given options changes, so README.txt tells generations apart.
constexpr int kGeneratorVersion = 1;

// Rng streams. Users get kUserStreamBase + user index so each user's draws do not depend on
// which thread generates it or on the other users.
constexpr uint64_t kActivityStream = 1;
constexpr uint64_t kItemStream = 2;
constexpr uint64_t kMovieStream = 3;
constexpr uint64_t kUserStreamBase = uint64_t{1} << 32;

constexpr uint64_t kMaxUsers = 100'000'000;
constexpr uint64_t kMaxItems = 10'000'000;
constexpr int kMaxRank = 1000;

// Timestamps fall between the first MovieLens ratings (1996-03-29) and 2019-11-21.
constexpr int64_t kTimeBegin = 828'057'600;
constexpr int64_t kTimeEnd = 1'574'294'400;

constexpr uint64_t kChunkRatings = uint64_t{1} << 18;

// The MovieLens genre list, in the alphabetical order MovieLens writes them.
constexpr std::string_view kGenres[] = {
    "Action",  "Adventure", "Animation", "Children", "Comedy", "Crime",   "Documentary",
    "Drama",   "Fantasy",   "Film-Noir", "Horror",   "IMAX",   "Musical", "Mystery",
    "Romance", "Sci-Fi",    "Thriller",  "War",      "Western"};
constexpr size_t kGenreCount = std::size(kGenres);

// Streams bytes to `<path>.tmp-<pid>-<n>`; publish() renames it into place. Used instead of
// write_file_atomic because ratings.csv can be gigabytes and is produced piecewise, and because
// all three files are published together only after every one of them was written.
class PendingFile {
 public:
  explicit PendingFile(fs::path path) : path_(std::move(path)) {
    static std::atomic<uint64_t> counter{0};
    tmp_ = path_.string() + fmt::format(".tmp-{}-{}", ::getpid(), counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot create {}: {}", tmp_.string(), std::strerror(errno)));
    }
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!published_) ::unlink(tmp_.c_str());
  }

  void write(std::string_view bytes) {
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      const ssize_t w = ::write(fd_, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorKind::kIo,
                    fmt::format("cannot write {}: {}", tmp_.string(), std::strerror(errno)));
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
  }

  void finish() {
    const bool ok = ::fsync(fd_) == 0;
    const int err = errno;
    const bool closed = ::close(fd_) == 0;
    fd_ = -1;
    if (!ok || !closed) {
      throw Error(ErrorKind::kIo, fmt::format("cannot flush {}: {}", tmp_.string(),
                                              std::strerror(ok ? errno : err)));
    }
  }

  void publish() {
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      throw Error(ErrorKind::kIo, fmt::format("cannot rename {} to {}: {}", tmp_.string(),
                                              path_.string(), std::strerror(errno)));
    }
    published_ = true;
  }

 private:
  fs::path path_;
  fs::path tmp_;
  int fd_ = -1;
  bool published_ = false;
};

// Walker/Vose alias table: O(1) draws from a fixed discrete distribution.
class AliasTable {
 public:
  explicit AliasTable(const std::vector<double>& weights) {
    const size_t n = weights.size();
    prob_.assign(n, 1.0);
    alias_.resize(n);
    std::iota(alias_.begin(), alias_.end(), uint32_t{0});
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (size_t k = 0; k < n; ++k) {
      scaled[k] = weights[k] * static_cast<double>(n) / total;
      (scaled[k] < 1.0 ? small : large).push_back(static_cast<uint32_t>(k));
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back();
      small.pop_back();
      const uint32_t l = large.back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // Whatever is left is 1 up to rounding; prob_ already says 1 for those.
  }

  uint32_t draw(Rng& rng) const {
    const auto k = static_cast<uint32_t>(rng.below(prob_.size()));
    return rng.uniform() < prob_[k] ? k : alias_[k];
  }

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
};

// Everything about the items that all users share, built once from the item stream.
struct ItemModel {
  std::vector<int64_t> movie_ids;  // increasing, with gaps
  std::vector<double> popularity;  // Zipf weight of each item
  // One row per item: the bias, then the rank factors. Rows are visited in random order, so
  // keeping an item's numbers together costs one cache miss instead of two.
  size_t stride = 0;
  std::vector<float> rows;
};

ItemModel build_items(const GeneratorOptions& o) {
  const size_t n = o.items;
  const auto rank = static_cast<size_t>(o.rank);
  Rng rng(o.seed, kItemStream);
  ItemModel m;

  m.movie_ids.resize(n);
  int64_t id = 1 + static_cast<int64_t>(rng.below(3));
  for (size_t k = 0; k < n; ++k) {
    m.movie_ids[k] = id;
    int64_t gap = 1;
    const double u = rng.uniform();
    if (u < 0.01) {
      gap += 1 + static_cast<int64_t>(rng.below(200));
    } else if (u < 0.26) {
      gap += 1 + static_cast<int64_t>(rng.below(12));
    }
    id += gap;
  }

  // Popularity rank is a random permutation, so popularity says nothing about the id.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), uint32_t{0});
  rng.shuffle(order);
  m.popularity.resize(n);
  for (size_t r = 0; r < n; ++r) {
    m.popularity[order[r]] =
        std::pow(static_cast<double>(r) + 1.0 + o.item_zipf_offset, -o.item_zipf_exponent);
  }

  const double factor_sd = std::sqrt(o.interaction_stddev / std::sqrt(static_cast<double>(rank)));
  m.stride = rank + 1;
  m.rows.resize(n * m.stride);
  for (size_t k = 0; k < n; ++k) {
    float* row = &m.rows[k * m.stride];
    row[0] = static_cast<float>(rng.normal(0.0, o.item_bias_stddev));
    for (size_t f = 0; f < rank; ++f) row[1 + f] = static_cast<float>(rng.normal(0.0, factor_sd));
  }
  return m;
}

// How many ratings each user gives: at least `floor_count`, at most `items`, exactly `total`
// altogether, the rest shared out in proportion to log-normal activity weights (water-filling
// for users who would exceed the item count, largest remainders for the rounding).
std::vector<uint64_t> allocate_user_counts(const GeneratorOptions& o, uint64_t floor_count) {
  const size_t n = o.users;
  Rng rng(o.seed, kActivityStream);
  std::vector<double> weight(n);
  for (auto& w : weight) w = std::exp(rng.normal(0.0, o.user_activity_sigma));

  const uint64_t room = o.items - floor_count;  // most extra ratings one user can take
  const uint64_t extra_total = o.ratings - floor_count * o.users;
  std::vector<uint64_t> extra(n, 0);
  if (extra_total > 0) {
    std::vector<uint32_t> by_weight(n);
    std::iota(by_weight.begin(), by_weight.end(), uint32_t{0});
    std::stable_sort(by_weight.begin(), by_weight.end(),
                     [&](uint32_t a, uint32_t b) { return weight[a] > weight[b]; });
    // The users that hit the cap are the most active ones: a prefix of by_weight.
    double weight_left = std::accumulate(weight.begin(), weight.end(), 0.0);
    uint64_t extra_left = extra_total;
    size_t capped = 0;
    while (capped < n && extra_left > 0) {
      const double share =
          static_cast<double>(extra_left) * weight[by_weight[capped]] / weight_left;
      if (share < static_cast<double>(room)) break;
      extra[by_weight[capped]] = room;
      extra_left -= std::min(room, extra_left);
      weight_left -= weight[by_weight[capped]];
      ++capped;
    }
    // Summed afresh: the running differences above can cancel badly when most users are capped.
    weight_left = 0.0;
    for (size_t k = capped; k < n; ++k) weight_left += weight[by_weight[k]];
    std::vector<double> fraction(n, -1.0);
    uint64_t assigned = 0;
    for (size_t k = capped; k < n; ++k) {
      const uint32_t u = by_weight[k];
      const double share =
          weight_left > 0.0 ? static_cast<double>(extra_left) * weight[u] / weight_left : 0.0;
      const double whole = std::min(std::floor(share), static_cast<double>(room));
      extra[u] = static_cast<uint64_t>(whole);
      fraction[u] = share - whole;
      assigned += extra[u];
    }
    // Hand out (or take back) what rounding left over, largest fractions first. Mathematically
    // fewer than n units; the loop guards against floating-point drift as well.
    std::vector<uint32_t> by_fraction(n);
    std::iota(by_fraction.begin(), by_fraction.end(), uint32_t{0});
    std::stable_sort(by_fraction.begin(), by_fraction.end(),
                     [&](uint32_t a, uint32_t b) { return fraction[a] > fraction[b]; });
    int64_t diff = static_cast<int64_t>(extra_left) - static_cast<int64_t>(assigned);
    for (int pass = 0; diff != 0; ++pass) {
      if (pass > 1000) {
        throw Error(ErrorKind::kInternal, "generator: cannot share out the ratings among users");
      }
      for (uint32_t u : by_fraction) {
        if (diff > 0 && extra[u] < room) {
          ++extra[u];
          --diff;
        } else if (diff < 0 && extra[u] > 0 && fraction[u] >= 0.0) {
          --extra[u];
          ++diff;
        }
        if (diff == 0) break;
      }
    }
  }
  std::vector<uint64_t> counts(n);
  for (size_t k = 0; k < n; ++k) counts[k] = floor_count + extra[k];
  return counts;
}

// Per-thread scratch space, reused across users.
struct Scratch {
  std::vector<uint32_t> seen_stamp;  // item -> 1 + the last user who picked it (no clearing)
  std::vector<uint32_t> picked;
  std::vector<std::pair<double, uint32_t>> keys;
  std::vector<int64_t> gaps;
  std::vector<float> user_factors;
  char line[128];
};

// Draws `count` distinct items for one user, by popularity, in the order the user "rated" them
// (successive sampling without replacement). Rejection from the alias table is fast while the
// user's picks hold little of the popularity mass; past that the rest is drawn by exponential
// keys (Efraimidis-Spirakis), which continues the same sampling process exactly.
void pick_items(const ItemModel& items, const AliasTable& alias, uint64_t count, uint32_t stamp,
                Rng& rng, Scratch& s) {
  const size_t n = items.popularity.size();
  s.picked.clear();
  uint64_t rejections = 0;
  const uint64_t rejection_budget = 8 * count + 64;
  if (count * 2 <= n) {
    while (s.picked.size() < count && rejections < rejection_budget) {
      const uint32_t item = alias.draw(rng);
      if (s.seen_stamp[item] == stamp) {
        ++rejections;
        continue;
      }
      s.seen_stamp[item] = stamp;
      s.picked.push_back(item);
    }
  }
  if (s.picked.size() < count) {
    const size_t need = count - s.picked.size();
    s.keys.clear();
    for (size_t k = 0; k < n; ++k) {
      if (s.seen_stamp[k] == stamp) continue;
      double u = rng.uniform();
      while (u <= 0.0) u = rng.uniform();
      s.keys.emplace_back(-std::log(u) / items.popularity[k], static_cast<uint32_t>(k));
    }
    std::nth_element(s.keys.begin(), s.keys.begin() + static_cast<ptrdiff_t>(need - 1),
                     s.keys.end());
    std::sort(s.keys.begin(), s.keys.begin() + static_cast<ptrdiff_t>(need));
    for (size_t k = 0; k < need; ++k) {
      s.seen_stamp[s.keys[k].second] = stamp;
      s.picked.push_back(s.keys[k].second);
    }
  }
}

// Increasing timestamps: bursts of ratings seconds to minutes apart, separated by breaks of
// days to weeks; squeezed when a very active user would not fit in the time range.
void make_timestamps(uint64_t count, Rng& rng, std::vector<int64_t>& gaps, int64_t& start) {
  gaps.assign(count, 0);
  int64_t total = 0;
  for (uint64_t k = 1; k < count; ++k) {
    const double u = rng.uniform();
    double g;
    if (u < 0.05) {
      g = 3600.0 + -std::log(1.0 - rng.uniform()) * 30.0 * 86400.0;
    } else {
      g = 2.0 + -std::log(1.0 - rng.uniform()) * 40.0;
    }
    gaps[k] = static_cast<int64_t>(g);
    total += gaps[k];
  }
  const int64_t span = kTimeEnd - kTimeBegin;
  if (total > span / 2) {
    const double scale = static_cast<double>(span / 2) / static_cast<double>(total);
    total = 0;
    for (uint64_t k = 1; k < count; ++k) {
      gaps[k] = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(gaps[k]) * scale));
      total += gaps[k];
    }
  }
  start = kTimeBegin + static_cast<int64_t>(rng.below(static_cast<uint64_t>(span - total) + 1));
}

struct UserRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t ratings = 0;
};

class RatingsWriter {
 public:
  RatingsWriter(const GeneratorOptions& o, const ItemModel& items, const AliasTable& alias,
                const std::vector<uint64_t>& counts)
      : o_(o), items_(items), alias_(alias), counts_(counts) {}

  void generate(const UserRange& range, Scratch& s, std::string& out) const {
    out.clear();
    out.reserve(range.ratings * 28);
    const auto rank = static_cast<size_t>(o_.rank);
    const double factor_sd =
        std::sqrt(o_.interaction_stddev / std::sqrt(static_cast<double>(rank)));
    s.user_factors.resize(rank);
    for (uint64_t u = range.begin; u < range.end; ++u) {
      Rng rng(o_.seed, kUserStreamBase + u);
      const double user_bias = rng.normal(0.0, o_.user_bias_stddev);
      for (auto& f : s.user_factors) f = static_cast<float>(rng.normal(0.0, factor_sd));
      const bool whole_stars = rng.uniform() < o_.whole_star_user_share;
      const uint64_t count = counts_[u];
      pick_items(items_, alias_, count, static_cast<uint32_t>(u + 1), rng, s);
      int64_t when = 0;
      make_timestamps(count, rng, s.gaps, when);

      // Each number gets at most 20 characters (any 64-bit value), which keeps every write
      // within the 128-byte line provably.
      char* const line = s.line;
      const auto user_text = std::to_chars(line, line + 20, u + 1);
      *user_text.ptr = ',';
      char* const after_user = user_text.ptr + 1;
      for (uint64_t k = 0; k < count; ++k) {
        const uint32_t item = s.picked[k];
        const float* row = &items_.rows[item * items_.stride];
        double dot = 0.0;
        for (size_t f = 0; f < rank; ++f) {
          dot += static_cast<double>(s.user_factors[f]) * row[1 + f];
        }
        const double value =
            o_.global_mean + user_bias + row[0] + dot + rng.normal(0.0, o_.noise_stddev);
        int halves;  // the rating in half stars, 1..10
        if (whole_stars) {
          halves = 2 * std::clamp(static_cast<int>(std::floor(value + 0.5)), 1, 5);
        } else {
          halves = std::clamp(static_cast<int>(std::floor(2.0 * value + 0.5)), 1, 10);
        }
        when += s.gaps[k];

        char* p = std::to_chars(after_user, after_user + 20, items_.movie_ids[item]).ptr;
        *p++ = ',';
        *p++ = static_cast<char>('0' + halves / 2);
        *p++ = '.';
        *p++ = (halves % 2) ? '5' : '0';
        *p++ = ',';
        p = std::to_chars(p, p + 20, when).ptr;
        *p++ = '\n';
        out.append(line, static_cast<size_t>(p - line));
      }
    }
  }

 private:
  const GeneratorOptions& o_;
  const ItemModel& items_;
  const AliasTable& alias_;
  const std::vector<uint64_t>& counts_;
};

// Generates the user ranges on worker threads and writes them in order from the calling thread.
// At most `window` finished-but-unwritten chunks are kept, which bounds memory at any scale.
void write_ratings(const GeneratorOptions& o, const RatingsWriter& gen,
                   const std::vector<UserRange>& ranges, PendingFile& file) {
  unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, ranges.size()));
  const size_t window = 2 * static_cast<size_t>(threads);

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> buffers(ranges.size());
  std::vector<char> ready(ranges.size(), 0);
  size_t next = 0;
  size_t written = 0;
  bool stop = false;
  std::exception_ptr failure;

  auto worker = [&] {
    Scratch scratch;
    scratch.seen_stamp.assign(o.items, 0);
    try {
      while (true) {
        size_t chunk;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return stop || next >= ranges.size() || next < written + window; });
          if (stop || next >= ranges.size()) return;
          chunk = next++;
        }
        std::string out;
        gen.generate(ranges[chunk], scratch, out);
        {
          std::lock_guard lock(mu);
          buffers[chunk] = std::move(out);
          ready[chunk] = 1;
        }
        cv.notify_all();
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!failure) failure = std::current_exception();
      stop = true;
      cv.notify_all();
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  auto join_all = [&] {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : pool) t.join();
  };

  uint64_t done = 0;
  try {
    for (size_t c = 0; c < ranges.size(); ++c) {
      std::string chunk;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return ready[c] || failure; });
        if (failure) break;
        chunk = std::move(buffers[c]);
        written = c + 1;
      }
      cv.notify_all();
      file.write(chunk);
      done += ranges[c].ratings;
      if (o.progress) o.progress(done, o.ratings);
    }
  } catch (...) {
    join_all();
    throw;
  }
  join_all();
  if (failure) std::rethrow_exception(failure);
}

void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string movies_csv(const GeneratorOptions& o, const ItemModel& items) {
  Rng rng(o.seed, kMovieStream);
  std::string out = "movieId,title,genres\n";
  out.reserve(o.items * 64);
  std::string title;
  for (size_t k = 0; k < o.items; ++k) {
    const int64_t id = items.movie_ids[k];
    const int year =
        2019 - static_cast<int>(std::min(100.0, -std::log(1.0 - rng.uniform()) * 18.0));
    const double style = rng.uniform();
    // A few titles carry the characters that break naive CSV readers: commas (as in MovieLens'
    // "Matrix, The"), double quotes, and non-ASCII UTF-8.
    if (style < 0.04) {
      title = fmt::format("Synthetic Movie {}, The ({})", id, year);
    } else if (style < 0.06) {
      title = fmt::format("Synthetic Movie {}: \"Part {}\" ({})", id, 2 + rng.below(5), year);
    } else if (style < 0.07) {
      title = fmt::format("Synthetic Movie {}, \"Director's Cut\", Part {} ({})", id,
                          2 + rng.below(5), year);
    } else if (style < 0.08) {
      title = fmt::format("Synthetic Movie {}: Caf\u00e9 M\u00fcller ({})", id, year);
    } else {
      title = fmt::format("Synthetic Movie {} ({})", id, year);
    }
    char id_text[24];
    out.append(id_text,
               static_cast<size_t>(std::to_chars(id_text, id_text + 24, id).ptr - id_text));
    out += ',';
    append_csv_field(out, title);
    out += ',';
    if (rng.uniform() < 0.01) {
      out += "(no genres listed)";
    } else {
      size_t n_genres = 1;
      while (n_genres < 5 && rng.uniform() < 0.55) ++n_genres;
      bool chosen[kGenreCount] = {};
      for (size_t g = 0; g < n_genres;) {
        const size_t pick = rng.below(kGenreCount);
        if (!chosen[pick]) {
          chosen[pick] = true;
          ++g;
        }
      }
      bool first = true;
      for (size_t g = 0; g < kGenreCount; ++g) {
        if (!chosen[g]) continue;
        if (!first) out += '|';
        out += kGenres[g];
        first = false;
      }
    }
    out += '\n';
  }
  return out;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw Error(ErrorKind::kUsage, "generate: " + message);
}

bool finite_in(double v, double lo, double hi) {
  return std::isfinite(v) && v >= lo && v <= hi;
}

}  // namespace

void validate_generator_options(const GeneratorOptions& o) {
  require(o.users >= 1, fmt::format("--users must be at least 1, got {}", o.users));
  require(o.items >= 1, fmt::format("--items must be at least 1, got {}", o.items));
  require(o.ratings >= 1, fmt::format("--ratings must be at least 1, got {}", o.ratings));
  require(o.users <= kMaxUsers,
          fmt::format("--users must be at most {}, got {}", kMaxUsers, o.users));
  require(o.items <= kMaxItems,
          fmt::format("--items must be at most {}, got {}", kMaxItems, o.items));
  require(o.ratings >= o.users,
          fmt::format("--ratings ({}) must be at least --users ({}): every user rates at least "
                      "one movie",
                      o.ratings, o.users));
  // users * items fits in 64 bits given the limits above.
  require(o.ratings <= o.users * o.items,
          fmt::format("--ratings ({}) cannot exceed --users x --items ({} x {} = {}): each user "
                      "rates a movie at most once",
                      o.ratings, o.users, o.items, o.users * o.items));
  require(o.rank >= 1 && o.rank <= kMaxRank,
          fmt::format("--rank must be between 1 and {}, got {}", kMaxRank, o.rank));
  require(finite_in(o.global_mean, 0.5, 5.0),
          fmt::format("global mean must be between 0.5 and 5, got {}", o.global_mean));
  require(finite_in(o.user_bias_stddev, 0.0, 10.0),
          fmt::format("user bias stddev must be between 0 and 10, got {}", o.user_bias_stddev));
  require(finite_in(o.item_bias_stddev, 0.0, 10.0),
          fmt::format("item bias stddev must be between 0 and 10, got {}", o.item_bias_stddev));
  require(finite_in(o.interaction_stddev, 0.0, 10.0),
          fmt::format("interaction stddev must be between 0 and 10, got {}", o.interaction_stddev));
  require(finite_in(o.noise_stddev, 0.0, 10.0),
          fmt::format("--noise must be between 0 and 10, got {}", o.noise_stddev));
  require(finite_in(o.item_zipf_exponent, 0.0, 4.0),
          fmt::format("--zipf must be between 0 and 4, got {}", o.item_zipf_exponent));
  require(finite_in(o.item_zipf_offset, 0.0, 1e9),
          fmt::format("--zipf-offset must be between 0 and 1e9, got {}", o.item_zipf_offset));
  require(
      finite_in(o.user_activity_sigma, 0.0, 4.0),
      fmt::format("user activity sigma must be between 0 and 4, got {}", o.user_activity_sigma));
  require(finite_in(o.whole_star_user_share, 0.0, 1.0),
          fmt::format("whole-star user share must be between 0 and 1, got {}",
                      o.whole_star_user_share));
  require(o.threads <= 1024, fmt::format("--threads must be at most 1024, got {}", o.threads));
}

std::string generator_readme(const GeneratorOptions& o) {
  return fmt::format(
      "SYNTHETIC MovieLens-style data set\n"
      "==================================\n"
      "\n"
      "This is NOT MovieLens data. Every user, movie, title, genre, rating and timestamp here\n"
      "was made up by `reco generate movielens` (generator version {}), for testing and\n"
      "benchmarking. It has the layout of GroupLens' ml-latest-small:\n"
      "\n"
      "  ratings.csv  userId,movieId,rating,timestamp  sorted by userId, then by timestamp;\n"
      "               ratings 0.5..5 in half stars; each (userId, movieId) pair once\n"
      "  movies.csv   movieId,title,genres  one line per movie; titles with commas or double\n"
      "               quotes are enclosed in double quotes; genres joined with '|'\n"
      "\n"
      "Movie ids have gaps. Ratings follow a planted model:\n"
      "  rating = round_to_half_star(mu + b_user + b_movie + p_user . q_movie + noise)\n"
      "with Zipf-distributed movie popularity and log-normal user activity.\n"
      "\n"
      "Parameters\n"
      "----------\n"
      "users: {}\n"
      "items: {}\n"
      "ratings: {}\n"
      "seed: {}\n"
      "rank: {}\n"
      "global_mean: {}\n"
      "user_bias_stddev: {}\n"
      "item_bias_stddev: {}\n"
      "interaction_stddev: {}\n"
      "noise_stddev: {}\n"
      "item_zipf_exponent: {}\n"
      "item_zipf_offset: {}\n"
      "user_activity_sigma: {}\n"
      "min_ratings_per_user: {}\n"
      "whole_star_user_share: {}\n"
      "\n"
      "The same parameters and seed reproduce these files byte for byte:\n"
      "  reco generate movielens DIR --users {} --items {} --ratings {} --seed {} --rank {} "
      "--noise {} --zipf {} --zipf-offset {}\n",
      kGeneratorVersion, o.users, o.items, o.ratings, o.seed, o.rank, o.global_mean,
      o.user_bias_stddev, o.item_bias_stddev, o.interaction_stddev, o.noise_stddev,
      o.item_zipf_exponent, o.item_zipf_offset, o.user_activity_sigma, o.min_ratings_per_user,
      o.whole_star_user_share, o.users, o.items, o.ratings, o.seed, o.rank, o.noise_stddev,
      o.item_zipf_exponent, o.item_zipf_offset);
}

GeneratorSummary generate_movielens(const fs::path& folder, const GeneratorOptions& o) {
  validate_generator_options(o);
  ensure_directory(folder);

  const uint64_t floor_count =
      std::min({std::max<uint64_t>(o.min_ratings_per_user, 1), o.ratings / o.users, o.items});
  const std::vector<uint64_t> counts = allocate_user_counts(o, floor_count);
  const ItemModel items = build_items(o);
  const AliasTable alias(items.popularity);

  std::vector<UserRange> ranges;
  for (uint64_t u = 0; u < o.users;) {
    UserRange r{u, u, 0};
    while (r.end < o.users && (r.ratings < kChunkRatings || r.end == r.begin)) {
      r.ratings += counts[r.end++];
    }
    u = r.end;
    ranges.push_back(r);
  }

  PendingFile ratings_file(folder / "ratings.csv");
  ratings_file.write("userId,movieId,rating,timestamp\n");
  const RatingsWriter gen(o, items, alias, counts);
  write_ratings(o, gen, ranges, ratings_file);
  ratings_file.finish();

  PendingFile movies_file(folder / "movies.csv");
  movies_file.write(movies_csv(o, items));
  movies_file.finish();

  PendingFile readme_file(folder / "README.txt");
  readme_file.write(generator_readme(o));
  readme_file.finish();

  movies_file.publish();
  ratings_file.publish();
  readme_file.publish();

  GeneratorSummary summary;
  summary.folder = folder;
  summary.users = o.users;
  summary.items = o.items;
  summary.ratings = o.ratings;
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  summary.min_user_ratings = *lo;
  summary.max_user_ratings = *hi;
  summary.max_movie_id = items.movie_ids.back();
  return summary;
}

}  // namespace reco::data
