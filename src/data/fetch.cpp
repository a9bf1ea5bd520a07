#include "data/fetch.h"
#include "core/version.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"

namespace reco::data {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxChecksumFileBytes = 64 * 1024;
// Guards against archives that unpack to far more than any MovieLens release (ml-25m unpacks
// to about 1.2 GB).
constexpr uint64_t kMaxUnpackedBytes = uint64_t{64} << 30;
constexpr uint64_t kMaxArchiveEntries = 100'000;

void note(const FetchOptions& o, const std::string& message) {
  if (o.log) o.log(message);
}

// ---- MD5 -------------------------------------------------------------------------------------

class Md5 {
 public:
  Md5() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw Error(ErrorKind::kInternal, "OpenSSL: cannot initialise MD5");
    }
  }
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  ~Md5() { EVP_MD_CTX_free(ctx_); }

  void update(const void* data, size_t n) {
    if (EVP_DigestUpdate(ctx_, data, n) != 1) {
      throw Error(ErrorKind::kInternal, "OpenSSL: MD5 update failed");
    }
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, digest, &len) != 1) {
      throw Error(ErrorKind::kInternal, "OpenSSL: MD5 final failed");
    }
    std::string out;
    for (unsigned int k = 0; k < len; ++k) out += fmt::format("{:02x}", digest[k]);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

bool is_md5_hex(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "./dir/ml-latest-small.zip" names the same file as "ml-latest-small.zip".
bool names_file(std::string_view listed, std::string_view file_name) {
  listed = trim(listed);
  const size_t slash = listed.find_last_of('/');
  if (slash != std::string_view::npos) listed.remove_prefix(slash + 1);
  return listed == file_name;
}

// ---- HTTP ------------------------------------------------------------------------------------

void ensure_curl_initialised() {
  struct Global {
    Global() {
      if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        throw Error(ErrorKind::kInternal, "libcurl: global initialisation failed");
      }
    }
    ~Global() { curl_global_cleanup(); }
  };
  static Global global;
}

struct Transfer {
  const FetchOptions* options = nullptr;
  std::string_view what;
  std::function<void(const char*, size_t)> sink;
  std::exception_ptr failure;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  try {
    t->sink(data, size * n);
    return size * n;
  } catch (...) {
    t->failure = std::current_exception();
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  try {
    t->options->progress(t->what, static_cast<uint64_t>(now), static_cast<uint64_t>(total));
  } catch (...) {
    t->failure = std::current_exception();
    return 1;  // aborts the transfer
  }
  return 0;
}

enum class GetOutcome { kOk, kNotFound };

// GETs url, handing the body to sink. HTTP errors do not reach the sink. A missing file
// (404/410, 403 as object stores answer for missing keys, or an unreadable file:// path) is
// returned as kNotFound when allow_missing; every other failure throws.
GetOutcome http_get(const std::string& url, const FetchOptions& o, std::string_view what,
                    bool allow_missing, bool show_progress,
                    std::function<void(const char*, size_t)> sink) {
  ensure_curl_initialised();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error(ErrorKind::kInternal, "libcurl: cannot create a transfer");
  CURL* h = curl.get();

  Transfer t;
  t.options = &o;
  t.what = what;
  t.sink = std::move(sink);
  char error_text[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_seconds);
  // A stalled transfer (under 1 byte/s for a minute) fails instead of hanging forever.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  const std::string agent = std::string("reco/") + version();
  curl_easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  if (o.progress && show_progress) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  }

  const CURLcode rc = curl_easy_perform(h);
  if (t.failure) std::rethrow_exception(t.failure);
  if (rc == CURLE_OK) return GetOutcome::kOk;

  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (rc == CURLE_HTTP_RETURNED_ERROR) {
    const bool missing = status == 404 || status == 410 || status == 403;
    if (missing && allow_missing) return GetOutcome::kNotFound;
    if (status == 404 || status == 410) {
      throw Error(ErrorKind::kNotFound,
                  fmt::format("cannot download {}: the server answered HTTP {} (no such file; "
                              "check the data set name and --url)",
                              url, status));
    }
    throw Error(ErrorKind::kIo,
                fmt::format("cannot download {}: the server answered HTTP {}", url, status));
  }
  if (rc == CURLE_FILE_COULDNT_READ_FILE) {
    if (allow_missing) return GetOutcome::kNotFound;
    throw Error(ErrorKind::kNotFound, fmt::format("cannot download {}: no such file", url));
  }
  const std::string detail = error_text[0] ? fmt::format(" ({})", trim(error_text)) : "";
  throw Error(ErrorKind::kIo,
              fmt::format("cannot download {}: {}{}", url, curl_easy_strerror(rc), detail));
}

// ---- files -----------------------------------------------------------------------------------

class OutputFile {
 public:
  explicit OutputFile(const fs::path& path, int flags = O_TRUNC) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0644);
    if (fd_ < 0) {
      const int err = errno;
      throw Error(err == EEXIST ? ErrorKind::kCorrupt : ErrorKind::kIo,
                  fmt::format("cannot create {}: {}", path.string(), std::strerror(err)));
    }
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  void write(const void* data, size_t n) {
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorKind::kIo,
                    fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  void close(bool sync) {
    const bool synced = !sync || ::fsync(fd_) == 0;
    const int err = errno;
    const bool closed = ::close(fd_) == 0;
    fd_ = -1;
    if (!synced || !closed) {
      throw Error(ErrorKind::kIo, fmt::format("cannot flush {}: {}", path_.string(),
                                              std::strerror(synced ? errno : err)));
    }
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) {
    throw Error(ErrorKind::kIo, fmt::format("cannot rename {} to {}: {}", from.string(),
                                            to.string(), ec.message()));
  }
}

// ---- archives --------------------------------------------------------------------------------

using ArchivePtr = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

ArchivePtr open_zip(const fs::path& path) {
  ArchivePtr a(archive_read_new(), archive_read_free);
  if (!a) throw Error(ErrorKind::kInternal, "libarchive: cannot create a reader");
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw Error(ErrorKind::kCorrupt, fmt::format("cannot open archive {}: {}", path.string(),
                                                 archive_error_string(a.get())));
  }
  return a;
}

std::string entry_name(struct archive_entry* e) {
  if (const char* p = archive_entry_pathname(e)) return p;
  if (const char* p = archive_entry_pathname_utf8(e)) return p;
  return {};
}

const char* type_name(mode_t type) {
  switch (type) {
    case AE_IFLNK:
      return "a symbolic link";
    case AE_IFCHR:
      return "a character device";
    case AE_IFBLK:
      return "a block device";
    case AE_IFIFO:
      return "a named pipe";
    case AE_IFSOCK:
      return "a socket";
    default:
      return "not a regular file or folder";
  }
}

// Reads every entry and its data (so zip CRCs are checked); when dest is set, also writes
// them below dest after checking each name.
void walk_archive(const fs::path& archive_path, const fs::path* dest) {
  ArchivePtr a = open_zip(archive_path);
  const std::string where = archive_path.string();
  auto corrupt = [&](const std::string& entry, const std::string& why) {
    return Error(ErrorKind::kCorrupt, fmt::format("archive {}: entry '{}': {}", where, entry, why));
  };

  std::vector<char> buffer(1 << 16);
  uint64_t entries = 0;
  uint64_t total_bytes = 0;
  while (true) {
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      throw Error(ErrorKind::kCorrupt, fmt::format("archive {}: unreadable after {} entries: {}",
                                                   where, entries, archive_error_string(a.get())));
    }
    if (++entries > kMaxArchiveEntries) {
      throw Error(ErrorKind::kCorrupt,
                  fmt::format("archive {}: more than {} entries", where, kMaxArchiveEntries));
    }
    const std::string name = entry_name(e);
    if (name.empty()) throw corrupt(name, "the entry has no usable name");
    const mode_t type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e) != nullptr) throw corrupt(name, "hard links are not unpacked");
    if (type != AE_IFREG && type != AE_IFDIR) {
      throw corrupt(
          name, fmt::format("{}; only regular files and folders are unpacked", type_name(type)));
    }
    const std::optional<fs::path> rel = safe_archive_path(name);
    if (!rel) throw corrupt(name, "absolute paths and '..' components are not allowed");
    if (rel->empty() && type == AE_IFREG) throw corrupt(name, "a file needs a name");

    std::unique_ptr<OutputFile> out;
    if (dest && !rel->empty()) {
      const fs::path target = *dest / *rel;
      std::error_code ec;
      if (type == AE_IFDIR) {
        fs::create_directories(target, ec);
      } else {
        fs::create_directories(target.parent_path(), ec);
      }
      if (ec) {
        throw Error(ErrorKind::kIo, fmt::format("archive {}: cannot create {}: {}", where,
                                                target.string(), ec.message()));
      }
      // O_EXCL: an archive naming the same file twice is refused rather than half-overwritten.
      if (type == AE_IFREG) out = std::make_unique<OutputFile>(target, O_EXCL);
    }
    if (type != AE_IFREG) continue;
    while (true) {
      const la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n == 0) break;
      if (n < 0) throw corrupt(name, archive_error_string(a.get()));
      total_bytes += static_cast<uint64_t>(n);
      if (total_bytes > kMaxUnpackedBytes) {
        throw corrupt(name,
                      fmt::format("the archive unpacks to more than {} bytes", kMaxUnpackedBytes));
      }
      if (out) out->write(buffer.data(), static_cast<size_t>(n));
    }
    if (out) out->close(false);
  }
  if (entries == 0) {
    throw Error(ErrorKind::kCorrupt, fmt::format("archive {} has no entries", where));
  }
}

}  // namespace

// ---- public ----------------------------------------------------------------------------------

void validate_dataset_name(std::string_view name) {
  bool only_dots = true;
  bool ok = !name.empty() && name.size() <= 100;
  for (char c : name) {
    const bool allowed =
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    ok = ok && allowed;
    only_dots = only_dots && c == '.';
  }
  if (!ok || only_dots) {
    throw Error(ErrorKind::kUsage,
                fmt::format("fetch: invalid data set name '{}': use 1 to 100 letters, digits, "
                            "'-', '_' and '.', e.g. ml-latest-small",
                            name));
  }
}

std::string resolve_movielens_base_url(std::string_view flag) {
  std::string base(flag);
  if (base.empty()) {
    const char* env = std::getenv("RECO_MOVIELENS_URL");
    base = (env && *env) ? env : std::string(kDefaultMovielensBaseUrl);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.empty()) {
    throw Error(ErrorKind::kUsage,
                "fetch: --url must be a base address such as "
                "https://files.grouplens.org/datasets/movielens");
  }
  return base;
}

std::string parse_md5_file(std::string_view text, std::string_view file_name,
                           std::string_view source) {
  std::string bare;  // a digest on a line of its own
  size_t bare_count = 0;
  size_t named_count = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line.empty()) continue;

    // BSD: MD5 (name) = digest
    if (line.size() > 5 && lower(line.substr(0, 5)) == "md5 (") {
      const size_t close = line.rfind(')');
      if (close == std::string_view::npos || close < 5) continue;
      std::string_view rest = trim(line.substr(close + 1));
      if (rest.empty() || rest.front() != '=') continue;
      const std::string_view digest = trim(rest.substr(1));
      if (!is_md5_hex(digest)) continue;
      ++named_count;
      if (names_file(line.substr(5, close - 5), file_name)) return lower(digest);
      continue;
    }
    // GNU: digest [ *]name, or the digest alone
    const size_t space = line.find_first_of(" \t");
    const std::string_view digest = line.substr(0, space);
    if (!is_md5_hex(digest)) continue;
    if (space == std::string_view::npos) {
      bare = lower(digest);
      ++bare_count;
      continue;
    }
    std::string_view listed = trim(line.substr(space));
    if (!listed.empty() && listed.front() == '*') listed.remove_prefix(1);
    ++named_count;
    if (names_file(listed, file_name)) return lower(digest);
  }
  if (bare_count == 1 && named_count == 0) return bare;
  throw Error(ErrorKind::kCorrupt,
              fmt::format("checksum file {} has no MD5 for {} (expected a line like "
                          "'MD5 ({}) = <32 hex digits>' or '<32 hex digits>  {}')",
                          source, file_name, file_name, file_name));
}

std::string md5_file_hex(const fs::path& file) {
  std::unique_ptr<FILE, decltype(&std::fclose)> in(std::fopen(file.c_str(), "rb"), std::fclose);
  if (!in) {
    throw Error(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  }
  Md5 md5;
  std::vector<char> buffer(1 << 16);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), in.get())) > 0)
    md5.update(buffer.data(), n);
  if (std::ferror(in.get()))
    throw Error(ErrorKind::kIo, fmt::format("cannot read {}", file.string()));
  return md5.hex();
}

std::optional<fs::path> safe_archive_path(std::string_view entry_name) {
  if (entry_name.empty() || entry_name.front() == '/') return std::nullopt;
  fs::path out;
  while (!entry_name.empty()) {
    const size_t slash = entry_name.find('/');
    const std::string_view part = entry_name.substr(0, slash);
    entry_name =
        slash == std::string_view::npos ? std::string_view{} : entry_name.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    out /= fs::path(std::string(part));
  }
  return out;
}

void verify_archive(const fs::path& archive) {
  walk_archive(archive, nullptr);
}

void unpack_archive(const fs::path& archive, const fs::path& dest) {
  std::error_code ec;
  if (!fs::create_directory(dest, ec) || ec) {
    throw Error(ErrorKind::kIo, fmt::format("cannot create folder {}: {}", dest.string(),
                                            ec ? ec.message() : "it exists already"));
  }
  try {
    walk_archive(archive, &dest);
  } catch (...) {
    remove_quietly(dest);
    throw;
  }
}

FetchResult fetch_movielens(const fs::path& datasets_dir, const FetchOptions& o) {
  validate_dataset_name(o.name);
  const std::string base = resolve_movielens_base_url(o.base_url);
  const std::string zip_name = o.name + ".zip";
  const std::string zip_url = base + "/" + zip_name;
  const std::string md5_url = zip_url + ".md5";

  FetchResult result;
  result.folder = datasets_dir / o.name;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(result.folder, ec))) {
    if (!fs::is_directory(result.folder, ec)) {
      throw Error(
          ErrorKind::kConflict,
          fmt::format("{} exists and is not a folder; move it away first", result.folder.string()));
    }
    if (!o.force) {
      note(o, fmt::format("{} is already present (use --force to download it again)",
                          result.folder.string()));
      return result;
    }
  }
  ensure_directory(datasets_dir);

  // The checksum first: it is tiny, and a wrong base address shows up before a long download.
  std::string checksum_text;
  const GetOutcome md5_outcome =
      http_get(md5_url, o, zip_name + ".md5", true, false, [&](const char* data, size_t n) {
        if (checksum_text.size() + n > kMaxChecksumFileBytes) {
          throw Error(ErrorKind::kCorrupt, fmt::format("checksum file {} is larger than {} bytes",
                                                       md5_url, kMaxChecksumFileBytes));
        }
        checksum_text.append(data, n);
      });
  std::string expected;
  if (md5_outcome == GetOutcome::kOk) {
    expected = parse_md5_file(checksum_text, zip_name, md5_url);
  } else {
    note(o, fmt::format("no checksum published at {}; the archive will be checked by reading "
                        "it end to end instead",
                        md5_url));
  }

  const fs::path part = datasets_dir / (zip_name + ".part");
  const fs::path zip = datasets_dir / zip_name;
  note(o, fmt::format("downloading {}", zip_url));
  std::string actual;
  try {
    OutputFile out(part);
    Md5 md5;
    http_get(zip_url, o, zip_name, false, true, [&](const char* data, size_t n) {
      out.write(data, n);
      md5.update(data, n);
    });
    out.close(true);
    actual = md5.hex();
    if (!expected.empty()) {
      if (actual != expected) {
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("checksum mismatch for {}: expected MD5 {} (from {}), got {}; "
                                "the download was deleted",
                                zip_url, expected, md5_url, actual));
      }
      result.verified_by = "md5";
    } else {
      verify_archive(part);
      result.verified_by = "archive check";
    }
    rename_or_throw(part, zip);
  } catch (...) {
    remove_quietly(part);
    throw;
  }
  note(o, result.verified_by == "md5"
              ? fmt::format("verified {} (MD5 {})", zip_name, actual)
              : fmt::format("verified {} by reading every entry (MD5 {})", zip_name, actual));

  // Unpack beside the final place so the renames below stay within one filesystem.
  const fs::path staging = datasets_dir / fmt::format(".{}.unpack-{}", o.name, ::getpid());
  const fs::path previous = datasets_dir / fmt::format(".{}.old-{}", o.name, ::getpid());
  remove_quietly(staging);
  try {
    unpack_archive(zip, staging);
  } catch (...) {
    remove_quietly(zip);  // verified but unusable (e.g. unsafe entries): keep nothing of it
    throw;
  }
  try {
    // GroupLens archives hold one top folder NAME/; anything else is taken as the data itself.
    fs::path content = staging;
    std::vector<fs::path> top;
    for (const auto& entry : fs::directory_iterator(staging)) top.push_back(entry.path());
    if (top.size() == 1 && fs::is_directory(fs::symlink_status(top[0]))) content = top[0];

    const bool replacing = fs::exists(fs::symlink_status(result.folder, ec));
    if (replacing) rename_or_throw(result.folder, previous);
    try {
      rename_or_throw(content, result.folder);
    } catch (...) {
      if (replacing) fs::rename(previous, result.folder, ec);
      throw;
    }
    if (replacing) remove_quietly(previous);
  } catch (...) {
    remove_quietly(staging);
    throw;
  }
  remove_quietly(staging);
  result.downloaded = true;
  note(o, fmt::format("unpacked into {}", result.folder.string()));
  return result;
}

}  // namespace reco::data
