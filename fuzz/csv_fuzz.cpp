// The CSV reader (src/data/csv.h) on arbitrary bytes with options chosen by the first byte:
// records, conversions and errors, never a crash; rewind gives the same records again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/csv.h"

using namespace reco::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  const uint8_t o = bytes[0];
  CsvOptions options;
  static const char* const kDelimiters[] = {",", "\t", "|", "::"};
  options.delimiter = kDelimiters[o & 3];
  options.quoting = (o & 4) == 0;
  options.header = (o & 8) == 0;
  options.encoding = (o & 16) ? TextEncoding::kAuto : TextEncoding::kUtf8;
  options.require_rows = (o & 32) == 0;
  options.max_record_bytes = 256;
  options.max_fields = 16;
  std::string data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  try {
    auto reader = CsvReader::from_string(data, "fuzz.csv", options);
    CsvRecord record;
    std::vector<size_t> sizes;
    while (reader.next(record)) {
      if (record.size() > options.max_fields) std::abort();
      sizes.push_back(record.size());
      for (size_t i = 0; i < record.size(); ++i) {
        (void)parse_int64(record[i]);
        (void)parse_finite_double(record[i]);
      }
    }
    reader.rewind();
    size_t k = 0;
    while (reader.next(record)) {
      if (k >= sizes.size() || sizes[k++] != record.size()) std::abort();
    }
  } catch (const reco::Error&) {
  }
  return 0;
}
