// Static files (route.h): a web page's assets, from a folder or compiled in.
#include <fmt/format.h>

#include "core/fs.h"
#include "core/hash.h"
#include "serving/routes.h"

namespace reco::serving {
namespace fs = std::filesystem;

namespace {

// Relative paths that are safe to look up: non-empty segments, none ".", ".." or hidden, no
// backslashes or NUL bytes.
bool safe_relative_path(std::string_view path) {
  if (path.empty() || path.size() > 1024) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment.front() == '.') return false;
    if (segment.find('\\') != std::string_view::npos ||
        segment.find('\0') != std::string_view::npos)
      return false;
    start = end + 1;
  }
  return true;
}

void answer_file(RouteContext&, RouteCall& call, Response& res, const StaticSource& source,
                 std::string_view relative) {
  const auto file = safe_relative_path(relative) ? source(relative) : std::nullopt;
  if (!file) {
    return send_error(res, 404,
                      fmt::format("no file {} here", std::string(relative).substr(0, 200)));
  }
  Fnv1a64 h;
  h.update(file->bytes.data(), file->bytes.size());
  const std::string etag = "\"" + hex64(h.digest()) + "\"";
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "no-cache");  // revalidate: cheap with the ETag
  res.set_header("X-Content-Type-Options", "nosniff");
  if (call.http.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(file->bytes, file->content_type);
}

}  // namespace

std::string content_type_for(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext)
      return std::string(type);
  }
  return "application/octet-stream";
}

std::vector<RouteSpec> static_routes(const std::string& prefix, StaticSource source,
                                     Access access) {
  RouteSpec index;
  index.method = "GET";
  index.pattern = prefix;
  index.access = access;
  index.handler = [source](RouteContext& ctx, RouteCall& call, Response& res) {
    answer_file(ctx, call, res, source, "index.html");
  };
  RouteSpec files = index;
  files.pattern = prefix + "/{*path}";
  files.handler = [source](RouteContext& ctx, RouteCall& call, Response& res) {
    answer_file(ctx, call, res, source, call.params.at(0));
  };
  return {std::move(index), std::move(files)};
}

StaticSource files_in_directory(fs::path dir) {
  return [dir = std::move(dir)](std::string_view relative) -> std::optional<StaticFile> {
    std::error_code ec;
    const fs::path root = fs::canonical(dir, ec);
    if (ec) return std::nullopt;
    const fs::path file = fs::weakly_canonical(root / fs::path(relative), ec);
    if (ec || !fs::is_regular_file(file, ec)) return std::nullopt;
    // Inside the folder, also after following links.
    const auto [r, f] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
    if (r != root.end()) return std::nullopt;
    try {
      return StaticFile{content_type_for(file.string()), read_file(file)};
    } catch (const Error&) {
      return std::nullopt;
    }
  };
}

StaticSource files_in_memory(std::map<std::string, StaticFile, std::less<>> files) {
  return [files = std::move(files)](std::string_view relative) -> std::optional<StaticFile> {
    const auto it = files.find(relative);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace reco::serving
