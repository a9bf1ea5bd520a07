#include "core/home.h"

#include <cstdlib>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"

namespace reco {
namespace fs = std::filesystem;

Home Home::resolve(const std::optional<std::string>& flag) {
  auto absolute = [](const fs::path& p) { return fs::absolute(p).lexically_normal(); };
  if (flag && !flag->empty()) return Home(absolute(*flag));
  if (const char* env = std::getenv("RECO_HOME"); env && *env) return Home(absolute(env));
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    return Home(absolute(fs::path(xdg) / "reco"), false);
  if (const char* home = std::getenv("HOME"); home && *home) {
    return Home(absolute(fs::path(home) / ".local" / "share" / "reco"), false);
  }
  throw Error(ErrorKind::kUsage, "cannot find a reco home: pass --home DIR or set RECO_HOME");
}

bool Home::exists() const {
  std::error_code ec;
  return fs::is_directory(root_, ec);
}

bool Home::prepare(bool create_missing) const {
  if (exists()) return false;
  if (explicit_ && !create_missing) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("the reco home {} does not exist (from --home or RECO_HOME): check the "
                            "path, or create it with `reco init --home {}` or reco's --create flag",
                            root_.string(), root_.string()));
  }
  create();
  return true;
}

void Home::create() const {
  ensure_directory(root_);
}

}  // namespace reco
