#include "data/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "core/random.h"
#include "temp_dir.h"

namespace reco::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

struct Rating {
  int64_t user;
  int64_t movie;
  std::string rating_text;
  double rating;
  int64_t timestamp;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t eol = text.find('\n', start);
    EXPECT_NE(eol, std::string::npos) << "last line has no LF";
    if (eol == std::string::npos) break;
    lines.push_back(text.substr(start, eol - start));
    start = eol + 1;
  }
  return lines;
}

std::vector<Rating> read_ratings(const fs::path& folder) {
  const std::string text = read_file(folder / "ratings.csv");
  EXPECT_EQ(text.find('\r'), std::string::npos) << "ratings.csv must use LF line ends";
  const auto lines = split_lines(text);
  EXPECT_FALSE(lines.empty());
  EXPECT_EQ(lines.at(0), "userId,movieId,rating,timestamp");
  std::vector<Rating> out;
  out.reserve(lines.size());
  for (size_t k = 1; k < lines.size(); ++k) {
    const std::string& line = lines[k];
    const size_t a = line.find(',');
    const size_t b = line.find(',', a + 1);
    const size_t c = line.find(',', b + 1);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos ||
        line.find(',', c + 1) != std::string::npos) {
      ADD_FAILURE() << "bad ratings line " << k + 1 << ": " << line;
      continue;
    }
    Rating r;
    r.user = std::stoll(line.substr(0, a));
    r.movie = std::stoll(line.substr(a + 1, b - a - 1));
    r.rating_text = line.substr(b + 1, c - b - 1);
    r.rating = std::stod(r.rating_text);
    r.timestamp = std::stoll(line.substr(c + 1));
    out.push_back(r);
  }
  return out;
}

// A strict RFC 4180 reader for one line of movies.csv (no embedded newlines are generated).
std::vector<std::string> parse_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t k = 0; k < line.size(); ++k) {
    const char c = line[k];
    if (quoted) {
      if (c == '"') {
        if (k + 1 < line.size() && line[k + 1] == '"') {
          fields.back() += '"';
          ++k;
        } else {
          quoted = false;
        }
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(fields.back().empty()) << "quote inside an unquoted field: " << line;
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote: " << line;
  return fields;
}

struct Movie {
  int64_t id;
  std::string title;
  std::string genres;
  std::string raw_line;
};

std::vector<Movie> read_movies(const fs::path& folder) {
  const auto lines = split_lines(read_file(folder / "movies.csv"));
  EXPECT_FALSE(lines.empty());
  EXPECT_EQ(lines.at(0), "movieId,title,genres");
  std::vector<Movie> out;
  for (size_t k = 1; k < lines.size(); ++k) {
    const auto fields = parse_csv_line(lines[k]);
    if (fields.size() != 3) {
      ADD_FAILURE() << "movies.csv line " << k + 1 << " has " << fields.size()
                    << " fields: " << lines[k];
      continue;
    }
    out.push_back({std::stoll(fields[0]), fields[1], fields[2], lines[k]});
  }
  return out;
}

GeneratorOptions small_options() {
  GeneratorOptions o;
  o.users = 300;
  o.items = 400;
  o.ratings = 20000;
  o.seed = 7;
  return o;
}

TEST(Generator, SameSeedGivesByteIdenticalFilesWhateverTheThreadCount) {
  TempDir tmp;
  // More than one internal chunk (2^18 ratings), so the threads really share the work.
  GeneratorOptions o;
  o.users = 3000;
  o.items = 2000;
  o.ratings = 600'000;
  o.seed = 1234;
  o.threads = 1;
  generate_movielens(tmp.path() / "a", o);
  o.threads = 3;
  generate_movielens(tmp.path() / "b", o);
  for (const char* file : {"ratings.csv", "movies.csv", "README.txt"}) {
    const std::string a = read_file(tmp.path() / "a" / file);
    const std::string b = read_file(tmp.path() / "b" / file);
    EXPECT_FALSE(a.empty()) << file;
    EXPECT_TRUE(a == b) << file << " differs between runs with the same seed";
  }
  o.seed = 1235;
  generate_movielens(tmp.path() / "c", o);
  EXPECT_NE(read_file(tmp.path() / "a" / "ratings.csv"),
            read_file(tmp.path() / "c" / "ratings.csv"));
  EXPECT_NE(read_file(tmp.path() / "a" / "movies.csv"), read_file(tmp.path() / "c" / "movies.csv"));
}

TEST(Generator, WritesExactlyTheRequestedRatingsWithValidValues) {
  TempDir tmp;
  const GeneratorOptions o = small_options();
  const GeneratorSummary summary = generate_movielens(tmp.path(), o);
  EXPECT_EQ(summary.ratings, o.ratings);
  EXPECT_EQ(summary.folder, tmp.path());

  const auto ratings = read_ratings(tmp.path());
  ASSERT_EQ(ratings.size(), o.ratings);
  const auto movies = read_movies(tmp.path());
  ASSERT_EQ(movies.size(), o.items);

  std::unordered_set<int64_t> movie_ids;
  for (const auto& m : movies)
    EXPECT_TRUE(movie_ids.insert(m.id).second) << "duplicate movie " << m.id;

  std::set<std::pair<int64_t, int64_t>> pairs;
  std::map<int64_t, uint64_t> per_user;
  std::set<std::string> rating_texts;
  int64_t previous_user = 0;
  int64_t previous_time = 0;
  for (const auto& r : ratings) {
    EXPECT_TRUE(pairs.insert({r.user, r.movie}).second)
        << "pair (" << r.user << ", " << r.movie << ") rated twice";
    EXPECT_TRUE(movie_ids.count(r.movie)) << "rating for unknown movie " << r.movie;
    EXPECT_GE(r.user, 1);
    EXPECT_LE(r.user, static_cast<int64_t>(o.users));
    EXPECT_GE(r.user, previous_user) << "ratings.csv must be sorted by user";
    if (r.user == previous_user) {
      EXPECT_GT(r.timestamp, previous_time) << "timestamps must increase per user " << r.user;
    }
    previous_user = r.user;
    previous_time = r.timestamp;
    EXPECT_GE(r.rating, 0.5);
    EXPECT_LE(r.rating, 5.0);
    EXPECT_EQ(r.rating * 2, std::floor(r.rating * 2)) << r.rating_text << " is not a half star";
    rating_texts.insert(r.rating_text);
    // Between 1996 and 2020.
    EXPECT_GE(r.timestamp, 820'000'000);
    EXPECT_LE(r.timestamp, 1'580'000'000);
    ++per_user[r.user];
  }
  // Every user rated, at least 5 times; the full half-star range is used.
  EXPECT_EQ(per_user.size(), o.users);
  for (const auto& [user, n] : per_user) EXPECT_GE(n, 5u) << "user " << user;
  EXPECT_EQ(rating_texts, (std::set<std::string>{"0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5",
                                                 "4.0", "4.5", "5.0"}));
  const auto [lo, hi] = std::minmax_element(per_user.begin(), per_user.end(),
                                            [](auto& a, auto& b) { return a.second < b.second; });
  EXPECT_EQ(summary.min_user_ratings, lo->second);
  EXPECT_EQ(summary.max_user_ratings, hi->second);
}

TEST(Generator, MovieIdsHaveGapsAndTitlesExerciseCsvQuoting) {
  TempDir tmp;
  GeneratorOptions o = small_options();
  o.items = 3000;
  generate_movielens(tmp.path(), o);
  const auto movies = read_movies(tmp.path());
  ASSERT_EQ(movies.size(), o.items);
  EXPECT_GT(movies.back().id, static_cast<int64_t>(o.items) + 100) << "ids should not be dense";
  for (size_t k = 1; k < movies.size(); ++k) EXPECT_LT(movies[k - 1].id, movies[k].id);

  const std::set<std::string> genre_list = {
      "Action",  "Adventure", "Animation", "Children", "Comedy", "Crime",   "Documentary",
      "Drama",   "Fantasy",   "Film-Noir", "Horror",   "IMAX",   "Musical", "Mystery",
      "Romance", "Sci-Fi",    "Thriller",  "War",      "Western"};
  size_t with_comma = 0, with_quote = 0, multi_genre = 0;
  for (const auto& m : movies) {
    EXPECT_EQ(m.title.rfind("Synthetic Movie " + std::to_string(m.id), 0), 0u) << m.title;
    EXPECT_EQ(m.title.back(), ')') << m.title;
    if (m.title.find(',') != std::string::npos) {
      ++with_comma;
      EXPECT_EQ(m.raw_line[m.raw_line.find(',') + 1], '"') << "unquoted comma: " << m.raw_line;
    }
    if (m.title.find('"') != std::string::npos) {
      ++with_quote;
      EXPECT_NE(m.raw_line.find("\"\""), std::string::npos) << "quote not doubled: " << m.raw_line;
    }
    if (m.genres == "(no genres listed)") continue;
    size_t start = 0, n = 0;
    while (true) {
      const size_t bar = m.genres.find('|', start);
      EXPECT_TRUE(genre_list.count(m.genres.substr(start, bar - start))) << m.genres;
      ++n;
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    if (n > 1) ++multi_genre;
  }
  EXPECT_GT(with_comma, 30u);
  EXPECT_GT(with_quote, 15u);
  EXPECT_GT(multi_genre, 300u);
}

TEST(Generator, PopularityAndActivityAreLongTailed) {
  TempDir tmp;
  GeneratorOptions o;
  o.users = 2000;
  o.items = 5000;
  o.ratings = 200'000;
  o.seed = 3;
  generate_movielens(tmp.path(), o);
  const auto ratings = read_ratings(tmp.path());
  std::unordered_map<int64_t, uint64_t> per_item, per_user;
  for (const auto& r : ratings) {
    ++per_item[r.movie];
    ++per_user[r.user];
  }
  std::vector<uint64_t> items(o.items, 0);  // unrated movies count as 0
  size_t k = 0;
  for (const auto& [movie, n] : per_item) items[k++] = n;
  std::sort(items.rbegin(), items.rend());
  const uint64_t top1 = std::accumulate(items.begin(), items.begin() + o.items / 100, uint64_t{0});
  // Uniform popularity would give the top 1% about 1% of the ratings; MovieLens gives ~15%.
  const double top_share = static_cast<double>(top1) / static_cast<double>(o.ratings);
  EXPECT_GT(top_share, 0.10) << "top 1% of movies hold only " << top_share << " of the ratings";
  EXPECT_LT(items[o.items / 2], items[0] / 20) << "the median movie should be far from the top";

  std::vector<uint64_t> users;
  for (const auto& [user, n] : per_user) users.push_back(n);
  std::sort(users.begin(), users.end());
  EXPECT_GE(users.front(), 5u);
  EXPECT_GT(users.back(), 8 * users[users.size() / 2]) << "user activity should be heavy-tailed";
}

// The planted low-rank structure must be learnable: a small biased SVD trained by SGD beats the
// best bias-only model on held-out ratings by a clear margin.
TEST(Generator, BiasedSvdClearlyBeatsBiasOnlyBaseline) {
  TempDir tmp;
  GeneratorOptions o;
  o.users = 1000;
  o.items = 600;
  o.ratings = 80'000;
  o.seed = 11;
  generate_movielens(tmp.path(), o);
  const auto ratings = read_ratings(tmp.path());

  std::unordered_map<int64_t, uint32_t> user_index, item_index;
  struct Triple {
    uint32_t u, i;
    float r;
  };
  std::vector<Triple> train, test;
  Rng split(99);
  for (const auto& r : ratings) {
    const uint32_t u = user_index.emplace(r.user, user_index.size()).first->second;
    const uint32_t i = item_index.emplace(r.movie, item_index.size()).first->second;
    (split.uniform() < 0.8 ? train : test).push_back({u, i, static_cast<float>(r.rating)});
  }
  const size_t nu = user_index.size(), ni = item_index.size();
  double mu = 0;
  for (const auto& t : train) mu += t.r;
  mu /= static_cast<double>(train.size());

  // Bias-only: alternating regularised least squares.
  std::vector<double> bu(nu, 0), bi(ni, 0);
  for (int it = 0; it < 15; ++it) {
    std::vector<double> sum(ni, 0), cnt(ni, 0);
    for (const auto& t : train) sum[t.i] += t.r - mu - bu[t.u], cnt[t.i] += 1;
    for (size_t i = 0; i < ni; ++i) bi[i] = sum[i] / (cnt[i] + 10);
    std::vector<double> su(nu, 0), cu(nu, 0);
    for (const auto& t : train) su[t.u] += t.r - mu - bi[t.i], cu[t.u] += 1;
    for (size_t u = 0; u < nu; ++u) bu[u] = su[u] / (cu[u] + 15);
  }
  auto rmse = [&](auto predict) {
    double se = 0;
    for (const auto& t : test) {
      const double e = t.r - std::clamp(predict(t), 0.5, 5.0);
      se += e * e;
    }
    return std::sqrt(se / static_cast<double>(test.size()));
  };
  const double baseline = rmse([&](const Triple& t) { return mu + bu[t.u] + bi[t.i]; });

  // Biased SVD by SGD.
  const int f = 10;
  Rng init(5);
  std::vector<double> p(nu * f), q(ni * f), su(nu, 0), si(ni, 0);
  for (auto& v : p) v = init.normal(0, 0.1);
  for (auto& v : q) v = init.normal(0, 0.1);
  for (int epoch = 0; epoch < 40; ++epoch) {
    for (const auto& t : train) {
      double dot = 0;
      for (int k = 0; k < f; ++k) dot += p[t.u * f + k] * q[t.i * f + k];
      const double e = t.r - (mu + su[t.u] + si[t.i] + dot);
      su[t.u] += 0.01 * (e - 0.05 * su[t.u]);
      si[t.i] += 0.01 * (e - 0.05 * si[t.i]);
      for (int k = 0; k < f; ++k) {
        const double pu = p[t.u * f + k], qi = q[t.i * f + k];
        p[t.u * f + k] += 0.01 * (e * qi - 0.05 * pu);
        q[t.i * f + k] += 0.01 * (e * pu - 0.05 * qi);
      }
    }
  }
  const double svd = rmse([&](const Triple& t) {
    double dot = 0;
    for (int k = 0; k < f; ++k) dot += p[t.u * f + k] * q[t.i * f + k];
    return mu + su[t.u] + si[t.i] + dot;
  });
  EXPECT_LT(svd, baseline - 0.08) << "svd " << svd << " vs baseline " << baseline;
}

TEST(Generator, FullMatrixAndTinyShapesWork) {
  TempDir tmp;
  GeneratorOptions o;
  o.users = 7;
  o.items = 9;
  o.ratings = 63;  // every user rates every movie
  generate_movielens(tmp.path() / "full", o);
  auto ratings = read_ratings(tmp.path() / "full");
  EXPECT_EQ(ratings.size(), 63u);
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (const auto& r : ratings) pairs.insert({r.user, r.movie});
  EXPECT_EQ(pairs.size(), 63u);

  o.users = 5;
  o.items = 1;
  o.ratings = 5;
  generate_movielens(tmp.path() / "one-movie", o);
  EXPECT_EQ(read_ratings(tmp.path() / "one-movie").size(), 5u);

  // Near-full and lopsided shapes, where most users hit the item count.
  for (const auto& [users, items, count] : std::vector<std::tuple<uint64_t, uint64_t, uint64_t>>{
           {13, 17, 13 * 17 - 3}, {50, 6, 290}, {3, 400, 1100}, {200, 12, 2000}}) {
    o.users = users;
    o.items = items;
    o.ratings = count;
    const fs::path folder = tmp.path() / ("shape-" + std::to_string(users));
    generate_movielens(folder, o);
    ratings = read_ratings(folder);
    EXPECT_EQ(ratings.size(), count) << users << "x" << items;
    pairs.clear();
    for (const auto& r : ratings) pairs.insert({r.user, r.movie});
    EXPECT_EQ(pairs.size(), count) << users << "x" << items;
  }

  // Fewer ratings than 5 per user: the minimum drops to what is possible, everyone still rates.
  o.users = 10;
  o.items = 50;
  o.ratings = 23;
  generate_movielens(tmp.path() / "sparse", o);
  ratings = read_ratings(tmp.path() / "sparse");
  EXPECT_EQ(ratings.size(), 23u);
  std::set<int64_t> users;
  for (const auto& r : ratings) users.insert(r.user);
  EXPECT_EQ(users.size(), 10u);
}

TEST(Generator, ReplacesOldFilesAndLeavesNoTemporaries) {
  TempDir tmp;
  write_file_atomic(tmp.path() / "ratings.csv", "old\n");
  write_file_atomic(tmp.path() / "notes.txt", "mine\n");
  generate_movielens(tmp.path(), small_options());
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.path())) names.insert(e.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{"movies.csv", "notes.txt", "ratings.csv", "README.txt"}));
  EXPECT_EQ(read_file(tmp.path() / "notes.txt"), "mine\n");
  EXPECT_NE(read_file(tmp.path() / "ratings.csv"), "old\n");
}

TEST(Generator, ReadmeSaysSyntheticAndRecordsTheParameters) {
  TempDir tmp;
  GeneratorOptions o = small_options();
  o.seed = 987654321;
  generate_movielens(tmp.path(), o);
  const std::string readme = read_file(tmp.path() / "README.txt");
  EXPECT_EQ(readme, generator_readme(o));
  EXPECT_NE(readme.find("SYNTHETIC"), std::string::npos);
  EXPECT_NE(readme.find("NOT MovieLens data"), std::string::npos);
  EXPECT_NE(readme.find("seed: 987654321"), std::string::npos);
  EXPECT_NE(readme.find("users: 300"), std::string::npos);
  EXPECT_NE(readme.find("ratings: 20000"), std::string::npos);
}

void expect_usage_error(const GeneratorOptions& o, const std::string& needle) {
  try {
    validate_generator_options(o);
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Generator, RejectsImpossibleArguments) {
  GeneratorOptions o = small_options();
  EXPECT_NO_THROW(validate_generator_options(o));

  o = small_options();
  o.users = 0;
  expect_usage_error(o, "--users must be at least 1, got 0");
  o = small_options();
  o.items = 0;
  expect_usage_error(o, "--items must be at least 1, got 0");
  o = small_options();
  o.ratings = 0;
  expect_usage_error(o, "--ratings must be at least 1, got 0");
  o = small_options();
  o.ratings = o.users * o.items + 1;
  expect_usage_error(o, "cannot exceed --users x --items (300 x 400 = 120000)");
  o = small_options();
  o.ratings = o.users - 1;
  expect_usage_error(o, "must be at least --users (300)");
  o = small_options();
  o.users = 1'000'000'000;
  expect_usage_error(o, "--users must be at most");
  o = small_options();
  o.items = 1'000'000'000;
  expect_usage_error(o, "--items must be at most");
  o = small_options();
  o.rank = 0;
  expect_usage_error(o, "--rank must be between 1 and 1000, got 0");
  o = small_options();
  o.noise_stddev = -1;
  expect_usage_error(o, "--noise");
  o = small_options();
  o.noise_stddev = std::nan("");
  expect_usage_error(o, "--noise");
  o = small_options();
  o.item_zipf_exponent = 100;
  expect_usage_error(o, "--zipf");
  o = small_options();
  o.item_zipf_offset = -1;
  expect_usage_error(o, "--zipf-offset");

  // generate_movielens validates before touching the disk.
  TempDir tmp;
  o = small_options();
  o.users = 0;
  EXPECT_THROW(generate_movielens(tmp.path() / "never", o), Error);
  EXPECT_FALSE(fs::exists(tmp.path() / "never"));
}

}  // namespace
}  // namespace reco::data
