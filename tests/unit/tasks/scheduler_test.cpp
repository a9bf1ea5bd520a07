// The task scheduler with a controllable clock: runs at their occurrences, never twice, missed
// occurrences recorded, overlapping runs skipped, failures recorded without stopping the
// schedule, data-triggered runs only after a change, one run per occurrence with two
// schedulers on one home, and a stop that interrupts a run records it as Failed.
#include "tasks/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../registry/test_models.h"
#include "core/error.h"
#include "storage/sqlite_warehouse.h"

namespace reco::tasks {
namespace {

using registry::testing::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1764669600;  // 2025-12-02T10:00:00Z

// Lets a test hold a task's SQL in the middle of its run: block() waits until released.
std::atomic<bool> g_release{true};
std::atomic<int> g_blocked{0};

void block_fn(sqlite3_context* ctx, int, sqlite3_value**) {
  ++g_blocked;
  while (!g_release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  --g_blocked;
  sqlite3_result_int(ctx, 1);
}

struct SchedulerTest : ::testing::Test {
  TempDir dir;
  Home home{dir.path()};
  std::string db = (dir.path() / "warehouse.db").string();
  TaskStore store{home};
  std::atomic<int64_t> now{kT0};
  std::vector<std::string> causes;
  TaskRunner runner{store, db, [this](sqlite3* c, const std::string& cause, auto) {
                      causes.push_back(cause);
                      sqlite3_create_function_v2(c, "block", 0, SQLITE_UTF8, nullptr, block_fn,
                                                 nullptr, nullptr, nullptr);
                    }};
  Scheduler scheduler{store, runner, [this] { return now.load(); }};

  void SetUp() override {
    g_release = true;
    storage::SqliteWarehouse::open(db)->execute(
        "create table log(at text); create table ratings(u int, i int, r real)");
  }
  Task create(const std::string& name, const std::string& schedule, const std::string& sql,
              const std::string& when_changed = "") {
    Task t;
    t.name = name;
    t.schedule = schedule;
    t.sql = sql;
    t.when_changed = when_changed;
    return store.create(t, now, false);
  }
  size_t tick_at(int64_t t) {
    now = t;
    const size_t n = scheduler.tick();
    scheduler.wait_idle();
    return n;
  }
  std::vector<std::string> states(const std::string& name) {
    std::vector<std::string> out;
    for (const tasks::Run& r : store.runs(name)) out.push_back(to_string(r.state));
    return out;
  }
  int64_t logged() {
    auto rs = storage::SqliteWarehouse::open(db)->query("select count(*) from log");
    return std::get<int64_t>(rs.rows[0][0]);
  }
};

TEST_F(SchedulerTest, RunsAtEachOccurrenceAndNeverTwice) {
  create("hourly", "60 MINUTE", "insert into log values ('x')");
  EXPECT_EQ(tick_at(kT0 + 3599), 0u);
  EXPECT_EQ(tick_at(kT0 + 3600), 1u);
  EXPECT_EQ(tick_at(kT0 + 3600), 0u);  // the same occurrence is not run again
  EXPECT_EQ(tick_at(kT0 + 3700), 0u);
  EXPECT_EQ(tick_at(kT0 + 7300), 1u);
  EXPECT_EQ(logged(), 2);
  const auto runs = store.runs("hourly");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].state, RunState::kSucceeded);
  EXPECT_EQ(runs[0].scheduled, kT0 + 3600);
  EXPECT_EQ(runs[1].scheduled, kT0 + 7200);
  EXPECT_EQ(runs[0].trigger, "schedule");
  EXPECT_FALSE(runs[0].finished_at.empty());
  EXPECT_EQ(causes.front(), "task:hourly");
}

TEST_F(SchedulerTest, ClockJumpsNeitherDoubleNorLoseRuns) {
  create("hourly", "60 MINUTE", "insert into log values ('x')");
  EXPECT_EQ(tick_at(kT0 + 3600), 1u);
  // Back two hours: the occurrences already run are not run again when their time comes back.
  EXPECT_EQ(tick_at(kT0 - 3600), 0u);
  EXPECT_EQ(tick_at(kT0 + 3600), 0u);
  EXPECT_EQ(tick_at(kT0 + 7200), 1u);
  // Forward five hours: one run for the latest occurrence, the four skipped over recorded.
  EXPECT_EQ(tick_at(kT0 + 7200 + 5 * 3600 + 10), 1u);
  EXPECT_EQ(logged(), 3);
  const auto runs = store.runs("hourly");
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[2].state, RunState::kSkipped);
  EXPECT_THAT(runs[2].error, HasSubstr("4 occurrence(s) from 2025-12-02T13:00:00Z on were missed"));
  EXPECT_EQ(runs[3].state, RunState::kSucceeded);
  EXPECT_EQ(runs[3].scheduled, kT0 + 7 * 3600);
}

TEST_F(SchedulerTest, CronSchedulesFireAtTheirTimes) {
  create("nightly", "30 2 * * *", "insert into log values ('x')");
  EXPECT_EQ(tick_at(kT0 + 3600), 0u);              // 11:00
  EXPECT_EQ(tick_at(kT0 + 16 * 3600 + 1799), 0u);  // 02:29:59 next day
  EXPECT_EQ(tick_at(kT0 + 16 * 3600 + 1800), 1u);  // 02:30
  EXPECT_EQ(store.runs("nightly")[0].scheduled, kT0 + 16 * 3600 + 1800);
}

TEST_F(SchedulerTest, AnOverlappingRunIsSkippedAndRecorded) {
  create("slow", "1 MINUTE", "select block(); insert into log values ('x')");
  g_release = false;
  now = kT0 + 60;
  EXPECT_EQ(scheduler.tick(), 1u);
  while (g_blocked.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  now = kT0 + 120;  // the next occurrence while the first run still executes
  EXPECT_EQ(scheduler.tick(), 1u);
  while (store.runs("slow").size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  g_release = true;
  scheduler.wait_idle();
  EXPECT_EQ(logged(), 1);
  const auto runs = store.runs("slow");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].state, RunState::kSucceeded);
  EXPECT_EQ(runs[1].state, RunState::kSkipped);
  EXPECT_EQ(runs[1].scheduled, kT0 + 120);
  EXPECT_THAT(runs[1].error, HasSubstr("the previous run is still executing"));
}

TEST_F(SchedulerTest, AFailedRunIsRecordedAndTheNextStillHappens) {
  create("broken", "1 MINUTE", "insert into no_such_table values (1)");
  EXPECT_EQ(tick_at(kT0 + 60), 1u);
  EXPECT_EQ(tick_at(kT0 + 120), 1u);
  const auto runs = store.runs("broken");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].state, RunState::kFailed);
  EXPECT_THAT(runs[0].error, HasSubstr("no such table: no_such_table"));
  EXPECT_EQ(runs[1].state, RunState::kFailed);
}

TEST_F(SchedulerTest, DataTriggeredRunsOnlyAfterAChange) {
  create("retrain", "1 MINUTE", "insert into log values ('x')", "ratings");
  EXPECT_EQ(tick_at(kT0 + 60), 1u);  // the first run has nothing to compare with
  EXPECT_EQ(tick_at(kT0 + 120), 1u);
  auto wh = storage::SqliteWarehouse::open(db);
  wh->execute("insert into ratings values (1, 2, 3.5)");
  EXPECT_EQ(tick_at(kT0 + 180), 1u);
  EXPECT_EQ(tick_at(kT0 + 240), 1u);
  wh->execute("update ratings set r = 4.0");  // same row count, other contents
  EXPECT_EQ(tick_at(kT0 + 300), 1u);
  EXPECT_EQ(states("retrain"), (std::vector<std::string>{"Succeeded", "Skipped", "Succeeded",
                                                         "Skipped", "Succeeded"}));
  EXPECT_THAT(store.runs("retrain")[1].error,
              HasSubstr("table ratings has not changed since the last successful run"));
  EXPECT_EQ(logged(), 3);
  // A table that disappears fails the run, naming it.
  wh->execute("drop table ratings");
  EXPECT_EQ(tick_at(kT0 + 360), 1u);
  EXPECT_THAT(store.runs("retrain").back().error, HasSubstr("no such table: ratings"));
}

TEST_F(SchedulerTest, TwoSchedulersOnOneHomeRunEachOccurrenceOnce) {
  create("shared", "1 MINUTE", "insert into log values ('x')");
  TaskStore other_store(home);
  TaskRunner other_runner(other_store, db, [](sqlite3*, const std::string&, auto) {});
  Scheduler other(other_store, other_runner, [this] { return now.load(); });
  for (int k = 1; k <= 5; ++k) {
    now = kT0 + 60 * k;
    std::thread a([&] { scheduler.tick(); });
    std::thread b([&] { other.tick(); });
    a.join();
    b.join();
    scheduler.wait_idle();
    other.wait_idle();
  }
  EXPECT_EQ(logged(), 5);
  EXPECT_EQ(states("shared"), std::vector<std::string>(5, "Succeeded"));
}

TEST_F(SchedulerTest, SuspendedTasksWaitAndResumeStartsFromNow) {
  create("t", "60 MINUTE", "insert into log values ('x')");
  store.set_suspended("t", true, now);
  EXPECT_EQ(tick_at(kT0 + 3 * 3600), 0u);
  store.set_suspended("t", false, now);  // at kT0 + 3 h: nothing to catch up
  EXPECT_EQ(tick_at(kT0 + 3 * 3600 + 60), 0u);
  EXPECT_EQ(tick_at(kT0 + 4 * 3600), 1u);
  EXPECT_EQ(states("t"), std::vector<std::string>{"Succeeded"});
}

TEST_F(SchedulerTest, StoppingInterruptsARunAndRecordsItFailedWithTheReason) {
  create("long", "1 MINUTE",
         "with recursive n(x) as (select 1 union all select x + 1 from n) "
         "select count(*) from n");
  now = kT0 + 60;
  EXPECT_EQ(scheduler.tick(), 1u);
  while (store.runs("long").empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  scheduler.stop(std::chrono::milliseconds(50), "the server stopped (SIGTERM) while it ran");
  const auto runs = store.runs("long");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].state, RunState::kFailed);
  EXPECT_THAT(runs[0].error, HasSubstr("the server stopped (SIGTERM) while it ran"));
}

TEST_F(SchedulerTest, ADroppedTaskFinishesItsRunAndIsNotScheduledAgain) {
  create("gone", "1 MINUTE", "select block(); insert into log values ('x')");
  g_release = false;
  now = kT0 + 60;
  EXPECT_EQ(scheduler.tick(), 1u);
  while (g_blocked.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_TRUE(store.drop("gone"));
  g_release = true;
  scheduler.wait_idle();
  EXPECT_EQ(tick_at(kT0 + 120), 0u);
  EXPECT_EQ(states("gone"), std::vector<std::string>{"Succeeded"});  // its history stays
}

TEST_F(SchedulerTest, DefinitionErrors) {
  auto kind = [&](const std::string& name, const std::string& schedule, const std::string& sql) {
    try {
      create(name, schedule, sql);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kInternal;
  };
  EXPECT_EQ(kind("bad name", "1 DAY", "select 1"), ErrorKind::kUsage);
  EXPECT_EQ(kind("t", "0 25 * * *", "select 1"), ErrorKind::kUsage);
  EXPECT_EQ(kind("t", "1 DAY", " ; "), ErrorKind::kUsage);
  create("t", "1 DAY", "select 1");
  EXPECT_EQ(kind("t", "1 DAY", "select 1"), ErrorKind::kConflict);
  EXPECT_THROW(store.get("nope"), Error);
}

}  // namespace
}  // namespace reco::tasks
