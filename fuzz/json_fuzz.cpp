// JSON from clients (src/core/json.h): the depth check, the parser and the bounded preview on
// arbitrary text: no crash, no deep recursion, previews within their bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  const auto parsed = reco::try_parse_json(text);
  try {
    const nlohmann::json j = reco::parse_json(text);
    if (!parsed) std::abort();  // the two must agree
    if (reco::json_preview(j, 40).size() > 40) std::abort();
    (void)reco::json_text_lenient(j);
  } catch (const nlohmann::json::exception&) {
    if (parsed) std::abort();
  }
  return 0;
}
