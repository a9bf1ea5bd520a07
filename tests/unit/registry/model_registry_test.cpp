#include "registry/model_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "registry/artifact.h"
#include "test_models.h"

namespace reco::registry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::random_model;
using testing::TempDir;

template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a reco::Error";
  return Error(ErrorKind::kInternal, "no error");
}

json metadata_with_cv(double rmse, double mae) {
  return json{{"algorithm", "svd"},
              {"created_at", "2024-03-04T05:06:07Z"},
              {"cv",
               {{"folds", 2},
                {"rmse", {rmse - 0.1, rmse + 0.1}},
                {"mae", {mae, mae}},
                {"mean", {{"rmse", rmse}, {"mae", mae}}}}}};
}

class RegistryTest : public ::testing::Test {
 protected:
  TempDir home_;
  ModelRegistry registry_{home_.path() / "models"};

  Version publish(const std::string& name, uint64_t seed = 1) {
    const Version v = registry_.reserve_version(name);
    registry_.publish(v, random_model(seed, {5, 6, 2}), metadata_with_cv(0.9, 0.7),
                      json{{"job_id", "job-" + std::to_string(v.number)}});
    return v;
  }
};

TEST(ModelName, Validation) {
  for (const char* good : {"a", "Z", "7", "movielens-model-v1", "A.b_c-9", "x..y", "v1"}) {
    EXPECT_TRUE(ModelRegistry::is_valid_name(good)) << good;
    EXPECT_NO_THROW(ModelRegistry::validate_name(good));
  }
  EXPECT_TRUE(ModelRegistry::is_valid_name(std::string(128, 'm')));
  for (const std::string& bad :
       {std::string(), std::string(".hidden"), std::string("-x"), std::string("_x"),
        std::string("a/b"), std::string("a b"), std::string(".."), std::string(129, 'm'),
        std::string("caf\xc3\xa9"), std::string("a\n"), std::string("a:b"),
        std::string("a\0b", 3)}) {
    EXPECT_FALSE(ModelRegistry::is_valid_name(bad)) << bad;
    const Error e = error_of([&] { ModelRegistry::validate_name(bad); });
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("invalid model name '"));
    EXPECT_THAT(e.what(), HasSubstr("[A-Za-z0-9][A-Za-z0-9._-]{0,127}"));
  }
  EXPECT_THAT(error_of([] { ModelRegistry::validate_name("a b"); }).what(), HasSubstr("'a b'"));
  EXPECT_THAT(error_of([] { ModelRegistry::validate_name("a\nb"); }).what(),
              HasSubstr("'a\\x0ab'"));
}

TEST_F(RegistryTest, VersionsStartAtOneAndIncrement) {
  const Version a1 = registry_.reserve_version("alpha");
  const Version a2 = registry_.reserve_version("alpha");
  const Version b1 = registry_.reserve_version("beta");
  EXPECT_EQ(a1.number, 1);
  EXPECT_EQ(a2.number, 2);
  EXPECT_EQ(b1.number, 1);
  EXPECT_EQ(a1.name, "alpha");
  EXPECT_EQ(a2.dir, home_.path() / "models" / "alpha" / "v2");
  EXPECT_TRUE(fs::is_directory(a2.dir));
  EXPECT_EQ(a2.artifact_path(), a2.dir / "model.reco");
  EXPECT_EQ(a2.run_info_path(), a2.dir / "run.json");
  // A stray higher directory (another process, a restored backup) is skipped over.
  fs::create_directories(home_.path() / "models" / "alpha" / "v7");
  fs::create_directories(home_.path() / "models" / "alpha" / "v07-not-a-version");
  EXPECT_EQ(registry_.reserve_version("alpha").number, 8);
  EXPECT_THROW(registry_.reserve_version("bad name"), Error);
}

TEST_F(RegistryTest, ConcurrentReservationsFromThreadsAreDistinct) {
  constexpr int kThreads = 8, kEach = 25;
  std::mutex mu;
  std::vector<int> numbers;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < kEach; ++k) {
        const int n = registry_.reserve_version("shared").number;
        std::lock_guard lock(mu);
        numbers.push_back(n);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(numbers.begin(), numbers.end());
  ASSERT_EQ(numbers.size(), size_t{kThreads * kEach});
  for (int k = 0; k < kThreads * kEach; ++k) EXPECT_EQ(numbers[k], k + 1);
}

TEST_F(RegistryTest, ConcurrentReservationsFromProcessesAreDistinct) {
  constexpr int kProcesses = 4, kEach = 20;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      int status = 0;
      try {
        ModelRegistry own(home_.path() / "models");
        for (int k = 0; k < kEach; ++k) {
          const int n = own.reserve_version("multi").number;
          if (::write(fds[1], &n, sizeof n) != sizeof n) status = 2;
        }
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  ::close(fds[1]);
  std::vector<int> numbers;
  int n;
  while (::read(fds[0], &n, sizeof n) == sizeof n) numbers.push_back(n);
  ::close(fds[0]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::sort(numbers.begin(), numbers.end());
  ASSERT_EQ(numbers.size(), size_t{kProcesses * kEach});
  for (int k = 0; k < kProcesses * kEach; ++k) EXPECT_EQ(numbers[k], k + 1);
}

TEST_F(RegistryTest, PublishWritesArtifactAndRunInfo) {
  const Version v = registry_.reserve_version("m");
  const auto model = random_model(3, {9, 10, 4});
  const fs::path artifact = registry_.publish(v, model, metadata_with_cv(0.9, 0.7),
                                              json{{"job_id", "j1"}, {"seconds", 1.5}});
  EXPECT_EQ(artifact, v.artifact_path());
  EXPECT_EQ(json::parse(read_artifact(artifact).metadata), metadata_with_cv(0.9, 0.7));
  EXPECT_EQ(json::parse(read_file(v.run_info_path())), (json{{"job_id", "j1"}, {"seconds", 1.5}}));
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(v.dir)) files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_THAT(files, ElementsAre("model.reco", "run.json")) << "no temporary files remain";
  const Error again =
      error_of([&] { registry_.publish(v, model, json::object(), json::object()); });
  EXPECT_EQ(again.kind(), ErrorKind::kConflict);
  EXPECT_THAT(again.what(), HasSubstr("already published"));
}

TEST_F(RegistryTest, FailedEncodeLeavesTheVersionIncomplete) {
  const Version v = registry_.reserve_version("m");
  auto model = random_model(3, {4, 4, 2});
  model.user_bias.pop_back();
  EXPECT_THROW(registry_.publish(v, model, json::object(), json::object()), Error);
  EXPECT_FALSE(fs::exists(v.artifact_path()));
  // Only the reservation's run.json (written by reserve_version) stays.
  std::ifstream run_file(v.run_info_path());
  EXPECT_EQ(json::parse(run_file)["state"], "InProgress");
  EXPECT_TRUE(registry_.versions("m").empty());
}

TEST_F(RegistryTest, IncompleteVersionIsSkippedButItsNumberIsNotReused) {
  publish("m");                                            // v1
  const Version crashed = registry_.reserve_version("m");  // v2, never published
  registry_.write_run_info(crashed, json{{"status", "failed"}});
  EXPECT_EQ(crashed.number, 2);
  EXPECT_EQ(registry_.resolve("m"), home_.path() / "models/m/v1/model.reco");
  EXPECT_THAT(registry_.versions("m"), ElementsAre(1));
  const Error e = error_of([&] { registry_.resolve("m", 2); });
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  EXPECT_THAT(e.what(), HasSubstr("version 2 is incomplete"));
  EXPECT_THAT(e.what(), HasSubstr("available versions: 1"));
  const Version v3 = publish("m");
  EXPECT_EQ(v3.number, 3);
  EXPECT_EQ(registry_.resolve("m"), v3.artifact_path());
  EXPECT_THAT(registry_.versions("m"), ElementsAre(1, 3));
  ASSERT_EQ(registry_.list().size(), 2u);
}

TEST_F(RegistryTest, ResolveLatestExplicitAndMissing) {
  EXPECT_THAT(error_of([&] { registry_.resolve("nothing"); }).what(),
              HasSubstr("there are no models yet"));
  publish("beta");
  publish("alpha");
  publish("alpha");
  EXPECT_EQ(registry_.resolve("alpha"), home_.path() / "models/alpha/v2/model.reco");
  EXPECT_EQ(registry_.resolve("alpha", 1), home_.path() / "models/alpha/v1/model.reco");
  const Error no_model = error_of([&] { registry_.resolve("gamma"); });
  EXPECT_EQ(no_model.kind(), ErrorKind::kNotFound);
  EXPECT_THAT(no_model.what(), HasSubstr("model 'gamma' not found"));
  EXPECT_THAT(no_model.what(), HasSubstr("available models: alpha, beta"));
  const Error no_version = error_of([&] { registry_.resolve("alpha", 5); });
  EXPECT_EQ(no_version.kind(), ErrorKind::kNotFound);
  EXPECT_THAT(no_version.what(),
              HasSubstr("model 'alpha' version 5 does not exist; available versions: 1, 2"));
  EXPECT_EQ(error_of([&] { registry_.resolve("alpha", 0); }).kind(), ErrorKind::kUsage);
  EXPECT_EQ(error_of([&] { registry_.resolve("../etc"); }).kind(), ErrorKind::kUsage);
  registry_.reserve_version("pending");
  EXPECT_THAT(error_of([&] { registry_.resolve("pending"); }).what(),
              HasSubstr("has no complete versions"));
}

TEST_F(RegistryTest, ListSortsByNameThenVersionAndSummarizes) {
  EXPECT_TRUE(registry_.list().empty()) << "no models directory yet";
  for (int k = 0; k < 10; ++k) publish("zeta", 10 + k);  // v1..v10: numeric, not text, order
  publish("alpha");
  registry_.reserve_version("alpha");  // incomplete v2: not listed
  // Metadata without cv.mean: the summary averages the per-fold values.
  const Version b = registry_.reserve_version("beta");
  registry_.publish(b, random_model(4, {3, 7, 0}, false, "baseline"),
                    json{{"cv", {{"rmse", {1.0, 2.0}}, {"mae", {0.5, 1.5}}}}}, json::object());
  // A damaged artifact is listed with the problem.
  const Version broken = publish("beta");
  std::string bytes = read_file(broken.artifact_path());
  write_file_atomic(broken.artifact_path(), bytes.substr(0, bytes.size() / 2));

  const auto list = registry_.list();
  std::vector<std::string> order;
  for (const auto& s : list) order.push_back(s.name + "/" + std::to_string(s.version));
  EXPECT_THAT(order,
              ElementsAre("alpha/1", "beta/1", "beta/2", "zeta/1", "zeta/2", "zeta/3", "zeta/4",
                          "zeta/5", "zeta/6", "zeta/7", "zeta/8", "zeta/9", "zeta/10"));
  const ModelSummary& a = list[0];
  EXPECT_TRUE(a.problem.empty()) << a.problem;
  EXPECT_EQ(a.algorithm, "svd");
  EXPECT_EQ(a.created_at, "2024-03-04T05:06:07Z");
  EXPECT_EQ(a.cv_rmse, 0.9);
  EXPECT_EQ(a.cv_mae, 0.7);
  EXPECT_EQ(a.n_users, 5u);
  EXPECT_EQ(a.n_items, 6u);
  EXPECT_EQ(a.n_factors, 2u);
  EXPECT_EQ(a.n_ratings, random_model(1, {5, 6, 2}).rated_items.size());
  EXPECT_EQ(a.artifact_path, home_.path() / "models/alpha/v1/model.reco");
  EXPECT_EQ(a.file_size, fs::file_size(a.artifact_path));
  EXPECT_EQ(json::parse(a.metadata), metadata_with_cv(0.9, 0.7));

  const ModelSummary& b1 = list[1];
  EXPECT_EQ(b1.algorithm, "baseline");
  EXPECT_EQ(b1.created_at, "");
  EXPECT_DOUBLE_EQ(b1.cv_rmse.value_or(-1), 1.5);
  EXPECT_DOUBLE_EQ(b1.cv_mae.value_or(-1), 1.0);
  EXPECT_EQ(b1.n_factors, 0u);

  const ModelSummary& b2 = list[2];
  EXPECT_THAT(b2.problem, HasSubstr("truncated"));
  EXPECT_THAT(b2.problem, HasSubstr(broken.artifact_path().string()));
  EXPECT_EQ(b2.file_size, bytes.size() / 2);
  EXPECT_FALSE(b2.cv_rmse.has_value());
}

TEST_F(RegistryTest, ListIgnoresForeignEntries) {
  publish("ok");
  fs::create_directories(home_.path() / "models" / ".trash");
  write_file_atomic(home_.path() / "models" / "README", "not a model");
  write_file_atomic(home_.path() / "models" / "ok" / "notes.txt", "x");
  EXPECT_THAT(registry_.model_names(), ElementsAre("ok"));
  EXPECT_EQ(registry_.list().size(), 1u);
}

TEST(ArtifactUri, IsFileSchemeWithAbsolutePercentEncodedPath) {
  EXPECT_EQ(artifact_uri("/tmp/a/model.reco"), "file:///tmp/a/model.reco");
  EXPECT_EQ(artifact_uri("/tmp/my models/x#1%/m.reco"), "file:///tmp/my%20models/x%231%25/m.reco");
  EXPECT_EQ(artifact_uri("/tmp/./a/../b/m.reco"), "file:///tmp/b/m.reco");
  const std::string relative = artifact_uri("rel/m.reco");
  EXPECT_EQ(relative, "file://" + (fs::current_path() / "rel/m.reco").string());
}

TEST_F(RegistryTest, PathFromUriAcceptsFileUrisPathsAndModelUris) {
  const Version v1 = publish("movielens-model");
  const Version v2 = publish("movielens-model");
  const fs::path odd = home_.path() / "odd dir#1" / "model.reco";
  write_artifact(odd, random_model(5, {2, 2, 1}), json::object());

  EXPECT_EQ(path_from_uri(artifact_uri(odd), registry_), odd);
  EXPECT_EQ(path_from_uri(artifact_uri(v1.artifact_path()), registry_), v1.artifact_path());
  EXPECT_EQ(path_from_uri("file://localhost/tmp/x.reco", registry_), "/tmp/x.reco");
  EXPECT_EQ(path_from_uri("file:/tmp/x.reco", registry_), "/tmp/x.reco");
  EXPECT_EQ(path_from_uri("relative/x.reco", registry_), "relative/x.reco");
  EXPECT_EQ(path_from_uri(odd.string(), registry_), odd);
  EXPECT_EQ(path_from_uri(v1.dir.string(), registry_), v1.artifact_path()) << "version dir";
  EXPECT_EQ(path_from_uri("file://" + v2.dir.string(), registry_), v2.artifact_path());
  EXPECT_EQ(path_from_uri("models:/movielens-model", registry_), v2.artifact_path());
  EXPECT_EQ(path_from_uri("models:/movielens-model/latest", registry_), v2.artifact_path());
  EXPECT_EQ(path_from_uri("models:/movielens-model/1", registry_), v1.artifact_path());
  EXPECT_EQ(path_from_uri("models:/movielens-model/v1", registry_), v1.artifact_path());

  EXPECT_EQ(error_of([&] { path_from_uri("models:/nope", registry_); }).kind(),
            ErrorKind::kNotFound);
  EXPECT_EQ(error_of([&] { path_from_uri("models:/movielens-model/9", registry_); }).kind(),
            ErrorKind::kNotFound);
  for (const char* bad :
       {"s3://bucket/models/model.tar.gz", "http://example.com/m.reco", "https://h/m", "gs://b/o",
        "models:/movielens-model/0", "models:/movielens-model/abc",
        "models:/movielens-model/1/extra", "models:movielens-model", "models://movielens-model",
        "models:/bad name", "models:/", "file://otherhost/tmp/x", "file:relative/x",
        "file:///tmp/a%zz", "file:///tmp/a%2", "file:///tmp/a%00b", "file:///tmp/x?y=1", ""}) {
    const Error e = error_of([&] { path_from_uri(bad, registry_); });
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << bad << ": " << e.what();
  }
  const Error s3 = error_of([&] { path_from_uri("s3://bucket/key", registry_); });
  EXPECT_THAT(s3.what(), HasSubstr("'s3://bucket/key'"));
  EXPECT_THAT(s3.what(), HasSubstr("file:///absolute/path/model.reco"));
  EXPECT_THAT(s3.what(), HasSubstr("models:/<name>/<version>"));
}

}  // namespace
}  // namespace reco::registry
