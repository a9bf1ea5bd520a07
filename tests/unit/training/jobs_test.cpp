#include "training/jobs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "core/identifiers.h"
#include "core/random.h"
#include "storage/warehouse.h"

namespace reco::training {
namespace {

using ::testing::HasSubstr;

class ScratchHome {
 public:
  ScratchHome() {
    std::string tmpl = "/tmp/reco-jobs-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchHome() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Home home() const { return Home(path_); }
  std::string db() const { return (path_ / "warehouse.db").string(); }

 private:
  std::filesystem::path path_;
};

// A small random ratings table.
void make_ratings(const std::string& db, const std::string& table) {
  auto wh = storage::open_warehouse(db);
  const auto ref = parse_table_name(table, "table");
  auto tx = wh->begin();
  wh->create_table(ref,
                   {{"USERID", storage::ColumnType::kInteger},
                    {"MOVIEID", storage::ColumnType::kInteger},
                    {"RATING", storage::ColumnType::kReal}},
                   false);
  auto ins = wh->inserter(ref, {"USERID", "MOVIEID", "RATING"});
  Rng rng(3);
  for (int64_t u = 1; u <= 20; ++u) {
    for (int64_t i = 1; i <= 30; ++i) {
      if (rng.uniform() < 0.5) ins->insert({u, i, 1.0 + static_cast<double>(rng.next_u64() % 5)});
    }
  }
  ins.reset();
  tx->commit();
}

TEST(JobStore, CreateSaveFindAndListNewestFirst) {
  ScratchHome h;
  JobStore store(h.home());
  EXPECT_TRUE(store.list().empty());
  auto a = store.create("train", {{"input_table", "t"}}, "batch-a");
  auto b = store.create("train", {{"input_table", "u"}});
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.state, JobState::kInProgress);
  a.state = JobState::kCompleted;
  a.result = R"({"model":"t"})";
  a.log.push_back("line");
  store.save(a);
  const auto back = store.get(a.id);
  EXPECT_EQ(back.state, JobState::kCompleted);
  EXPECT_EQ(nlohmann::json::parse(back.result)["model"], "t");
  EXPECT_EQ(back.log, std::vector<std::string>{"line"});
  const auto all = store.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, b.id);
  EXPECT_EQ(store.find_by_key("batch-a")->id, a.id);
  EXPECT_FALSE(store.find_by_key("other"));
  EXPECT_FALSE(store.find("../etc/passwd"));
  EXPECT_THROW(store.get("job-missing"), Error);
}

TEST(JobStore, AJobWhoseProcessDiedReadsAsFailed) {
  ScratchHome h;
  JobStore store(h.home());
  auto r = store.create("train", nlohmann::json::object());
  // A pid that cannot be alive: pid_max is below 2^22 on Linux.
  r.pid = (1 << 22) + 17;
  store.save(r);
  const auto back = store.get(r.id);
  EXPECT_EQ(back.state, JobState::kFailed);
  EXPECT_THAT(back.failure, HasSubstr("stopped before it finished"));
}

TEST(JobStore, DamagedRecordsAreNamed) {
  ScratchHome h;
  JobStore store(h.home());
  write_file_atomic(store.dir() / "job-bad.json", "{\"id\": \"job-bad\", \"state\": \"Sleeping\"}");
  try {
    store.get("job-bad");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_THAT(e.what(), HasSubstr("unknown state \"Sleeping\""));
  }
  EXPECT_TRUE(store.list().empty());
}

TEST(JobRunner, RunsJobsInTheBackgroundOnceperKey) {
  ScratchHome h;
  make_ratings(h.db(), "ratings");
  JobRunner runner(h.home(), h.db());
  TrainRequest req;
  req.spec = job_spec_from_settings("ratings", "recs", {{"folds", "2"}});
  const auto [first, started] = runner.submit(req, {{"input_table", "ratings"}}, "batch-1");
  EXPECT_TRUE(started);
  const auto [again, started_again] = runner.submit(req, {{"input_table", "ratings"}}, "batch-1");
  EXPECT_FALSE(started_again);
  EXPECT_EQ(again.id, first.id);
  runner.wait_idle();
  const auto done = runner.store().get(first.id);
  ASSERT_EQ(done.state, JobState::kCompleted) << done.failure;
  const nlohmann::json result = nlohmann::json::parse(done.result);
  EXPECT_EQ(result["model"], "ratings");
  EXPECT_EQ(result["version"], 1);
  EXPECT_EQ(result["job"], first.id);
  EXPECT_FALSE(done.log.empty());
  // Still one job after it finished, and for a new runner (a restarted server).
  EXPECT_FALSE(runner.submit(req, {}, "batch-1").second);
  JobRunner restarted(h.home(), h.db());
  EXPECT_EQ(restarted.submit(req, {}, "batch-1").first.id, first.id);
  EXPECT_EQ(runner.store().list().size(), 1u);
}

TEST(JobRunner, AFailingJobRecordsWhy) {
  ScratchHome h;
  make_ratings(h.db(), "ratings");
  JobRunner runner(h.home(), h.db());
  TrainRequest req;
  req.spec = job_spec_from_settings("no_such_table", "", {});
  const auto id = runner.submit(req, {}, "").first.id;
  runner.wait_idle();
  const auto r = runner.store().get(id);
  EXPECT_EQ(r.state, JobState::kFailed);
  EXPECT_THAT(r.failure, HasSubstr("no_such_table"));
  EXPECT_FALSE(r.finished_at.empty());
}

TEST(JobRunner, StopFailsQueuedJobsAndRefusesNewOnes) {
  ScratchHome h;
  make_ratings(h.db(), "ratings");
  JobRunner runner(h.home(), h.db());
  TrainRequest req;
  req.spec = job_spec_from_settings("ratings", "", {{"folds", "2"}});
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(runner.submit(req, {}, "").first.id);
  EXPECT_TRUE(runner.stop(std::chrono::milliseconds(60000)));
  // Queued jobs are dropped (Failed), a running one is cancelled (or has just completed).
  int completed = 0, dropped = 0, cancelled = 0;
  for (const auto& id : ids) {
    const auto r = runner.store().get(id);
    ASSERT_NE(r.state, JobState::kInProgress);
    if (r.state == JobState::kCompleted) ++completed;
    if (r.state == JobState::kFailed) {
      EXPECT_THAT(r.failure, HasSubstr("stopped before the job started"));
      ++dropped;
    }
    if (r.state == JobState::kCancelled) {
      EXPECT_THAT(r.failure, HasSubstr("the server is shutting down"));
      ++cancelled;
    }
  }
  EXPECT_LE(cancelled, 1);
  EXPECT_GE(dropped, 3 - completed);
  EXPECT_EQ(completed + dropped + cancelled, 4);
  EXPECT_THROW(runner.submit(req, {}, ""), Error);
}

}  // namespace
}  // namespace reco::training
