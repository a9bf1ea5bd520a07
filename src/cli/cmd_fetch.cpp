// `reco fetch movielens NAME`: download, verify and unpack a GroupLens MovieLens archive.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/context.h"
#include "data/fetch.h"

namespace reco::cli {

namespace {

struct FetchArgs {
  std::string name;
  std::string url;
  bool force = false;
  long connect_timeout = 30;
};

std::string human_bytes(uint64_t n) {
  if (n >= (uint64_t{1} << 30))
    return fmt::format("{:.1f} GiB", static_cast<double>(n) / (1 << 30));
  if (n >= (uint64_t{1} << 20))
    return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1 << 20));
  if (n >= 1024) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024);
  return fmt::format("{} B", n);
}

void run_fetch(Context& ctx, const FetchArgs& args) {
  data::FetchOptions options;
  options.name = args.name;
  options.base_url = args.url;
  options.force = args.force;
  options.connect_timeout_seconds = args.connect_timeout;
  const bool quiet = ctx.options.quiet;
  bool progress_line_open = false;
  auto end_progress_line = [&] {
    if (progress_line_open) fmt::print(stderr, "\n");
    progress_line_open = false;
  };
  if (!quiet) {
    options.log = [&](std::string_view message) {
      end_progress_line();
      fmt::print(stderr, "reco: {}\n", message);
    };
  }
  if (ctx.progress_enabled()) {
    auto last = std::chrono::steady_clock::time_point{};
    options.progress = [&, last](std::string_view what, uint64_t done, uint64_t total) mutable {
      const auto now = std::chrono::steady_clock::now();
      const bool finished = total > 0 && done == total;
      if (now - last < std::chrono::milliseconds(200) && !finished) return;
      last = now;
      if (total > 0) {
        fmt::print(stderr, "\r{}: {:3}% ({} of {})   ", what, done * 100 / total, human_bytes(done),
                   human_bytes(total));
      } else {
        fmt::print(stderr, "\r{}: {}   ", what, human_bytes(done));
      }
      std::fflush(stderr);
      progress_line_open = true;
    };
  }
  data::FetchResult result;
  try {
    result = data::fetch_movielens(ctx.home().datasets_dir(), options);
  } catch (...) {
    end_progress_line();
    throw;
  }
  end_progress_line();
  // The folder alone on stdout: `reco load movielens "$(reco fetch movielens ml-latest-small)"`.
  fmt::print("{}\n", result.folder.string());
}

}  // namespace

void register_fetch(Command& app, Context& ctx) {
  Command fetch = app.add_subcommand("fetch", "Download public data sets into <home>/datasets");
  fetch.require_subcommand();

  auto args = std::make_shared<FetchArgs>();
  Command ml = fetch.add_subcommand(
      "movielens",
      "Download a MovieLens archive from GroupLens (BASE/NAME.zip), verify it against the "
      "published BASE/NAME.zip.md5 (or, when none is published, by reading the whole archive), "
      "and unpack it into <home>/datasets/NAME. Prints that folder on stdout, so\n"
      "  reco load movielens \"$(reco fetch movielens ml-latest-small)\"\n"
      "fetches and loads in one line. A data set already present is not downloaded again "
      "unless --force is given.\n"
      "Names: ml-latest-small (1 MB), ml-25m (250 MB), ml-latest, ml-1m, ml-100k, ...");
  ml.option("NAME", args->name, "Data set name, e.g. ml-latest-small").required();
  ml.option("--url", args->url,
            "Base address holding NAME.zip and NAME.zip.md5 (http, https or file; default: "
            "$RECO_MOVIELENS_URL, else " +
                std::string(data::kDefaultMovielensBaseUrl) + ")");
  ml.flag("--force", args->force, "Download and unpack again even if already present");
  ml.option("--connect-timeout", args->connect_timeout, "Seconds to wait for the server to answer")
      .show_default()
      .range(1, 3600);
  ml.callback([&ctx, args] { run_fetch(ctx, *args); });
}

}  // namespace reco::cli
