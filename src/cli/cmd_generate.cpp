// `reco generate movielens DIR`: a synthetic data set in the MovieLens layout.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/context.h"
#include "data/generator.h"

namespace reco::cli {

namespace {

struct GenerateArgs {
  std::string folder;
  data::GeneratorOptions options;
};

void run_generate(Context& ctx, const GenerateArgs& args) {
  data::GeneratorOptions options = args.options;
  const bool progress = ctx.progress_enabled();
  if (progress) {
    options.progress = [](uint64_t done, uint64_t total) {
      fmt::print(stderr, "\rgenerating ratings.csv: {:3}% ({} / {} ratings)",
                 total ? done * 100 / total : 100, done, total);
      std::fflush(stderr);
    };
  }
  const auto start = std::chrono::steady_clock::now();
  const data::GeneratorSummary summary = data::generate_movielens(args.folder, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) fmt::print(stderr, "\n");
  if (!ctx.options.quiet) {
    fmt::print(stderr,
               "generated {} ratings by {} users ({} to {} each) of {} movies (ids up to {}) "
               "in {:.1f} s\n",
               summary.ratings, summary.users, summary.min_user_ratings, summary.max_user_ratings,
               summary.items, summary.max_movie_id, seconds);
  }
  // The folder alone on stdout, so `reco load movielens "$(reco generate movielens ...)"` works.
  fmt::print("{}\n", summary.folder.string());
}

}  // namespace

void register_generate(Command& app, Context& ctx) {
  Command generate = app.add_subcommand(
      "generate", "Generate synthetic data sets for tests and benchmarks (no download needed)");
  generate.require_subcommand();

  auto args = std::make_shared<GenerateArgs>();
  Command ml = generate.add_subcommand(
      "movielens",
      "Write a synthetic data set in the MovieLens ml-latest-small layout (ratings.csv, "
      "movies.csv, README.txt) into DIR.\n"
      "Ratings follow a planted low-rank model (user and movie vectors plus biases plus noise), "
      "so a biased SVD beats a bias-only baseline on it; movie popularity is long-tailed, user "
      "activity heavy-tailed, ratings are half stars 0.5..5, movie ids have gaps, and some "
      "titles contain commas and double quotes. The same arguments and seed give byte-identical "
      "files. Prints DIR on stdout.\n"
      "Example: reco generate movielens /tmp/ml-25m-like --users 162541 --items 59047 "
      "--ratings 25000095");
  ml.option("DIR", args->folder, "Output folder (created if missing)").required();
  ml.option("--users", args->options.users, "Number of users (ids 1..N)").show_default();
  ml.option("--items", args->options.items, "Number of movies").show_default();
  ml.option("--ratings", args->options.ratings,
            "Exact number of ratings; at least --users, at most --users x --items")
      .show_default();
  ml.option("--seed", args->options.seed, "Random seed").show_default();
  ml.option("--rank", args->options.rank, "Dimension of the planted latent vectors").show_default();
  ml.option("--noise", args->options.noise_stddev,
            "Standard deviation of the rating noise before rounding to half stars")
      .show_default();
  ml.option("--zipf", args->options.item_zipf_exponent,
            "Zipf exponent s of movie popularity: the k-th most popular movie is drawn with "
            "weight 1/(k + offset)^s (0: uniform)")
      .show_default();
  ml.option("--zipf-offset", args->options.item_zipf_offset,
            "Zipf-Mandelbrot offset: larger values flatten the head of the popularity curve")
      .show_default();
  ml.option("--threads", args->options.threads,
            "Worker threads (0: one per core); the output does not depend on it")
      .show_default();
  ml.callback([&ctx, args] { run_generate(ctx, *args); });
}

}  // namespace reco::cli
