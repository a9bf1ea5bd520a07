#pragma once
// A strict, incremental HTTP/1.1 request parser (RFC 9112) for reco's HTTP front. Strict where
// leniency lets two parsers disagree about where a request ends (request smuggling) and bounded
// everywhere, so no input costs more memory than the limits:
//  - lines end with CRLF; a bare CR or LF, a NUL or another control byte is an error;
//  - header names are tokens, with no whitespace before the colon; obsolete line folding is an
//    error; the request line and header block have size limits (414 / 431);
//  - Content-Length is digits only, at most once; Transfer-Encoding is exactly "chunked" (any
//    other coding or list: 400), never together with Content-Length, never on HTTP/1.0;
//  - chunk sizes are hex without sign or space, each chunk's data ends with CRLF, chunk
//    extensions and trailers are bounded; the body is bounded by the caller's limit (413);
//  - HTTP/1.1 requests have exactly one Host header.
// Errors carry the status to answer; after one, the connection must be closed. No recursion,
// no allocation beyond the request being built.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "serving/http_message.h"

namespace reco::serving {

struct ParserLimits {
  size_t max_request_line = 8 * 1024;   // 414 beyond
  size_t max_header_bytes = 64 * 1024;  // request line + headers (+ trailers): 431 beyond
  size_t max_headers = 100;             // 431 beyond
  size_t max_body = 64 * 1024 * 1024;   // 413 beyond (the caller may lower it per request)
};

class RequestParser {
 public:
  enum class State {
    kHeaders,  // reading the request line and headers
    kBody,     // headers complete; reading the body
    kDone,     // a whole request
    kError,    // error_status() / error_message() say what; close the connection
  };

  explicit RequestParser(ParserLimits limits = {});

  // Consumes bytes of the connection; returns how many it used (it stops at the end of a
  // request, so the rest belongs to the next one). Call again with more data while the state
  // is kHeaders or kBody.
  size_t feed(std::string_view data);
  State state() const { return state_; }
  // True once, after the feed that completed the headers: the caller may then refuse the
  // request before its body is read, or lower the body limit.
  bool take_headers_event();
  void set_body_limit(size_t limit) { limits_.max_body = limit; }
  // Declared body size when Content-Length was sent; -1 for chunked or none.
  int64_t content_length() const { return content_length_; }
  bool chunked() const { return chunked_; }
  bool has_body() const { return chunked_ || content_length_ > 0; }

  Request& request() { return request_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  // Starts the next request on the same connection.
  void reset();

 private:
  enum class BodyState { kSize, kData, kDataEnd, kTrailers };
  size_t feed_headers(std::string_view data);
  size_t feed_body(std::string_view data);
  bool line(std::string_view text);  // one header-section line without its CRLF
  bool request_line(std::string_view text);
  bool header_line(std::string_view text);
  bool finish_headers();
  bool chunk_size_line(std::string_view text);
  bool fail(int status, std::string message);

  ParserLimits limits_;
  State state_ = State::kHeaders;
  Request request_;
  std::string pending_;  // a partial line
  size_t header_bytes_ = 0;
  size_t leading_empty_lines_ = 0;
  bool seen_request_line_ = false;
  bool headers_event_ = false;
  int64_t content_length_ = -1;
  bool chunked_ = false;
  BodyState body_state_ = BodyState::kSize;
  uint64_t chunk_left_ = 0;
  size_t trailer_bytes_ = 0;
  int error_status_ = 0;
  std::string error_message_;
};

// Percent-decodes a path; false for a malformed escape or a decoded NUL.
bool decode_path(std::string_view raw, std::string& out);

}  // namespace reco::serving
