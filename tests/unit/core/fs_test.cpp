#include "core/fs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/json.h"
#include "core/process.h"

namespace reco {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = "/tmp/reco-fs-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The pid of a process that has exited (and been reaped).
int64_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(InputFile, RefusesAFifoWithoutWaitingForAWriter) {
  ScratchDir dir;
  const fs::path fifo = dir.path() / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { InputFile f(fifo); }), fifo.string() + " is a FIFO, not a regular file");
  EXPECT_EQ(error_of([&] { read_file(fifo); }), fifo.string() + " is a FIFO, not a regular file");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(InputFile, RefusesDirectoriesAndDevicesAndNamesMissingFiles) {
  ScratchDir dir;
  EXPECT_THAT(error_of([&] { InputFile f(dir.path()); }),
              HasSubstr("is a directory, not a regular file"));
  EXPECT_EQ(error_of([&] { InputFile f("/dev/zero"); }),
            "/dev/zero is a character device, not a regular file");
  EXPECT_EQ(error_of([&] { InputFile f(dir.path() / "nope"); }),
            "file not found: " + (dir.path() / "nope").string());
  try {
    InputFile f(dir.path() / "nope");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
}

TEST(InputFile, ReadsRangesAndLimitsWholeReads) {
  ScratchDir dir;
  const fs::path file = dir.path() / "f";
  write_file_atomic(file, "hello world");
  const InputFile f(file);
  EXPECT_EQ(f.size(), 11u);
  EXPECT_EQ(f.read_at(6, 5), "world");
  EXPECT_THAT(error_of([&] { (void)f.read_at(6, 6); }), HasSubstr("the file ended at byte 11"));
  EXPECT_EQ(read_file(file), "hello world");
  EXPECT_EQ(error_of([&] { read_file(file, 10); }),
            file.string() + " is too large: 11 bytes (the limit is 10 bytes)");
}

TEST(StaleTempFiles, OnlyThoseOfDeadProcessesAreRemoved) {
  ScratchDir dir;
  const auto touch = [&](const std::string& name) { std::ofstream(dir.path() / name) << "x"; };
  const int64_t dead = dead_pid();
  ASSERT_FALSE(process_alive(dead));
  touch(fmt::format("model.reco.tmp-{}-123", dead));
  touch(fmt::format("run.json.tmp-{}-9", ::getpid()));  // a live writer's
  touch("model.reco");
  touch("notes.tmp-abc-1");  // not ours
  EXPECT_EQ(remove_stale_temp_files(dir.path()), 1u);
  EXPECT_FALSE(fs::exists(dir.path() / fmt::format("model.reco.tmp-{}-123", dead)));
  EXPECT_TRUE(fs::exists(dir.path() / fmt::format("run.json.tmp-{}-9", ::getpid())));
  EXPECT_TRUE(fs::exists(dir.path() / "model.reco"));
  EXPECT_TRUE(fs::exists(dir.path() / "notes.tmp-abc-1"));
  EXPECT_EQ(remove_stale_temp_files(dir.path() / "absent"), 0u);
}

TEST(AppendLines, ATornLineIsSkippedAloneAndTheNextAppendStartsAfresh) {
  ScratchDir dir;
  const fs::path log = dir.path() / "sub" / "events.jsonl";
  EXPECT_TRUE(read_json_lines(log).objects.empty());  // missing: no lines
  append_line_durable(log, R"({"n": 1})");
  {
    std::ofstream f(log, std::ios::app);
    f << R"({"n": 2, "torn)";  // a crash in the middle of a write
  }
  JsonLines read = read_json_lines(log);
  ASSERT_EQ(read.objects.size(), 1u);
  EXPECT_EQ(read.skipped, 1u);
  append_line_durable(log, R"({"n": 3})");
  append_line_durable(log, "[1, 2]");  // not an object: skipped and counted
  read = read_json_lines(log);
  ASSERT_EQ(read.objects.size(), 2u);
  EXPECT_EQ(read.objects[0]["n"], 1);
  EXPECT_EQ(read.objects[1]["n"], 3);
  EXPECT_EQ(read.skipped, 2u);
  EXPECT_EQ(read_file(log).back(), '\n');
}

TEST(AppendLines, AReadOnlyFolderIsAClearError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  ScratchDir dir;
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THAT(error_of([&] { append_line_durable(dir.path() / "x.jsonl", "{}"); }),
              HasSubstr("read-only"));
  fs::permissions(dir.path(), fs::perms::owner_all);
}

TEST(Records, NamesWithASuffix) {
  ScratchDir dir;
  for (const char* f : {"a.json", "b.c.json", "d.runs.jsonl", ".json", "e.json.tmp-1-2"})
    std::ofstream(dir.path() / f) << "{}";
  auto names = names_with_suffix(dir.path(), ".json");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b.c"}));
  EXPECT_TRUE(names_with_suffix(dir.path() / "absent", ".json").empty());
}

TEST(Locks, ATryLockFailsWhileAnotherHolderHasTheLockAndSucceedsAfter) {
  ScratchDir dir;
  const fs::path lock = dir.path() / "locks" / "x.lease";
  {
    const TryLock first(lock);
    EXPECT_TRUE(first.held());
    const TryLock second(lock);  // another open file description: flock conflicts
    EXPECT_FALSE(second.held());
  }
  const TryLock again(lock);
  EXPECT_TRUE(again.held());
  // A DirectoryLock excludes TryLocks too.
  const fs::path dir_lock = dir.path() / ".lock";
  const DirectoryLock held(dir_lock);
  EXPECT_FALSE(TryLock(dir_lock).held());
}

}  // namespace
}  // namespace reco
