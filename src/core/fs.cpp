#include "core/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/error.h"
#include "core/process.h"

namespace reco {
namespace fs = std::filesystem;

Error write_error(const std::string& what, int err) {
  if (err == EACCES || err == EPERM || err == EROFS) {
    return Error(ErrorKind::kConflict,
                 fmt::format("{}: {} (the home or its file system is read-only for this user; "
                             "reads still work)",
                             what, std::strerror(err)));
  }
  return Error(ErrorKind::kIo, fmt::format("{}: {}", what, std::strerror(err)));
}

void ensure_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw write_error("cannot create directory " + dir.string(), ec.value());
}

namespace {

// Writes all of `bytes` to fd; 0 or the errno of the failed write.
int write_all(int fd, std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  return 0;
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the file's own data is already on disk
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  ensure_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path());
  const fs::path tmp =
      path.string() + fmt::format(".tmp-{}-{}", ::getpid(), std::random_device{}());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw write_error("cannot create " + tmp.string(), errno);
  if (const int err = write_all(fd, bytes)) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw write_error("cannot write " + tmp.string(), err);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw write_error("cannot flush " + tmp.string(), err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw write_error(fmt::format("cannot rename {} to {}", tmp.string(), path.string()), err);
  }
}

void append_line_durable(const fs::path& path, std::string_view line) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  ensure_directory(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw write_error("cannot open " + path.string() + " for appending", errno);
  struct stat st {};
  const bool created = ::fstat(fd, &st) == 0 && st.st_size == 0;
  std::string text;
  char last = '\n';
  // A line torn by a crash is ended first, so it cannot swallow this one.
  if (st.st_size > 0 && ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') text = "\n";
  text.append(line);
  text.push_back('\n');
  int err = write_all(fd, text);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) throw write_error("cannot append to " + path.string(), err);
  if (created) fsync_directory(dir);
}

namespace {

int open_lock_file(const fs::path& path) {
  ensure_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path());
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw write_error("cannot open lock file " + path.string(), errno);
  return fd;
}

}  // namespace

DirectoryLock::DirectoryLock(const fs::path& lock_file) : fd_(open_lock_file(lock_file)) {
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const int err = errno;
      ::close(fd_);
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot lock {}: {}", lock_file.string(), std::strerror(err)));
    }
  }
}

DirectoryLock::~DirectoryLock() {
  ::close(fd_);  // closing releases the lock
}

TryLock::TryLock(const fs::path& lock_file) : fd_(open_lock_file(lock_file)) {
  held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
}

TryLock::~TryLock() {
  ::close(fd_);
}

std::vector<std::string> names_with_suffix(const fs::path& dir, std::string_view suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() > suffix.size() && file.ends_with(suffix))
      out.push_back(file.substr(0, file.size() - suffix.size()));
  }
  return out;
}

size_t remove_stale_temp_files(const fs::path& dir) {
  size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t at = name.rfind(".tmp-");
    if (at == std::string::npos) continue;
    // ".tmp-<pid>-<n>"
    const std::string_view rest = std::string_view(name).substr(at + 5);
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string_view::npos) continue;
    int64_t pid = 0;
    const auto [ptr, err] = std::from_chars(rest.data(), rest.data() + dash, pid);
    if (err != std::errc() || ptr != rest.data() + dash || process_alive(pid)) continue;
    std::error_code rm;
    const fs::file_status st = it->symlink_status(rm);
    if (fs::is_regular_file(st) && fs::remove(it->path(), rm)) ++removed;
    if (fs::is_directory(st) && fs::remove_all(it->path(), rm) > 0 && !rm) ++removed;
  }
  return removed;
}

namespace {

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return nullptr;
}

}  // namespace

InputFile::InputFile(const fs::path& path) : name_(path.string()) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd_ < 0) {
    const int err = errno;
    if (err == ENOENT) throw Error(ErrorKind::kNotFound, fmt::format("file not found: {}", name_));
    if (err == EISDIR) {
      throw Error(ErrorKind::kUsage, fmt::format("{} is a directory, not a regular file", name_));
    }
    throw Error(ErrorKind::kIo, fmt::format("cannot open {}: {}", name_, std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw Error(ErrorKind::kIo, fmt::format("cannot read {}: {}", name_, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    const char* kind = file_kind(st.st_mode);
    throw Error(ErrorKind::kUsage, kind ? fmt::format("{} is {}, not a regular file", name_, kind)
                                        : fmt::format("{} is not a regular file", name_));
  }
  // Blocking reads from here on (a regular file never blocks for long).
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string InputFile::read_at(uint64_t offset, uint64_t n) const {
  std::string data(static_cast<size_t>(n), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t got =
        ::pread(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorKind::kIo, fmt::format("cannot read {}: {}", name_, std::strerror(errno)));
    }
    if (got == 0) {
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot read {}: the file ended at byte {} (it was {} bytes when "
                              "opened; changed while being read?)",
                              name_, offset + done, size_));
    }
    done += static_cast<size_t>(got);
  }
  return data;
}

std::string read_file(const fs::path& path, uint64_t max_bytes) {
  const InputFile file(path);
  if (file.size() > max_bytes) {
    throw Error(ErrorKind::kInput, fmt::format("{} is too large: {} bytes (the limit is {} bytes)",
                                               file.name(), file.size(), max_bytes));
  }
  return file.read_at(0, file.size());
}

std::optional<std::string> read_file_if_exists(const fs::path& path, uint64_t max_bytes) {
  try {
    return read_file(path, max_bytes);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotFound) return std::nullopt;
    throw;
  }
}

}  // namespace reco
