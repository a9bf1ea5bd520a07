#include "core/home.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"

namespace reco {
namespace {

namespace fs = std::filesystem;

// Sets (or unsets, for nullptr) an environment variable for one test, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Home, FlagAndRecoHomeAreExplicit) {
  ScopedEnv reco_home("RECO_HOME", "/tmp/from-env");
  const Home flag = Home::resolve(std::string("/tmp/from-flag"));
  EXPECT_EQ(flag.root(), fs::path("/tmp/from-flag"));
  EXPECT_TRUE(flag.is_explicit());
  const Home env = Home::resolve(std::nullopt);
  EXPECT_EQ(env.root(), fs::path("/tmp/from-env"));
  EXPECT_TRUE(env.is_explicit());
}

TEST(Home, XdgAndHomeDirectoryAreTheDefault) {
  ScopedEnv reco_home("RECO_HOME", nullptr);
  {
    ScopedEnv xdg("XDG_DATA_HOME", "/tmp/xdg");
    const Home home = Home::resolve(std::nullopt);
    EXPECT_EQ(home.root(), fs::path("/tmp/xdg/reco"));
    EXPECT_FALSE(home.is_explicit());
  }
  ScopedEnv xdg("XDG_DATA_HOME", nullptr);
  ScopedEnv user_home("HOME", "/tmp/user");
  const Home home = Home::resolve(std::nullopt);
  EXPECT_EQ(home.root(), fs::path("/tmp/user/.local/share/reco"));
  EXPECT_FALSE(home.is_explicit());
}

TEST(Home, ExistsOnlyForADirectory) {
  const fs::path dir = fs::temp_directory_path() / ("reco-home-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const Home home(dir);
  EXPECT_FALSE(home.exists());
  home.create();
  EXPECT_TRUE(home.exists());
  const Home file(dir / "a-file");
  {
    std::FILE* f = std::fopen((dir / "a-file").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  EXPECT_FALSE(file.exists());
  fs::remove_all(dir);
}

TEST(Home, PrepareRefusesAMissingExplicitHomeAndCreatesTheDefault) {
  const fs::path dir =
      fs::temp_directory_path() / ("reco-home-prepare-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const Home typo(dir / "typo");
  try {
    typo.prepare(false);
    FAIL() << "a missing explicit home must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find((dir / "typo").string() + " does not exist"),
              std::string::npos);
    EXPECT_NE(std::string(e.what()).find("reco init --home"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(dir / "typo"));
  EXPECT_TRUE(typo.prepare(true));
  EXPECT_FALSE(typo.prepare(false));  // exists now
  const Home default_home(dir / "default", false);
  EXPECT_TRUE(default_home.prepare(false));
  EXPECT_TRUE(default_home.exists());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace reco
