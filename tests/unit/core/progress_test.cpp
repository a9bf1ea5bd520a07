#include "core/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>
#include <vector>

#include "core/error.h"

namespace reco {
namespace {

TEST(ProgressTest, CountsAStepAndEstimatesWhatIsLeft) {
  Progress p;
  EXPECT_EQ(p.snapshot().step, "");
  p.begin("cross-validation", 4, "fits");
  p.advance(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto s = p.snapshot();
  EXPECT_EQ(s.step, "cross-validation");
  EXPECT_DOUBLE_EQ(*s.fraction(), 0.25);
  ASSERT_TRUE(s.eta_seconds.has_value());
  EXPECT_NEAR(*s.eta_seconds, 3 * s.step_seconds, 1e-9);
  EXPECT_GT(s.rate, 0);
  EXPECT_THAT(s.line(), ::testing::StartsWith("cross-validation   25%"));
  const nlohmann::json j = s.to_json();
  EXPECT_EQ(j["total"], 4);
  EXPECT_EQ(j["unit"], "fits");
  // Never past the total; a new step starts from zero with no ETA until it moves.
  p.advance(10);
  EXPECT_DOUBLE_EQ(*p.snapshot().fraction(), 1.0);
  p.begin("read", 0, "ratings");
  EXPECT_FALSE(p.snapshot().fraction().has_value());
  EXPECT_FALSE(p.snapshot().eta_seconds.has_value());
  EXPECT_FALSE(p.snapshot().to_json().contains("fraction"));
}

TEST(ProgressTest, CancelKeepsTheFirstReasonAndCheckThrows) {
  Progress p;
  EXPECT_NO_THROW(p.check());
  p.cancel("interrupted (Ctrl-C)");
  p.cancel("another reason");
  EXPECT_TRUE(p.cancelled());
  try {
    p.check();
    FAIL() << "expected an exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCancelled);
    EXPECT_STREQ(e.what(), "cancelled: interrupted (Ctrl-C)");
  }
  EXPECT_EQ(exit_code_for(ErrorKind::kCancelled), 130);
  EXPECT_THAT(p.snapshot().line(), ::testing::HasSubstr("cancelling: interrupted (Ctrl-C)"));
}

TEST(ProgressTest, AdvancesFromManyThreadsAddUp) {
  Progress p;
  p.begin("top-n", 8000, "users");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) p.advance(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_DOUBLE_EQ(p.snapshot().done, 8000);
}

}  // namespace
}  // namespace reco
