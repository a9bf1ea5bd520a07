// Request bodies of both protocols (src/serving/payloads.h): inference CSV and JSON, and the
// external-function batch of each of the three functions. Errors are reco::Error with a bounded
// message; nothing else escapes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "serving/payloads.h"

using namespace reco::serving;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  static const FunctionSignature kInvoke{"invoke", {"model_name", "user_id", "item_id"}, 3};
  static const FunctionSignature kTrain{"train", {"input_table", "output_table", "options"}, 2};
  try {
    switch (bytes[0] % 4) {
      case 0:
        (void)parse_csv_pairs(body);
        break;
      case 1:
        (void)parse_json_instances(body);
        break;
      case 2:
        for (const BatchRow& row : parse_batch(body, kInvoke)) {
          for (size_t i = 0; i < 3; ++i) {
            if (row.has_arg(i) && i > 0) (void)id_from_json(row.args[i], row.where(kInvoke, i));
          }
        }
        break;
      default:
        (void)parse_batch(body, kTrain);
        break;
    }
  } catch (const reco::Error& e) {
    if (std::string_view(e.what()).size() > 4096) std::abort();  // messages stay bounded
  }
  return 0;
}
