#include "serving/http_parser.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace reco::serving {
namespace {

bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// Field values: visible ASCII, obs-text (0x80-0xFF), space and tab.
bool valid_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Printable and short, for messages.
std::string shown(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 60)) {
    const auto c = static_cast<unsigned char>(ch);
    out += (c >= 0x20 && c < 0x7f && c != '"') ? std::string(1, ch) : fmt::format("\\x{:02x}", c);
  }
  if (s.size() > 60) out += "...";
  return out;
}

}  // namespace

bool decode_path(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    if (i + 2 >= raw.size()) return false;  // two hex digits must follow
    const int hi = hex_value(raw[i + 1]);
    const int lo = hex_value(raw[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return false;
    out += c;
    i += 2;
  }
  return true;
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

void RequestParser::reset() {
  const ParserLimits limits = limits_;
  *this = RequestParser(limits);
}

bool RequestParser::take_headers_event() {
  const bool e = headers_event_;
  headers_event_ = false;
  return e;
}

bool RequestParser::fail(int status, std::string message) {
  state_ = State::kError;
  error_status_ = status;
  error_message_ = std::move(message);
  return false;
}

size_t RequestParser::feed(std::string_view data) {
  size_t used = 0;
  if (state_ == State::kBody && !headers_event_ && !chunked_ && content_length_ > 0 &&
      static_cast<uint64_t>(content_length_) > limits_.max_body) {
    fail(413, fmt::format("the request body ({} bytes) is larger than the limit of {} bytes",
                          content_length_, limits_.max_body));
    return 0;
  }
  while (used < data.size() && (state_ == State::kHeaders || state_ == State::kBody)) {
    const size_t n =
        state_ == State::kHeaders ? feed_headers(data.substr(used)) : feed_body(data.substr(used));
    used += n;
    if (n == 0) break;
  }
  // A request without a body is done once its headers are.
  if (state_ == State::kBody && !chunked_ && content_length_ <= 0) state_ = State::kDone;
  return used;
}

size_t RequestParser::feed_headers(std::string_view data) {
  size_t used = 0;
  while (used < data.size() && state_ == State::kHeaders) {
    const std::string_view rest = data.substr(used);
    const size_t lf = rest.find('\n');
    const size_t take = lf == std::string_view::npos ? rest.size() : lf + 1;
    const size_t limit = seen_request_line_ ? limits_.max_header_bytes : limits_.max_request_line;
    if (header_bytes_ + take > limits_.max_header_bytes ||
        (!seen_request_line_ && pending_.size() + take > limits_.max_request_line + 2)) {
      if (!seen_request_line_)
        fail(414, fmt::format("the request line is longer than {} bytes", limit));
      else
        fail(431, fmt::format("the request's header section is larger than {} bytes",
                              limits_.max_header_bytes));
      return used + take;
    }
    header_bytes_ += take;
    pending_.append(rest.substr(0, take));
    used += take;
    if (lf == std::string_view::npos) break;  // a partial line: wait for more
    std::string_view text(pending_);
    text.remove_suffix(1);  // the LF
    if (text.empty() || text.back() != '\r') {
      fail(400, "a line of the request ends with a bare LF (HTTP requires CRLF)");
      return used;
    }
    text.remove_suffix(1);
    const bool ok = line(text);
    pending_.clear();
    if (!ok) return used;
  }
  return used;
}

bool RequestParser::line(std::string_view text) {
  if (text.find('\r') != std::string_view::npos)
    return fail(400, "a bare CR inside a line of the request");
  if (!seen_request_line_) {
    if (text.empty()) {
      // RFC 9112 2.2: empty lines before the request line are ignored (a few).
      if (++leading_empty_lines_ > 4) return fail(400, "empty lines instead of a request line");
      return true;
    }
    seen_request_line_ = true;
    return request_line(text);
  }
  if (text.empty()) return finish_headers();
  return header_line(text);
}

bool RequestParser::request_line(std::string_view text) {
  const size_t sp1 = text.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : text.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      text.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(400,
                fmt::format("malformed request line \"{}\": expected METHOD TARGET HTTP-VERSION",
                            shown(text)));
  }
  const std::string_view method = text.substr(0, sp1);
  const std::string_view target = text.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = text.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, fmt::format("malformed method \"{}\"", shown(method)));
  if (target.empty() || std::any_of(target.begin(), target.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c >= 0x7f;
      })) {
    return fail(400, fmt::format("malformed request target \"{}\"", shown(target)));
  }
  if (version == "HTTP/1.1") {
    request_.version_minor = 1;
  } else if (version == "HTTP/1.0") {
    request_.version_minor = 0;
  } else if (version.substr(0, 5) == "HTTP/") {
    return fail(505,
                fmt::format("HTTP version \"{}\" is not supported: send HTTP/1.1", shown(version)));
  } else {
    return fail(400,
                fmt::format("malformed request line \"{}\": expected METHOD TARGET HTTP-VERSION",
                            shown(text)));
  }
  request_.method = std::string(method);
  request_.target = std::string(target);
  std::string_view origin = target;
  if (origin.substr(0, 7) == "http://" || origin.substr(0, 8) == "https://") {
    // absolute-form: the path starts after the authority.
    const size_t slash = origin.find('/', origin.find("//") + 2);
    origin = slash == std::string_view::npos ? std::string_view("/") : origin.substr(slash);
  } else if (origin == "*") {
    if (method != "OPTIONS") return fail(400, "the target * is only for OPTIONS");
  } else if (origin.front() != '/') {
    return fail(400, fmt::format("malformed request target \"{}\": expected a path starting "
                                 "with /",
                                 shown(target)));
  }
  const size_t q = origin.find('?');
  const std::string_view raw_path = origin.substr(0, q);
  request_.query = q == std::string_view::npos ? "" : std::string(origin.substr(q + 1));
  if (!decode_path(raw_path, request_.path))
    return fail(400, fmt::format("malformed percent-encoding in the path \"{}\"", shown(raw_path)));
  return true;
}

bool RequestParser::header_line(std::string_view text) {
  if (text.front() == ' ' || text.front() == '\t')
    return fail(400,
                "obsolete line folding (a header line starting with whitespace) is not "
                "accepted");
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return fail(400, fmt::format("malformed header line \"{}\": no colon", shown(text)));
  const std::string_view name = text.substr(0, colon);
  if (!is_token(name)) {
    if (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
      return fail(400, fmt::format("whitespace between the header name \"{}\" and its colon",
                                   shown(trim_ows(name))));
    return fail(400, fmt::format("malformed header name \"{}\"", shown(name)));
  }
  const std::string_view value = trim_ows(text.substr(colon + 1));
  if (!valid_field_value(value))
    return fail(400, fmt::format("header {} has a control character in its value", shown(name)));
  if (request_.headers.size() >= limits_.max_headers)
    return fail(431, fmt::format("more than {} header fields", limits_.max_headers));
  request_.headers.push_back({std::string(name), std::string(value)});
  return true;
}

bool RequestParser::finish_headers() {
  const Request& r = request_;
  if (r.version_minor == 1) {
    const size_t hosts = r.header_count("Host");
    if (hosts != 1)
      return fail(400, hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                  : "more than one Host header");
  }
  const size_t lengths = r.header_count("Content-Length");
  const size_t encodings = r.header_count("Transfer-Encoding");
  if (lengths > 1) return fail(400, "more than one Content-Length header");
  if (encodings > 1) return fail(400, "more than one Transfer-Encoding header");
  if (lengths == 1 && encodings == 1)
    return fail(400, "both Content-Length and Transfer-Encoding: a request may have one");
  if (encodings == 1) {
    if (r.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    const std::string te = r.get_header_value("Transfer-Encoding");
    if (!iequals(trim_ows(te), "chunked"))
      return fail(400, fmt::format("Transfer-Encoding \"{}\" is not supported: send chunked or a "
                                   "Content-Length",
                                   shown(te)));
    chunked_ = true;
  } else if (lengths == 1) {
    const std::string v = r.get_header_value("Content-Length");
    uint64_t n = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || v.size() > 18 || ec != std::errc() || p != v.data() + v.size() ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail(400, fmt::format("Content-Length \"{}\" is not a byte count", shown(v)));
    content_length_ = static_cast<int64_t>(n);
  }
  state_ = State::kBody;
  headers_event_ = true;
  return true;
}

size_t RequestParser::feed_body(std::string_view data) {
  if (headers_event_) return 0;  // the caller has not looked at the headers yet
  if (!chunked_) {
    if (content_length_ <= 0) {
      state_ = State::kDone;
      return 0;
    }
    if (static_cast<uint64_t>(content_length_) > limits_.max_body) {
      fail(413, fmt::format("the request body ({} bytes) is larger than the limit of {} bytes",
                            content_length_, limits_.max_body));
      return 0;
    }
    const size_t left = static_cast<size_t>(content_length_) - request_.body.size();
    const size_t take = std::min(left, data.size());
    request_.body.append(data.substr(0, take));
    if (request_.body.size() == static_cast<size_t>(content_length_)) state_ = State::kDone;
    return take;
  }
  size_t used = 0;
  while (used < data.size() && state_ == State::kBody) {
    std::string_view rest = data.substr(used);
    if (body_state_ == BodyState::kData) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(chunk_left_, rest.size()));
      request_.body.append(rest.substr(0, take));
      chunk_left_ -= take;
      used += take;
      if (chunk_left_ == 0) body_state_ = BodyState::kDataEnd;
      continue;
    }
    // Line-oriented parts: a chunk-size line, the CRLF after data, trailer lines.
    const size_t lf = rest.find('\n');
    const size_t take = lf == std::string_view::npos ? rest.size() : lf + 1;
    if (pending_.size() + take > 4096 ||
        (body_state_ == BodyState::kTrailers && trailer_bytes_ + take > limits_.max_header_bytes)) {
      fail(body_state_ == BodyState::kTrailers ? 431 : 400,
           body_state_ == BodyState::kTrailers ? "the chunked body's trailers are too large"
                                               : "a chunk-size line is too long");
      return used + take;
    }
    if (body_state_ == BodyState::kTrailers) trailer_bytes_ += take;
    pending_.append(rest.substr(0, take));
    used += take;
    if (lf == std::string_view::npos) break;
    std::string_view text(pending_);
    text.remove_suffix(1);
    if (text.empty() || text.back() != '\r') {
      fail(400, "a line of the chunked body ends with a bare LF (HTTP requires CRLF)");
      return used;
    }
    text.remove_suffix(1);
    switch (body_state_) {
      case BodyState::kDataEnd:
        if (!text.empty()) {
          fail(400, "a chunk's data is longer than its size, or its CRLF is missing");
          return used;
        }
        body_state_ = BodyState::kSize;
        break;
      case BodyState::kSize:
        if (!chunk_size_line(text)) return used;
        break;
      case BodyState::kTrailers:
        if (text.empty()) {
          state_ = State::kDone;
        } else if (text.front() == ' ' || text.front() == '\t' ||
                   text.find(':') == std::string_view::npos ||
                   !is_token(text.substr(0, text.find(':')))) {
          fail(400, "malformed trailer field in the chunked body");
          return used;
        }
        break;
      case BodyState::kData:
        break;
    }
    pending_.clear();
  }
  return used;
}

bool RequestParser::chunk_size_line(std::string_view text) {
  const size_t semi = text.find(';');
  const std::string_view size = text.substr(0, semi);
  if (size.empty() || size.size() > 15 ||
      !std::all_of(size.begin(), size.end(), [](char c) { return hex_value(c) >= 0; })) {
    return fail(400, fmt::format("malformed chunk size \"{}\"", shown(size)));
  }
  if (semi != std::string_view::npos) {
    const std::string_view ext = text.substr(semi);
    if (!valid_field_value(ext)) return fail(400, "a control character in a chunk extension");
  }
  uint64_t n = 0;
  for (char c : size) n = n * 16 + static_cast<uint64_t>(hex_value(c));
  if (request_.body.size() + n > limits_.max_body) {
    return fail(413, fmt::format("the request body is larger than the limit of {} bytes",
                                 limits_.max_body));
  }
  if (n == 0) {
    body_state_ = BodyState::kTrailers;
  } else {
    chunk_left_ = n;
    body_state_ = BodyState::kData;
  }
  return true;
}

}  // namespace reco::serving
