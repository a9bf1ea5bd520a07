#pragma once
// Synthetic MovieLens-shaped data sets, for tests and benchmarks at any scale without the real
// files (which may not be redistributed). The output folder has the ml-latest-small layout:
//   ratings.csv  userId,movieId,rating,timestamp  (sorted by userId, then by timestamp)
//   movies.csv   movieId,title,genres             (CSV-quoted titles with commas and quotes)
//   README.txt   says the data is synthetic and records the parameters and seed
//
// The ratings follow a planted model, so that learning algorithms have something to find:
//   rating = quantise(mu + b_u + b_i + p_u . q_i + noise)
// with rank-`rank` latent vectors, long-tailed (Zipf) item popularity and heavy-tailed
// (log-normal) user activity. Same options and seed give byte-identical files, whatever the
// number of threads: every user draws from its own Rng stream.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace reco::data {

struct GeneratorOptions {
  uint64_t users = 610;
  uint64_t items = 9742;
  uint64_t ratings = 100836;
  uint64_t seed = 42;

  int rank = 10;                    // dimension of the planted user/item vectors
  double global_mean = 3.5;         // mu
  double user_bias_stddev = 0.4;    // b_u ~ N(0, .)
  double item_bias_stddev = 0.5;    // b_i ~ N(0, .)
  double interaction_stddev = 0.6;  // standard deviation of p_u . q_i
  double noise_stddev = 0.5;        // per-rating Gaussian noise before quantising
  // Popularity of the item at popularity rank k (0-based) ~ 1 / (k + 1 + offset)^s
  // (Zipf-Mandelbrot): the offset flattens the head, where every user would otherwise rate the
  // same few movies, while the exponent sets how thin the tail gets.
  double item_zipf_exponent = 1.4;
  double item_zipf_offset = 100.0;
  double user_activity_sigma = 1.2;    // log-normal sigma of the users' activity weights
  uint64_t min_ratings_per_user = 5;   // lowered to ratings / users when that is smaller
  double whole_star_user_share = 0.4;  // users who never give half stars, as in MovieLens

  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()

  // Called on the calling thread after each block of ratings is written; the last call has
  // done == total.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct GeneratorSummary {
  std::filesystem::path folder;
  uint64_t users = 0;
  uint64_t items = 0;
  uint64_t ratings = 0;
  uint64_t min_user_ratings = 0;  // the least active user's rating count
  uint64_t max_user_ratings = 0;
  int64_t max_movie_id = 0;
};

// Throws Error(kUsage) naming the offending parameter and value.
void validate_generator_options(const GeneratorOptions& options);

// Writes ratings.csv, movies.csv and README.txt into `folder` (created if missing; existing
// files of those names are replaced atomically, other files are left alone).
GeneratorSummary generate_movielens(const std::filesystem::path& folder,
                                    const GeneratorOptions& options);

// The README.txt text for these options (exposed so tests can check it names the seed).
std::string generator_readme(const GeneratorOptions& options);

}  // namespace reco::data
