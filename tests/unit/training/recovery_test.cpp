#include "training/recovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/fs.h"
#include "core/json.h"
#include "registry/model_registry.h"
#include "storage/warehouse.h"
#include "training/jobs.h"
#include "training/steps.h"

namespace reco::training {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

// A pid that cannot be alive: pid_max is below 2^22 on Linux.
constexpr int kDeadPid = (1 << 22) + 17;

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() {
    std::string tmpl = "/tmp/reco-recovery-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~RecoveryTest() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  Home home() const { return Home(root_); }
  std::string db() const { return (root_ / "warehouse.db").string(); }

  // A job record left InProgress by a dead process.
  JobRecord orphan_job() {
    JobStore store(home());
    JobRecord r = store.create("train", json::object());
    r.pid = kDeadPid;
    store.save(r);
    return r;
  }

  // A version as publish() leaves it after staging: run.json InProgress, model.reco.staged.
  registry::Version staged_version(const std::string& job, bool with_output, int pid = kDeadPid) {
    registry::ModelRegistry models(home().models_dir());
    const registry::Version v = models.reserve_version("m");
    json run = {{"job", job},
                {"state", "InProgress"},
                {"pid", pid},
                {"summary", {{"job_id", job}, {"model", "m"}, {"version", v.number}}}};
    if (with_output) {
      run["output_table"] = "out";
      run["db"] = db();
      run["db_backend"] = "sqlite";
    }
    models.write_run_info(v, run);
    write_file_atomic(v.staged_path(), "staged artifact bytes");
    return v;
  }

  void record_publication(const std::string& job, int version) {
    auto wh = storage::open_warehouse(db());
    auto tx = wh->begin();
    const TableRef t{std::nullopt, kPublicationsTable};
    if (!wh->table_exists(t)) {
      wh->create_table(
          t, {{"job", storage::ColumnType::kText}, {"version", storage::ColumnType::kInteger}},
          false);
    }
    wh->inserter(t, {"job", "version"})->insert({job, int64_t{version}});
    tx->commit();
  }

  fs::path root_;
};

TEST_F(RecoveryTest, NothingToDoOnACleanHome) {
  EXPECT_TRUE(recover_home(home()).empty());
}

TEST_F(RecoveryTest, AVersionStagedBeforeTheCommitPointIsRemovedAndItsJobFails) {
  const JobRecord job = orphan_job();
  const auto v = staged_version(job.id, /*with_output=*/true);
  auto wh = storage::open_warehouse(db());  // a warehouse without the publication
  const RecoveryReport r = recover_home(home());
  EXPECT_EQ(r.versions_removed, 1u);
  EXPECT_EQ(r.versions_committed, 0u);
  EXPECT_EQ(r.jobs_settled, 1u);
  EXPECT_FALSE(fs::exists(v.staged_path()));
  EXPECT_FALSE(fs::exists(v.artifact_path()));
  const json run = parse_json(read_file(v.run_info_path()));
  EXPECT_EQ(run["state"], "Failed");
  EXPECT_THAT(run["failure"].get<std::string>(), HasSubstr("stopped before the job committed"));
  EXPECT_TRUE(registry::ModelRegistry(home().models_dir()).versions("m").empty());
  const JobRecord back = JobStore(home()).get(job.id);
  EXPECT_EQ(back.state, JobState::kFailed);
  EXPECT_FALSE(back.orphaned);  // settled in the file
  EXPECT_THAT(back.failure, HasSubstr("stopped before it finished; nothing was published"));
  // The next version number is not reused.
  EXPECT_EQ(registry::ModelRegistry(home().models_dir()).reserve_version("m").number, v.number + 1);
  EXPECT_TRUE(recover_home(home()).empty());  // settled once
}

TEST_F(RecoveryTest, AVersionWhoseOutputTableCommittedIsCompleted) {
  const JobRecord job = orphan_job();
  const auto v = staged_version(job.id, /*with_output=*/true);
  record_publication(job.id, v.number);
  const RecoveryReport r = recover_home(home());
  EXPECT_EQ(r.versions_committed, 1u);
  EXPECT_EQ(r.jobs_settled, 1u);
  EXPECT_TRUE(fs::exists(v.artifact_path()));
  EXPECT_FALSE(fs::exists(v.staged_path()));
  EXPECT_EQ(registry::ModelRegistry(home().models_dir()).versions("m"), std::vector<int>{v.number});
  const json run = parse_json(read_file(v.run_info_path()));
  EXPECT_EQ(run["state"], "Completed");
  const JobRecord back = JobStore(home()).get(job.id);
  EXPECT_EQ(back.state, JobState::kCompleted);
  EXPECT_EQ(parse_json(back.result)["version"], v.number);
}

TEST_F(RecoveryTest, WithoutAnOutputTableTheRenameIsTheCommitPoint) {
  const JobRecord job = orphan_job();
  const auto v = staged_version(job.id, /*with_output=*/false);
  const RecoveryReport r = recover_home(home());
  EXPECT_EQ(r.versions_removed, 1u);
  EXPECT_FALSE(fs::exists(v.staged_path()));
  EXPECT_FALSE(fs::exists(v.artifact_path()));
}

TEST_F(RecoveryTest, AJobThatDiedAfterPublishingIsCompletedFromItsVersion) {
  const JobRecord job = orphan_job();
  registry::ModelRegistry models(home().models_dir());
  const auto v = staged_version(job.id, false);
  models.commit_staged(v);
  models.write_run_info(v, {{"job", job.id},
                            {"state", "Completed"},
                            {"model", "m"},
                            {"version", v.number},
                            {"finished_at", "x"}});
  const RecoveryReport r = recover_home(home());
  EXPECT_EQ(r.jobs_settled, 1u);
  const JobRecord back = JobStore(home()).get(job.id);
  EXPECT_EQ(back.state, JobState::kCompleted);
  const json result = parse_json(back.result);
  EXPECT_EQ(result["version"], v.number);
  EXPECT_FALSE(result.contains("finished_at"));
}

TEST_F(RecoveryTest, LiveJobsAndFreshReservationsAreLeftAlone) {
  const auto live = staged_version("job-live", true, ::getpid());
  registry::ModelRegistry models(home().models_dir());
  const auto fresh = models.reserve_version("m");  // run.json names this (live) process
  EXPECT_TRUE(recover_home(home()).empty());
  EXPECT_TRUE(fs::exists(live.staged_path()));
  EXPECT_TRUE(fs::exists(fresh.dir));
}

TEST_F(RecoveryTest, AReservationKnowsItsOwnerFromTheStart) {
  registry::ModelRegistry models(home().models_dir());
  const auto v = models.reserve_version("m", json{{"job", "job-r"}});
  const json run = parse_json(read_file(v.run_info_path(), 1 << 20));
  EXPECT_EQ(run["state"], "InProgress");
  EXPECT_EQ(run["pid"], ::getpid());
  EXPECT_EQ(run["job"], "job-r");
  // No staging directory stays behind.
  for (const auto& e : fs::directory_iterator(home().models_dir())) {
    EXPECT_EQ(e.path().filename().string().find(".reserve-"), std::string::npos) << e.path();
  }
  // The same reservation left by a dead process is settled as Failed, whatever the age.
  json dead = run;
  dead["pid"] = kDeadPid;
  models.write_run_info(v, dead);
  const RecoveryReport r = recover_home(home());
  EXPECT_EQ(r.versions_removed, 1u);
  const json settled = parse_json(read_file(v.run_info_path(), 1 << 20));
  EXPECT_EQ(settled["state"], "Failed");
  EXPECT_THAT(settled["failure"].get<std::string>(), ::testing::HasSubstr("job-r"));
}

TEST_F(RecoveryTest, ReservationDirectoriesOfDeadProcessesGo) {
  // What a process killed between making its reservation and renaming it into place leaves.
  const fs::path stale = home().models_dir() / fmt::format(".reserve-m.tmp-{}-7", kDeadPid);
  fs::create_directories(stale);
  std::ofstream(stale / "run.json") << "{}";
  const fs::path live = home().models_dir() / fmt::format(".reserve-m.tmp-{}-8", ::getpid());
  fs::create_directories(live);
  const RecoveryReport r = recover_home(home());
  EXPECT_EQ(r.temp_files_removed, 1u);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(registry::ModelRegistry(home().models_dir()).model_names().empty());
}

TEST_F(RecoveryTest, TemporaryFilesOfDeadProcessesGo) {
  registry::ModelRegistry models(home().models_dir());
  const auto v = staged_version("job-x", false, ::getpid());
  std::ofstream(v.dir / fmt::format("model.reco.tmp-{}-1", kDeadPid)) << "partial";
  fs::create_directories(root_ / "endpoints");
  std::ofstream(root_ / "endpoints" / fmt::format("ep.json.tmp-{}-2", kDeadPid)) << "partial";
  const RecoveryReport r = recover_home(home());
  EXPECT_EQ(r.temp_files_removed, 2u);
  EXPECT_TRUE(fs::exists(v.staged_path()));
}

}  // namespace
}  // namespace reco::training
