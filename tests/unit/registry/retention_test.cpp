#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "registry/model_registry.h"

namespace reco::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest() {
    std::string tmpl = "/tmp/reco-retention-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~RetentionTest() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  // A complete version (its artifact's bytes do not matter to retention).
  Version complete(ModelRegistry& r) {
    const Version v = r.reserve_version("m");
    std::ofstream(v.artifact_path()) << "x";
    return v;
  }
  std::vector<int> numbers(const std::vector<Version>& vs) {
    std::vector<int> out;
    for (const auto& v : vs) out.push_back(v.number);
    return out;
  }
  fs::path root_;
};

TEST_F(RetentionTest, KeepsTheNewestNAndWhatIsInUseAndNeverTheNewest) {
  ModelRegistry r(root_);
  for (int i = 0; i < 6; ++i) complete(r);
  RetentionPolicy p;
  p.keep_versions = 2;
  EXPECT_THAT(numbers(r.expired("m", p, {})), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(numbers(r.expired("m", p, {2})), ElementsAre(1, 3, 4));
  p.keep_versions = 1;
  EXPECT_THAT(numbers(r.expired("m", p, {6})), ElementsAre(1, 2, 3, 4, 5));
  p.keep_versions = 20;
  EXPECT_TRUE(r.expired("m", p, {}).empty());
}

TEST_F(RetentionTest, AgeLimitAndRolledBackRuns) {
  ModelRegistry r(root_);
  const Version old = complete(r);
  complete(r);
  const Version failed = r.reserve_version("m");
  r.write_run_info(failed, {{"state", "Failed"}});
  complete(r);
  fs::last_write_time(old.artifact_path(),
                      fs::file_time_type::clock::now() - std::chrono::hours(24 * 10));
  RetentionPolicy p;
  p.keep_days = 5;
  // v1 is too old; v3 is a rolled-back run below the newest version.
  EXPECT_THAT(numbers(r.expired("m", p, {})), ElementsAre(1, 3));
  EXPECT_THAT(numbers(r.expired("m", p, {1})), ElementsAre(3));
}

TEST_F(RetentionTest, PolicyIsValidatedAndRemembered) {
  ModelRegistry r(root_);
  complete(r);
  EXPECT_EQ(r.policy("m").keep_versions, 20);
  EXPECT_FALSE(r.policy("m").keep_days);
  try {
    r.set_policy("m", RetentionPolicy{0, std::nullopt});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("the newest version is always kept"));
  }
  r.set_policy("m", RetentionPolicy{3, 7});
  EXPECT_EQ(r.policy("m").keep_versions, 3);
  EXPECT_EQ(r.policy("m").keep_days, 7);
}

TEST_F(RetentionTest, RemovalIsAtomicAndLeftoversAreFinished) {
  ModelRegistry r(root_);
  const Version a = complete(r);
  complete(r);
  r.remove_version(a);
  EXPECT_THAT(r.versions("m"), ElementsAre(2));
  EXPECT_FALSE(fs::exists(a.dir));
  // A deletion killed after its rename: not listed, and finished later.
  fs::create_directories(root_ / "m" / ".deleting-v7-123" / "sub");
  EXPECT_THAT(r.versions("m"), ElementsAre(2));
  EXPECT_EQ(r.remove_deleting("m"), 1u);
  EXPECT_FALSE(fs::exists(root_ / "m" / ".deleting-v7-123"));
  // The next number is past every directory: nothing reused.
  EXPECT_EQ(r.reserve_version("m").number, 3);
}

}  // namespace
}  // namespace reco::registry
