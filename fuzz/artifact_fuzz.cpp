// The model artifact reader (src/registry/artifact.h) on arbitrary bytes: every damaged file is
// Error(kCorrupt) (or kUsage/kInput), never a crash or an allocation beyond the file's size;
// whatever decodes validates and predicts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "registry/artifact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  try {
    const auto artifact = reco::registry::decode_artifact(data, "fuzz.reco");
    (void)artifact.model->predict(1, 1);
  } catch (const reco::Error&) {
  }
  return 0;
}
