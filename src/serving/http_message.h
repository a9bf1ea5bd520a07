#pragma once
// One HTTP/1.1 request and its response, as reco's HTTP front (serving/http_server.h) parses
// and writes them and as route handlers (serving/route.h) see them.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reco::serving {

struct HttpHeader {
  std::string name;  // as sent; compared case-insensitively
  std::string value;
};

bool iequals(std::string_view a, std::string_view b);

struct Request {
  std::string method;     // "GET", "POST", ... (case-sensitive, as RFC 9110 says)
  std::string target;     // the request-target as sent
  std::string path;       // percent-decoded path of the target, without the query
  std::string query;      // after '?', undecoded ("" when none)
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1
  std::vector<HttpHeader> headers;
  std::string body;  // de-chunked (not decompressed)
  std::string remote_addr;
  int remote_port = 0;

  bool has_header(std::string_view name) const;
  // The first value of the header, "" when absent.
  std::string get_header_value(std::string_view name) const;
  size_t header_count(std::string_view name) const;
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive() const;
};

struct Response {
  int status = 200;
  std::vector<HttpHeader> headers;  // besides Content-Length, which the writer adds
  std::string body;

  bool has_header(std::string_view name) const;
  std::string get_header_value(std::string_view name) const;
  void set_header(std::string_view name, std::string_view value);  // replaces
  void erase_header(std::string_view name);
  void set_content(std::string body_text, std::string_view content_type);
};

const char* status_reason(int status);  // "OK", "Not Found", ...
// The status line, headers (with Content-Length, and Connection: close when `close`) and, unless
// head_only, the body.
std::string serialize_response(const Response& response, bool close, bool head_only);

}  // namespace reco::serving
