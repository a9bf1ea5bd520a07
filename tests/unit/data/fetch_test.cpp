#include "data/fetch.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "temp_dir.h"

namespace reco::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

struct Entry {
  std::string name;
  std::string data;  // file contents, or the target of a symlink
  mode_t type = AE_IFREG;
};

// Builds a zip with libarchive, the way an attacker could: any names, any entry types.
void write_zip(const fs::path& path, const std::vector<Entry>& entries, bool store = false) {
  struct archive* a = archive_write_new();
  ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
  if (store) {
    ASSERT_EQ(archive_write_set_options(a, "zip:compression=store"), ARCHIVE_OK);
  }
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const auto& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.type == AE_IFDIR ? 0755 : 0644);
    if (e.type == AE_IFREG) archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.data.c_str());
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << archive_error_string(a);
    if (e.type == AE_IFREG && !e.data.empty()) {
      ASSERT_EQ(archive_write_data(a, e.data.data(), e.data.size()),
                static_cast<la_ssize_t>(e.data.size()));
    }
    archive_entry_free(entry);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

std::vector<Entry> good_dataset(const std::string& top) {
  return {{top + "/", "", AE_IFDIR},
          {top + "/ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.0,964982703\n"},
          {top + "/movies.csv", "movieId,title,genres\n10,\"Movie, The (1995)\",Drama\n"},
          {top + "/README.txt", "synthetic\n"}};
}

std::set<std::string> tree(const fs::path& root) {
  std::set<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out.insert(fs::relative(e.path(), root).string() + (e.is_directory() ? "/" : ""));
  }
  return out;
}

template <typename F>
Error expect_error(F&& f, ErrorKind kind) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(error_kind_name(e.kind()), std::string(error_kind_name(kind))) << e.what();
    return e;
  }
  ADD_FAILURE() << "expected an error of kind " << error_kind_name(kind);
  return Error(ErrorKind::kInternal, "none");
}

bool contains(const Error& e, const std::string& needle) {
  return std::string(e.what()).find(needle) != std::string::npos;
}

// ---- checksum files ----------------------------------------------------------------------------

constexpr const char* kDigest = "2e0a5a2d1d6b1b1c2d4f33f6a7ab5c4e";

TEST(ParseMd5File, AcceptsBsdAndGnuForms) {
  const std::string name = "ml-latest-small.zip";
  EXPECT_EQ(parse_md5_file(std::string("MD5 (ml-latest-small.zip) = ") + kDigest + "\n", name, "s"),
            kDigest);
  EXPECT_EQ(parse_md5_file(std::string(kDigest) + "  ml-latest-small.zip\n", name, "s"), kDigest);
  EXPECT_EQ(parse_md5_file(std::string(kDigest) + " *ml-latest-small.zip\r\n", name, "s"), kDigest);
  EXPECT_EQ(parse_md5_file(std::string(kDigest) + "  ./files/ml-latest-small.zip", name, "s"),
            kDigest);
  EXPECT_EQ(parse_md5_file(std::string(kDigest) + "\n", name, "s"), kDigest);  // digest alone
  // Uppercase hex is normalised.
  EXPECT_EQ(
      parse_md5_file("MD5 (ml-latest-small.zip) = 2E0A5A2D1D6B1B1C2D4F33F6A7AB5C4E", name, "s"),
      kDigest);
}

TEST(ParseMd5File, PicksTheLineForTheFileAmongOthers) {
  const std::string text = std::string("d41d8cd98f00b204e9800998ecf8427e  ml-25m.zip\n") + kDigest +
                           "  ml-latest-small.zip\n" +
                           "MD5 (ml-1m.zip) = 900150983cd24fb0d6963f7d28e17f72\n";
  EXPECT_EQ(parse_md5_file(text, "ml-latest-small.zip", "s"), kDigest);
  EXPECT_EQ(parse_md5_file(text, "ml-1m.zip", "s"), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(ParseMd5File, RejectsFilesWithoutADigestForTheName) {
  const auto e1 = expect_error(
      [] {
        parse_md5_file("<html><body>Not here</body></html>", "ml-x.zip", "http://h/ml-x.zip.md5");
      },
      ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e1, "http://h/ml-x.zip.md5")) << e1.what();
  EXPECT_TRUE(contains(e1, "ml-x.zip")) << e1.what();
  expect_error([] { parse_md5_file(std::string(kDigest) + "  other.zip\n", "ml-x.zip", "s"); },
               ErrorKind::kCorrupt);
  expect_error([] { parse_md5_file("MD5 (ml-x.zip) = 1234", "ml-x.zip", "s"); },
               ErrorKind::kCorrupt);
  expect_error([] { parse_md5_file("", "ml-x.zip", "s"); }, ErrorKind::kCorrupt);
  // Two bare digests: which one is meant is unclear.
  expect_error(
      [&] { parse_md5_file(std::string(kDigest) + "\n" + kDigest + "\n", "ml-x.zip", "s"); },
      ErrorKind::kCorrupt);
}

TEST(Md5FileHex, MatchesKnownDigests) {
  TempDir tmp;
  EXPECT_EQ(md5_file_hex(tmp.write("empty", "")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_file_hex(tmp.write("abc", "abc")), "900150983cd24fb0d6963f7d28e17f72");
  expect_error([&] { md5_file_hex(tmp.path() / "missing"); }, ErrorKind::kNotFound);
}

// ---- names and addresses -----------------------------------------------------------------------

TEST(DatasetName, AcceptsMovielensNamesOnly) {
  for (const char* ok : {"ml-latest-small", "ml-25m", "ml_1.0", "a"}) {
    EXPECT_NO_THROW(validate_dataset_name(ok)) << ok;
  }
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "a/b", "../etc", "ml latest", "ml%2e", "ml?x=1", std::string(101, 'a')}) {
    const auto e = expect_error([&] { validate_dataset_name(bad); }, ErrorKind::kUsage);
    EXPECT_TRUE(contains(e, "invalid data set name")) << e.what();
  }
}

TEST(BaseUrl, FlagThenEnvironmentThenDefault) {
  const char* saved = std::getenv("RECO_MOVIELENS_URL");
  const std::string saved_value = saved ? saved : "";
  ::unsetenv("RECO_MOVIELENS_URL");
  EXPECT_EQ(resolve_movielens_base_url(""), std::string(kDefaultMovielensBaseUrl));
  ::setenv("RECO_MOVIELENS_URL", "http://mirror.example/ml/", 1);
  EXPECT_EQ(resolve_movielens_base_url(""), "http://mirror.example/ml");
  EXPECT_EQ(resolve_movielens_base_url("http://127.0.0.1:8000//"), "http://127.0.0.1:8000");
  expect_error([] { resolve_movielens_base_url("/"); }, ErrorKind::kUsage);
  if (saved) {
    ::setenv("RECO_MOVIELENS_URL", saved_value.c_str(), 1);
  } else {
    ::unsetenv("RECO_MOVIELENS_URL");
  }
}

// ---- archives ----------------------------------------------------------------------------------

TEST(SafeArchivePath, RefusesEscapes) {
  EXPECT_EQ(safe_archive_path("ml/ratings.csv"), fs::path("ml/ratings.csv"));
  EXPECT_EQ(safe_archive_path("./ml//x/./y"), fs::path("ml/x/y"));
  EXPECT_EQ(safe_archive_path("ml/"), fs::path("ml"));
  EXPECT_EQ(safe_archive_path("./"), fs::path());
  EXPECT_EQ(safe_archive_path("ml/..data"), fs::path("ml/..data"));  // a name, not a component
  EXPECT_FALSE(safe_archive_path("../x"));
  EXPECT_FALSE(safe_archive_path("ml/../../x"));
  EXPECT_FALSE(safe_archive_path("ml/.."));
  EXPECT_FALSE(safe_archive_path("/etc/passwd"));
  EXPECT_FALSE(safe_archive_path(""));
}

TEST(UnpackArchive, UnpacksFilesAndFolders) {
  TempDir tmp;
  const fs::path zip = tmp.path() / "d.zip";
  write_zip(zip, good_dataset("ml-test"));
  EXPECT_NO_THROW(verify_archive(zip));
  unpack_archive(zip, tmp.path() / "out");
  EXPECT_EQ(tree(tmp.path() / "out"),
            (std::set<std::string>{"ml-test/", "ml-test/README.txt", "ml-test/movies.csv",
                                   "ml-test/ratings.csv"}));
  EXPECT_EQ(read_file(tmp.path() / "out/ml-test/movies.csv"),
            "movieId,title,genres\n10,\"Movie, The (1995)\",Drama\n");
  // The destination must be new.
  expect_error([&] { unpack_archive(zip, tmp.path() / "out"); }, ErrorKind::kIo);
}

TEST(UnpackArchive, RefusesDotDotEntriesAndWritesNothingOutside) {
  TempDir tmp;
  const fs::path zip = tmp.path() / "evil.zip";
  auto entries = good_dataset("ml-test");
  entries.push_back({"../x", "pwned\n"});
  write_zip(zip, entries);
  const fs::path dest = tmp.path() / "inner" / "out";
  fs::create_directories(dest.parent_path());
  const auto e = expect_error([&] { unpack_archive(zip, dest); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e, "'../x'")) << e.what();
  EXPECT_TRUE(contains(e, zip.string())) << e.what();
  EXPECT_FALSE(fs::exists(dest)) << "a refused archive must leave nothing behind";
  EXPECT_FALSE(fs::exists(tmp.path() / "inner" / "x"));
  EXPECT_FALSE(fs::exists(tmp.path() / "x"));

  write_zip(zip, {{"ml-test/../../y", "pwned\n"}});
  expect_error([&] { unpack_archive(zip, dest); }, ErrorKind::kCorrupt);
  EXPECT_FALSE(fs::exists(tmp.path() / "y"));
}

TEST(UnpackArchive, RefusesAbsolutePathsAndSymlinks) {
  TempDir tmp;
  const fs::path zip = tmp.path() / "evil.zip";
  const fs::path victim = tmp.path() / "victim.txt";
  write_zip(zip, {{victim.string(), "pwned\n"}});
  auto e = expect_error([&] { unpack_archive(zip, tmp.path() / "out"); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e, "absolute")) << e.what();
  EXPECT_FALSE(fs::exists(victim));
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));

  // A symlink followed by a file written "through" it would escape the destination.
  write_zip(zip, {{"ml/", "", AE_IFDIR},
                  {"ml/link", tmp.path().string(), AE_IFLNK},
                  {"ml/link/victim.txt", "pwned\n"}});
  e = expect_error([&] { unpack_archive(zip, tmp.path() / "out"); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e, "symbolic link")) << e.what();
  EXPECT_FALSE(fs::exists(victim));
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
  e = expect_error([&] { verify_archive(zip); }, ErrorKind::kCorrupt);
}

TEST(VerifyArchive, DetectsDamage) {
  TempDir tmp;
  const fs::path zip = tmp.path() / "d.zip";
  write_zip(zip,
            {{"ml/", "", AE_IFDIR},
             {"ml/data.csv", std::string(5000, 'x') + "MARKER" + std::string(5000, 'y')}},
            /*store=*/true);
  ASSERT_NO_THROW(verify_archive(zip));

  // Flip one byte of the stored data: the CRC no longer matches.
  std::string bytes = read_file(zip);
  const size_t at = bytes.find("MARKER");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'N';
  write_file_atomic(zip, bytes);
  auto e = expect_error([&] { verify_archive(zip); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e, "ml/data.csv")) << e.what();
  expect_error([&] { unpack_archive(zip, tmp.path() / "out"); }, ErrorKind::kCorrupt);
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));

  // Truncated, not a zip at all, empty.
  write_zip(zip, good_dataset("ml"));
  bytes = read_file(zip);
  write_file_atomic(zip, bytes.substr(0, bytes.size() / 2));
  expect_error([&] { verify_archive(zip); }, ErrorKind::kCorrupt);
  write_file_atomic(zip, "<html>404 Not Found</html>\n");
  expect_error([&] { verify_archive(zip); }, ErrorKind::kCorrupt);
  write_zip(zip, {});
  e = expect_error([&] { verify_archive(zip); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e, "no entries")) << e.what();
}

// ---- the whole fetch, from a file:// mirror ----------------------------------------------------

class FetchFromMirror : public ::testing::Test {
 protected:
  void SetUp() override {
    mirror_ = tmp_.path() / "mirror";
    datasets_ = tmp_.path() / "home" / "datasets";
    fs::create_directories(mirror_);
    write_zip(mirror_ / "ml-test.zip", good_dataset("ml-test"));
    digest_ = md5_file_hex(mirror_ / "ml-test.zip");
    write_file_atomic(mirror_ / "ml-test.zip.md5", "MD5 (ml-test.zip) = " + digest_ + "\n");
    options_.name = "ml-test";
    options_.base_url = "file://" + mirror_.string();
    options_.log = [this](std::string_view m) { log_.emplace_back(m); };
  }

  TempDir tmp_;
  fs::path mirror_, datasets_;
  std::string digest_;
  FetchOptions options_;
  std::vector<std::string> log_;
};

TEST_F(FetchFromMirror, DownloadsVerifiesAndUnpacks) {
  const FetchResult r = fetch_movielens(datasets_, options_);
  EXPECT_EQ(r.folder, datasets_ / "ml-test");
  EXPECT_TRUE(r.downloaded);
  EXPECT_EQ(r.verified_by, "md5");
  EXPECT_EQ(tree(datasets_),
            (std::set<std::string>{"ml-test/", "ml-test/README.txt", "ml-test/movies.csv",
                                   "ml-test/ratings.csv", "ml-test.zip"}));
  EXPECT_EQ(md5_file_hex(datasets_ / "ml-test.zip"), digest_);

  // Present: no download (the mirror is gone, so a download would fail).
  fs::remove_all(mirror_);
  const FetchResult again = fetch_movielens(datasets_, options_);
  EXPECT_FALSE(again.downloaded);
  EXPECT_EQ(again.folder, datasets_ / "ml-test");
}

TEST_F(FetchFromMirror, ForceReplacesTheFolder) {
  fetch_movielens(datasets_, options_);
  write_file_atomic(datasets_ / "ml-test" / "stale.txt", "x");
  options_.force = true;
  const FetchResult r = fetch_movielens(datasets_, options_);
  EXPECT_TRUE(r.downloaded);
  EXPECT_FALSE(fs::exists(datasets_ / "ml-test" / "stale.txt"));
  EXPECT_TRUE(fs::exists(datasets_ / "ml-test" / "ratings.csv"));
  EXPECT_EQ(tree(datasets_).size(), 5u) << "no staging folders left behind";
}

TEST_F(FetchFromMirror, ChecksumMismatchLeavesNothing) {
  write_file_atomic(mirror_ / "ml-test.zip.md5", "0123456789abcdef0123456789abcdef  ml-test.zip\n");
  const auto e = expect_error([&] { fetch_movielens(datasets_, options_); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e, "checksum mismatch")) << e.what();
  EXPECT_TRUE(contains(e, "0123456789abcdef0123456789abcdef")) << e.what();
  EXPECT_TRUE(contains(e, digest_)) << e.what();
  EXPECT_TRUE(tree(datasets_).empty()) << "left: " << *tree(datasets_).begin();
}

TEST_F(FetchFromMirror, MissingChecksumFallsBackToArchiveCheck) {
  fs::remove(mirror_ / "ml-test.zip.md5");
  const FetchResult r = fetch_movielens(datasets_, options_);
  EXPECT_EQ(r.verified_by, "archive check");
  EXPECT_TRUE(fs::exists(datasets_ / "ml-test" / "movies.csv"));
  bool noted = false;
  for (const auto& m : log_) noted = noted || m.find("no checksum published") != std::string::npos;
  EXPECT_TRUE(noted);

  // Without a checksum, a damaged archive is caught by reading it.
  fs::remove_all(datasets_);
  write_file_atomic(mirror_ / "ml-test.zip", "not a zip");
  expect_error([&] { fetch_movielens(datasets_, options_); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(tree(datasets_).empty());
}

TEST_F(FetchFromMirror, MissingArchiveIsNotFound) {
  options_.name = "ml-nothing";
  const auto e = expect_error([&] { fetch_movielens(datasets_, options_); }, ErrorKind::kNotFound);
  EXPECT_TRUE(contains(e, "ml-nothing.zip")) << e.what();
  EXPECT_FALSE(fs::exists(datasets_ / "ml-nothing"));
}

TEST_F(FetchFromMirror, EvilArchiveIsRefusedEvenWithAMatchingChecksum) {
  auto entries = good_dataset("ml-test");
  entries.push_back({"../escaped.txt", "pwned"});
  write_zip(mirror_ / "ml-test.zip", entries);
  write_file_atomic(mirror_ / "ml-test.zip.md5",
                    md5_file_hex(mirror_ / "ml-test.zip") + "  ml-test.zip\n");
  const auto e = expect_error([&] { fetch_movielens(datasets_, options_); }, ErrorKind::kCorrupt);
  EXPECT_TRUE(contains(e, "../escaped.txt")) << e.what();
  EXPECT_FALSE(fs::exists(datasets_ / "escaped.txt"));
  EXPECT_FALSE(fs::exists(datasets_.parent_path() / "escaped.txt"));
  EXPECT_TRUE(tree(datasets_).empty()) << "left: " << *tree(datasets_).begin();
}

TEST_F(FetchFromMirror, InvalidNameIsAUsageError) {
  options_.name = "../ml";
  expect_error([&] { fetch_movielens(datasets_, options_); }, ErrorKind::kUsage);
}

TEST(Fetch, UnreachableServerIsAnIoErrorNamingTheUrl) {
  TempDir tmp;
  FetchOptions o;
  o.name = "ml-test";
  // A port that was free a moment ago: bound, then closed, so nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  o.base_url = fmt::format("http://127.0.0.1:{}", ntohs(addr.sin_port));
  o.connect_timeout_seconds = 5;
  const auto e = expect_error([&] { fetch_movielens(tmp.path(), o); }, ErrorKind::kIo);
  EXPECT_TRUE(contains(e, o.base_url + "/ml-test.zip")) << e.what();
  EXPECT_FALSE(fs::exists(tmp.path() / "ml-test"));
}

}  // namespace
}  // namespace reco::data
