#include "deployment/live_models.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "deployment_test_support.h"

namespace reco::deployment {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::TempDir;

struct LiveModelsTest : ::testing::Test {
  TempDir dir;
  Home home{dir.path()};
  EndpointStore store{home};
  // Another process deploying to the same home.
  EndpointStore other{home};
};

TEST_F(LiveModelsTest, LoadsOnFirstUseAndPicksUpDeploymentsFromElsewhere) {
  testing::publish_random(home, "m", 1);
  testing::publish_random(home, "m", 2);
  other.deploy("ep", "models:/m/1");
  LiveModels live(store, milliseconds(0));
  const auto first = live.get("ep");
  EXPECT_EQ(first->endpoint.model_version, 1);
  EXPECT_EQ(live.get("ep"), first);  // same generation: same object, no reload

  other.deploy("ep", "models:/m/2");
  const auto second = live.get("ep");
  EXPECT_EQ(second->endpoint.model_version, 2);
  // A request that started before the swap still holds the old model, intact.
  EXPECT_EQ(first->endpoint.model_version, 1);
  EXPECT_EQ(first->model().n_users(), 20u);
}

TEST_F(LiveModelsTest, RefreshIntervalLimitsRereads) {
  testing::publish_random(home, "m", 1);
  testing::publish_random(home, "m", 2);
  other.deploy("ep", "models:/m/1");
  LiveModels live(store, milliseconds(60000));
  EXPECT_EQ(live.get("ep")->endpoint.model_version, 1);
  other.deploy("ep", "models:/m/2");
  EXPECT_EQ(live.get("ep")->endpoint.model_version, 1);  // not re-read yet
  live.refresh_all();
  EXPECT_EQ(live.get("ep")->endpoint.model_version, 2);
}

TEST_F(LiveModelsTest, InstallServesADeploymentWithoutReloading) {
  testing::publish_random(home, "m", 1);
  LiveModels live(store, milliseconds(60000));
  const auto d = store.deploy("ep", "models:/m");
  live.install(d);
  EXPECT_EQ(live.get("ep")->artifact, d.artifact);
  EXPECT_EQ(live.status("ep")->state, "InService");
}

TEST_F(LiveModelsTest, AFailedReloadKeepsTheOldModelServingAndSaysWhy) {
  testing::publish_random(home, "m", 1);
  const auto v2 = testing::publish_random(home, "m", 2);
  other.deploy("ep", "models:/m/1");
  other.deploy("ep2", "models:/m/2");
  LiveModels live(store, milliseconds(0));
  EXPECT_EQ(live.get("ep")->endpoint.model_version, 1);
  // The record now points at an artifact that was damaged after it was deployed.
  other.deploy("ep", "models:/m/2");
  testing::corrupt_file(v2);
  EXPECT_EQ(live.get("ep")->endpoint.model_version, 1);
  const auto st = live.status("ep");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, "Failed");
  EXPECT_EQ(st->serving_version, 1);
  EXPECT_THAT(st->last_error, HasSubstr("checksum"));
  // With nothing loaded before, the error itself is the answer.
  try {
    live.get("ep2");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
  }
}

TEST_F(LiveModelsTest, UnknownAndRemovedEndpoints) {
  testing::publish_random(home, "m", 1);
  LiveModels live(store, milliseconds(0));
  try {
    live.get("nope");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
  other.deploy("ep", "models:/m");
  EXPECT_TRUE(live.get("ep"));
  other.remove("ep");
  EXPECT_THROW(live.get("ep"), Error);
  live.refresh_all();
  EXPECT_TRUE(live.status().empty());
}

TEST_F(LiveModelsTest, StatusOfEveryEndpoint) {
  testing::publish_random(home, "m", 1);
  other.deploy("a", "models:/m");
  other.deploy("b", "models:/m");
  LiveModels live(store, milliseconds(0));
  live.get("a");
  auto all = live.status();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, "InService");
  EXPECT_EQ(all[1].state, "NotLoaded");
  live.refresh_all();
  EXPECT_EQ(live.status()[1].state, "InService");
}

TEST_F(LiveModelsTest, SwapsUnderConcurrentLoadNeverFailARequest) {
  testing::publish_random(home, "m", 1);
  testing::publish_random(home, "m", 2);
  other.deploy("ep", "models:/m/1");
  LiveModels live(store, milliseconds(0));
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, served{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        try {
          const auto m = live.get("ep");
          const double p = m->model().predict(m->model().users.raw(0), m->model().items.raw(0));
          if (!(p >= 0.5 && p <= 5.0)) ++failures;
          ++served;
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (int i = 0; i < 20; ++i) other.deploy("ep", i % 2 ? "models:/m/1" : "models:/m/2");
  while (served < 200) std::this_thread::yield();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(live.get("ep")->endpoint.generation, 21u);
}

}  // namespace
}  // namespace reco::deployment
