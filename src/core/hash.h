#pragma once
// Non-cryptographic hashes: FNV-1a 64 for data fingerprints, CRC-32 (zlib) for artifact checksums.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reco {

class Fnv1a64 {
 public:
  void update(const void* data, size_t n) {
    auto* p = static_cast<const unsigned char*>(data);
    for (size_t k = 0; k < n; ++k) {
      state_ ^= p[k];
      state_ *= 0x100000001b3ULL;
    }
  }
  void update_u64(uint64_t v) {
    unsigned char b[8];
    for (int k = 0; k < 8; ++k) b[k] = static_cast<unsigned char>(v >> (8 * k));
    update(b, 8);
  }
  uint64_t digest() const { return state_; }

 private:
  uint64_t state_ = 0xcbf29ce484222325ULL;
};

uint32_t crc32(const void* data, size_t n, uint32_t seed = 0);
std::string hex64(uint64_t v);  // 16 lowercase hex digits

}  // namespace reco
