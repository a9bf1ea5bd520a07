#pragma once
// Filesystem helpers. Whatever reco writes for others to read (artifacts, registry records) is
// written to a temporary name in the same directory, flushed, and renamed into place, so a
// reader never sees a half-written file.

#include <filesystem>
#include <string>
#include <string_view>

namespace reco {

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
std::string read_file(const std::filesystem::path& path);  // throws Error(kNotFound/kIo)
void ensure_directory(const std::filesystem::path& dir);   // mkdir -p with a clear error

}  // namespace reco
