#pragma once
// Filesystem helpers. Whatever reco writes for others to read (artifacts, registry records) is
// written to a temporary name in the same directory, flushed, and renamed into place, so a
// reader never sees a half-written file.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace reco {

// The error for a failed write of `what`: a read-only file system or a refused permission is
// Error(kConflict) ("... read-only ..."), which no retry can fix; anything else (a full disk)
// Error(kIo).
Error write_error(const std::string& what, int err);

// Writes `<path>.tmp-<pid>-<n>`, fsyncs it and renames it over `path`.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
// Appends `line` and a newline to the file (created when absent) in one write on an O_APPEND
// descriptor, then fsyncs: the line is whole on disk when this returns. A last line left without
// its newline (a crash mid-write) is ended first, so readers can skip it alone. Appenders to one
// file must be serialised by the caller (a lock) if lines may exceed PIPE_BUF.
void append_line_durable(const std::filesystem::path& path, std::string_view line);
// Removes the temporary files of write_file_atomic (and the files and directories of other
// writers using the same `.tmp-<pid>-<n>` suffix) in `dir` whose process is gone. Returns how
// many it removed.
size_t remove_stale_temp_files(const std::filesystem::path& dir);
void ensure_directory(const std::filesystem::path& dir);  // mkdir -p with a clear error

// The names of the files in `dir` that end in `suffix` (".json"), without it, unsorted; empty
// when `dir` does not exist. Records stored one file per name are listed with it.
std::vector<std::string> names_with_suffix(const std::filesystem::path& dir,
                                           std::string_view suffix);

// An exclusive lock on a lock file (flock; the file and its folder are created when absent),
// held until destruction. It serialises read-modify-write of records between threads and
// processes; the kernel releases it when a process dies, so it never outlives its holder.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& lock_file);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

// The same without waiting: held() is false when another holder has it.
class TryLock {
 public:
  explicit TryLock(const std::filesystem::path& lock_file);
  ~TryLock();
  TryLock(const TryLock&) = delete;
  TryLock& operator=(const TryLock&) = delete;
  bool held() const { return held_; }

 private:
  int fd_ = -1;
  bool held_ = false;
};

// A regular file open for reading. Every file a user or client can name is opened this way:
// with O_NONBLOCK, so a FIFO or a device cannot block the open, then refused unless it is a
// regular file, so nothing can make reco wait on a pipe or read an endless device.
class InputFile {
 public:
  // Throws Error(kNotFound) when absent, Error(kUsage) "PATH is a directory / a FIFO / ...,
  // not a regular file", Error(kIo) when it cannot be opened.
  explicit InputFile(const std::filesystem::path& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }  // of the open file, at open time
  const std::string& name() const { return name_; }
  // Bytes [offset, offset + n) of the file; Error(kIo) if the file is shorter by now.
  std::string read_at(uint64_t offset, uint64_t n) const;

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string name_;
};

// The whole of a regular file (InputFile's rules). Files larger than max_bytes are refused
// with Error(kInput) naming the file, its size and the limit, before anything is read.
std::string read_file(const std::filesystem::path& path, uint64_t max_bytes = UINT64_MAX);
// The same, nullopt when the file does not exist.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path,
                                               uint64_t max_bytes = UINT64_MAX);

}  // namespace reco
