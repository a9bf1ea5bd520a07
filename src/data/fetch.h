#pragma once
// Downloading GroupLens MovieLens archives: `reco fetch movielens NAME`.
//
//   1. GET BASE/NAME.zip.md5 (GroupLens publishes one beside every archive). A 404/403/410
//      means "no checksum published": the archive is then checked by reading it end to end
//      (zip CRCs) instead.
//   2. GET BASE/NAME.zip into <datasets>/NAME.zip.part, hashing it (MD5) as it arrives; compare;
//      rename to NAME.zip.
//   3. Unpack into a temporary folder under <datasets> (regular files and folders only, no
//      absolute paths, no `..`), then rename the archive's top folder to <datasets>/NAME.
// Nothing is left under <datasets>/NAME unless every step succeeded. The verified NAME.zip stays
// beside the folder (for checking with md5sum later; deleting it is harmless).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace reco::data {

constexpr std::string_view kDefaultMovielensBaseUrl =
    "https://files.grouplens.org/datasets/movielens";

struct FetchOptions {
  std::string name;      // e.g. "ml-latest-small"
  std::string base_url;  // empty: $RECO_MOVIELENS_URL, else kDefaultMovielensBaseUrl
  bool force = false;    // download again even if <datasets>/NAME exists
  long connect_timeout_seconds = 30;
  // Transfer progress (total 0 when the server did not say); called often, from this thread.
  std::function<void(std::string_view what, uint64_t done, uint64_t total)> progress;
  // One-line notes for the user (what is happening, fallbacks taken).
  std::function<void(std::string_view message)> log;
};

struct FetchResult {
  std::filesystem::path folder;  // <datasets>/NAME
  bool downloaded = false;       // false: it was there already
  std::string verified_by;       // "md5", "archive check", or empty when not downloaded
};

FetchResult fetch_movielens(const std::filesystem::path& datasets_dir, const FetchOptions& options);

// Throws Error(kUsage) unless name is 1..100 of [A-Za-z0-9._-] and not only dots.
void validate_dataset_name(std::string_view name);

// options.base_url, else $RECO_MOVIELENS_URL, else the GroupLens address; no trailing '/'.
std::string resolve_movielens_base_url(std::string_view flag);

// The lowercase hex digest for `file_name` in a checksum file, in either of the usual forms
//   MD5 (ml-latest-small.zip) = 2e0a5a2d...        (BSD md5)
//   2e0a5a2d...  ml-latest-small.zip                (md5sum; also "*name", or the digest alone)
// Throws Error(kCorrupt) naming `source` when there is no such line.
std::string parse_md5_file(std::string_view text, std::string_view file_name,
                           std::string_view source);

// Lowercase hex MD5 of a file's contents (OpenSSL EVP).
std::string md5_file_hex(const std::filesystem::path& file);

// Reads every entry of a zip archive to the end, so the CRCs are checked. Throws
// Error(kCorrupt) naming the archive and the entry.
void verify_archive(const std::filesystem::path& archive);

// The entry name as a relative path with "." and empty components dropped, or nullopt when it is
// absolute or has a `..` component (either could write outside the destination).
std::optional<std::filesystem::path> safe_archive_path(std::string_view entry_name);

// Unpacks `archive` into `dest` (which must not exist yet; created), refusing absolute paths,
// `..` components and anything but regular files and folders. On error `dest` is removed and
// Error(kCorrupt) names the archive and the entry.
void unpack_archive(const std::filesystem::path& archive, const std::filesystem::path& dest);

}  // namespace reco::data
