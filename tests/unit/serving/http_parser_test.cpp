#include "serving/http_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace reco::serving {
namespace {

using ::testing::HasSubstr;
using State = RequestParser::State;

// Feeds `text` in pieces of `step` bytes (1: byte by byte), answering the headers event.
struct Parsed {
  State state;
  int status;
  std::string message;
  Request request;
  size_t used;
};

Parsed parse(const std::string& text, size_t step = 0, ParserLimits limits = {}) {
  RequestParser p(limits);
  size_t used = 0;
  if (step == 0) step = text.size() + 1;
  while (used < text.size() && (p.state() == State::kHeaders || p.state() == State::kBody)) {
    const std::string_view piece = std::string_view(text).substr(used, step);
    size_t n = p.feed(piece);
    if (p.take_headers_event()) n += p.feed(piece.substr(n));
    used += n;
    if (n == 0 && piece.size() > 0 && p.state() != State::kDone && p.state() != State::kError)
      break;
  }
  if (p.take_headers_event()) (void)p.feed("");
  return {p.state(), p.error_status(), p.error_message(), p.request(), used};
}

TEST(HttpParser, ParsesARequestWithABodyInAnyPieces) {
  const std::string text =
      "POST /endpoints/a%20b/invocations?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: text/csv\r\n"
      "Content-Length: 8\r\n\r\n1,308\n2,";
  for (size_t step : {0, 1, 3, 17}) {
    const Parsed r = parse(text, step);
    ASSERT_EQ(r.state, State::kDone) << step << " " << r.message;
    EXPECT_EQ(r.request.method, "POST");
    EXPECT_EQ(r.request.path, "/endpoints/a b/invocations");
    EXPECT_EQ(r.request.query, "x=1");
    EXPECT_EQ(r.request.get_header_value("content-type"), "text/csv");
    EXPECT_EQ(r.request.body, "1,308\n2,");
    EXPECT_EQ(r.used, text.size());
  }
}

TEST(HttpParser, StopsAtTheEndOfARequestSoPipelinedOnesFollow) {
  const std::string one = "GET /ping HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser p;
  const std::string two = one + one;
  size_t n = p.feed(two);
  EXPECT_TRUE(p.take_headers_event());
  n += p.feed(std::string_view(two).substr(n));
  EXPECT_EQ(p.state(), State::kDone);
  EXPECT_EQ(n, one.size());
  p.reset();
  EXPECT_EQ(p.feed(std::string_view(two).substr(n)), one.size());
}

TEST(HttpParser, ChunkedBodies) {
  const std::string text =
      "POST /invoke HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (size_t step : {0, 1, 4}) {
    const Parsed r = parse(text, step);
    ASSERT_EQ(r.state, State::kDone) << r.message;
    EXPECT_EQ(r.request.body, "hello world");
  }
}

struct Bad {
  const char* what;
  std::string text;
  int status;
  const char* message;
};

TEST(HttpParser, RefusesEverySmugglingVariant) {
  const std::string h = "POST / HTTP/1.1\r\nHost: h\r\n";
  const Bad cases[] = {
      {"CL+TE", h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "both Content-Length and Transfer-Encoding"},
      {"two CL", h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400,
       "more than one Content-Length"},
      {"same CL twice", h + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400,
       "more than one Content-Length"},
      {"CL list", h + "Content-Length: 5, 5\r\n\r\nhello", 400, "is not a byte count"},
      {"CL sign", h + "Content-Length: +5\r\n\r\nhello", 400, "is not a byte count"},
      {"xchunked", h + "Transfer-Encoding: xchunked\r\n\r\n", 400, "is not supported"},
      {"chunked list", h + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400, "is not supported"},
      {"gzip coding", h + "Transfer-Encoding: gzip, chunked\r\n\r\n", 400, "is not supported"},
      {"two TE", h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       "more than one Transfer-Encoding"},
      {"obs-fold", h + "X-A: 1\r\n  folded\r\n\r\n", 400, "obsolete line folding"},
      {"space before colon", h + "Content-Length : 5\r\n\r\nhello", 400,
       "whitespace between the header name"},
      {"bare LF", "GET / HTTP/1.1\nHost: h\n\n", 400, "bare LF"},
      {"bare CR", h + "X-A: a\rb\r\n\r\n", 400, "bare CR"},
      {"chunk without CRLF", h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400,
       "a chunk's data is longer than its size"},
      {"chunk size sign", h + "Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400,
       "malformed chunk size"},
      {"chunk size space", h + "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 400,
       "malformed chunk size"},
      {"TE on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       "Transfer-Encoding in an HTTP/1.0 request"},
      {"no Host", "GET / HTTP/1.1\r\n\r\n", 400, "needs a Host header"},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"},
      {"NUL in value", h + std::string("X-A: a\0b\r\n\r\n", 12), 400, "control character"},
      {"bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed method"},
      {"bad version", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "not supported"},
      {"no version", "GET /\r\nHost: h\r\n\r\n", 400, "malformed request line"},
      {"bad target", "GET noslash HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed request target"},
      {"bad escape", "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400, "percent-encoding"},
      {"NUL escape", "GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "percent-encoding"},
  };
  for (const Bad& c : cases) {
    for (size_t step : {0, 1}) {
      const Parsed r = parse(c.text, step);
      EXPECT_EQ(r.state, State::kError) << c.what;
      EXPECT_EQ(r.status, c.status) << c.what << ": " << r.message;
      EXPECT_THAT(r.message, HasSubstr(c.message)) << c.what;
    }
  }
}

TEST(HttpParser, SizeLimits) {
  ParserLimits small;
  small.max_header_bytes = 1024;
  small.max_request_line = 100;
  small.max_body = 10;
  const Parsed line = parse("GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n", 0, small);
  EXPECT_EQ(line.status, 414);
  const Parsed headers =
      parse("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n", 7, small);
  EXPECT_EQ(headers.status, 431);
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 101; ++i) many += "X: 1\r\n";
  EXPECT_EQ(parse(many + "\r\n").status, 431);
  EXPECT_EQ(
      parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world", 0, small).status,
      413);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello!\r\n"
                  "6\r\nhello!\r\n0\r\n\r\n",
                  0, small)
                .status,
            413);
  // An endless header line is refused once it passes the limit, not buffered whole.
  RequestParser p(small);
  p.feed("GET / HTTP/1.1\r\nHost: h\r\nX: ");
  const std::string chunk(512, 'a');
  for (int i = 0; i < 10 && p.state() == State::kHeaders; ++i) p.feed(chunk);
  EXPECT_EQ(p.state(), State::kError);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(HttpParser, KeepAliveFollowsTheVersionAndConnectionHeader) {
  EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").request.keep_alive());
  EXPECT_FALSE(
      parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").request.keep_alive());
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").request.keep_alive());
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keep_alive());
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n")
                   .request.keep_alive());
}

TEST(HttpParser, AbsoluteFormAndLeadingEmptyLines) {
  const Parsed r = parse("\r\nGET http://example.com/ping?a HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_EQ(r.state, State::kDone) << r.message;
  EXPECT_EQ(r.request.path, "/ping");
  EXPECT_EQ(r.request.query, "a");
}

TEST(HttpMessage, SerializesWithLengthAndClose) {
  Response res;
  res.status = 404;
  res.set_content("{}", "application/json");
  res.set_header("Content-Length", "999");  // the writer's own length wins
  EXPECT_EQ(serialize_response(res, true, false),
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\n{}");
  EXPECT_EQ(
      serialize_response(res, false, true),
      "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n");
}

}  // namespace
}  // namespace reco::serving
