#include "deployment/endpoints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "deployment_test_support.h"

namespace reco::deployment {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

struct EndpointsTest : ::testing::Test {
  TempDir dir;
  Home home{dir.path()};
  EndpointStore store{home};
};

TEST_F(EndpointsTest, DeployCreatesThenUpdatesAndPinsTheVersion) {
  const auto v1 = testing::publish_random(home, "m", 1);
  bool created = false;
  const auto first = store.deploy("ep", "models:/m", &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(first.endpoint.generation, 1u);
  EXPECT_EQ(first.endpoint.model_name, "m");
  EXPECT_EQ(first.endpoint.model_version, 1);
  EXPECT_EQ(first.endpoint.artifact_path, v1.string());
  EXPECT_EQ(first.artifact->model->n_users(), 20u);

  // A newer version does not change what the endpoint serves until it is deployed again.
  testing::publish_random(home, "m", 2);
  EXPECT_EQ(store.get("ep").model_version, 1);
  const auto second = store.deploy("ep", "models:/m", &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(second.endpoint.generation, 2u);
  EXPECT_EQ(second.endpoint.model_version, 2);
  EXPECT_EQ(second.endpoint.created_at, first.endpoint.created_at);
  EXPECT_EQ(store.get("ep").generation, 2u);
}

TEST_F(EndpointsTest, PlainFilesOutsideTheRegistryDeployToo) {
  const auto v1 = testing::publish_random(home, "m", 1);
  const auto copy = dir.path() / "elsewhere.reco";
  std::filesystem::copy_file(v1, copy);
  const auto d = store.deploy("ep", "file://" + copy.string());
  EXPECT_EQ(d.endpoint.model_name, "");
  EXPECT_EQ(d.endpoint.model_version, 0);
  EXPECT_EQ(d.endpoint.artifact_path, copy.string());
  // A version directory stands for its artifact.
  EXPECT_EQ(store.deploy("ep2", v1.parent_path().string()).endpoint.model_version, 1);
}

TEST_F(EndpointsTest, AFailedDeploymentChangesNothing) {
  testing::publish_random(home, "m", 1);
  store.deploy("ep", "models:/m");
  const std::string before = read_file(store.dir() / "ep.json");

  const auto bad = testing::publish_random(home, "m", 2);
  testing::corrupt_file(bad);
  auto expect_error = [&](const std::string& name, const std::string& uri, ErrorKind kind,
                          const std::string& text) {
    try {
      store.deploy(name, uri);
      ADD_FAILURE() << "deploy(" << name << ", " << uri << ") succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(text));
    }
  };
  expect_error("ep", "models:/m/2", ErrorKind::kCorrupt, "checksum");
  expect_error("ep", "models:/nope", ErrorKind::kNotFound, "nope");
  expect_error("ep", (dir.path() / "missing.reco").string(), ErrorKind::kNotFound, "missing.reco");
  expect_error("ep", "s3://bucket/key", ErrorKind::kUsage, "s3://");
  expect_error("ep", "", ErrorKind::kUsage, "empty");
  expect_error("bad name", "models:/m/1", ErrorKind::kUsage, "invalid endpoint name 'bad name'");
  expect_error("../escape", "models:/m/1", ErrorKind::kUsage, "invalid endpoint name");
  EXPECT_EQ(read_file(store.dir() / "ep.json"), before);
}

TEST_F(EndpointsTest, ListFindGetRemove) {
  testing::publish_random(home, "m", 1);
  EXPECT_TRUE(store.list().empty());
  store.deploy("b", "models:/m");
  store.deploy("a", "models:/m");
  const auto all = store.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "b");
  EXPECT_FALSE(store.find("c"));
  try {
    store.get("c");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("no endpoint named 'c' (deployed: a, b)"));
  }
  EXPECT_TRUE(store.remove("a"));
  EXPECT_FALSE(store.remove("a"));
  EXPECT_EQ(store.list().size(), 1u);
}

TEST_F(EndpointsTest, DamagedRecordsAreReportedByNameAndSkippedInListings) {
  testing::publish_random(home, "m", 1);
  store.deploy("good", "models:/m");
  write_file_atomic(store.dir() / "broken.json", "{\"name\": 3}");
  EXPECT_EQ(store.list().size(), 1u);
  try {
    store.get("broken");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_THAT(e.what(), HasSubstr("broken.json: endpoint record field \"name\""));
  }
}

TEST_F(EndpointsTest, RecordsRoundTripThroughJson) {
  testing::publish_random(home, "m", 1);
  const auto e = store.deploy("ep", "models:/m").endpoint;
  const auto back = Endpoint::from_json(e.to_json(), "x");
  EXPECT_EQ(back.to_json(), e.to_json());
}

}  // namespace
}  // namespace reco::deployment
