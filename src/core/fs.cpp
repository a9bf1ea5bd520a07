#include "core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "core/error.h"

namespace reco {
namespace fs = std::filesystem;

void ensure_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(ErrorKind::kIo,
                fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  ensure_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path());
  const fs::path tmp =
      path.string() + fmt::format(".tmp-{}-{}", ::getpid(), std::random_device{}());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(ErrorKind::kIo,
                fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno)));
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(ErrorKind::kIo,
                fmt::format("cannot flush {}: {}", tmp.string(), std::strerror(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(ErrorKind::kIo, fmt::format("cannot rename {} to {}: {}", tmp.string(),
                                            path.string(), std::strerror(err)));
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec))
      throw Error(ErrorKind::kNotFound, fmt::format("file not found: {}", path.string()));
    throw Error(ErrorKind::kIo,
                fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  std::string data;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size > 0) {
    data.resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(data.data(), size);
  }
  if (!in && !in.eof()) throw Error(ErrorKind::kIo, fmt::format("cannot read {}", path.string()));
  return data;
}

}  // namespace reco
