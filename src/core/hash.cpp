#include "core/hash.h"

#include <zlib.h>

#include <fmt/format.h>

namespace reco {

uint32_t crc32(const void* data, size_t n, uint32_t seed) {
  uLong crc = seed;
  auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    const uInt chunk = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string hex64(uint64_t v) {
  return fmt::format("{:016x}", v);
}

}  // namespace reco
