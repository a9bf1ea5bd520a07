// The HTTP/1.1 request parser (src/serving/http_parser.h) on arbitrary bytes, fed in pieces
// whose sizes come from the input, with pipelined requests: it must never crash, never hold more
// than its limits, and give the same verdict whatever the piece sizes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "serving/http_parser.h"

using reco::serving::ParserLimits;
using reco::serving::RequestParser;
using State = RequestParser::State;

namespace {

struct Verdict {
  State state;
  int status;
  size_t used;
  std::string body;
};

// Parses requests from `data` until an error or the end; pieces of `step` bytes (0: whole).
Verdict run(std::string_view data, size_t step, const ParserLimits& limits) {
  RequestParser p(limits);
  size_t used = 0;
  while (used < data.size()) {
    const std::string_view piece = data.substr(used, step ? step : data.size());
    size_t n = p.feed(piece);
    if (p.take_headers_event()) n += p.feed(piece.substr(n));
    used += n;
    if (p.state() == State::kError) break;
    if (p.request().body.size() > limits.max_body) std::abort();
    if (p.state() == State::kDone) {
      p.reset();
      continue;
    }
    if (n == 0) break;
  }
  return {p.state(), p.error_status(), used, p.request().body};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  ParserLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_request_line = 512;
  limits.max_body = 1024;
  const size_t step = 1 + bytes[0] % 16;
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const Verdict whole = run(data, 0, limits);
  const Verdict pieces = run(data, step, limits);
  // The verdict may not depend on how the bytes arrived. (After an error the connection closes,
  // so how far the parser read before giving up does not matter.)
  if (whole.state != pieces.state || whole.status != pieces.status || whole.body != pieces.body)
    std::abort();
  if (whole.state != State::kError && whole.used != pieces.used) std::abort();
  return 0;
}
