#include "serving/http_message.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace reco::serving {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

namespace {

template <typename Headers>
const HttpHeader* find_header(const Headers& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

}  // namespace

bool Request::has_header(std::string_view name) const {
  return find_header(headers, name) != nullptr;
}

std::string Request::get_header_value(std::string_view name) const {
  const HttpHeader* h = find_header(headers, name);
  return h ? h->value : std::string();
}

size_t Request::header_count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(
      headers.begin(), headers.end(), [&](const HttpHeader& h) { return iequals(h.name, name); }));
}

bool Request::keep_alive() const {
  const std::string connection = get_header_value("Connection");
  // A comma-separated list of options.
  bool close = false, keep = false;
  size_t start = 0;
  while (start <= connection.size()) {
    size_t end = connection.find(',', start);
    if (end == std::string::npos) end = connection.size();
    std::string_view option(connection.data() + start, end - start);
    while (!option.empty() && (option.front() == ' ' || option.front() == '\t'))
      option.remove_prefix(1);
    while (!option.empty() && (option.back() == ' ' || option.back() == '\t'))
      option.remove_suffix(1);
    if (iequals(option, "close")) close = true;
    if (iequals(option, "keep-alive")) keep = true;
    start = end + 1;
  }
  if (close) return false;
  return version_minor >= 1 || keep;
}

bool Response::has_header(std::string_view name) const {
  return find_header(headers, name) != nullptr;
}

std::string Response::get_header_value(std::string_view name) const {
  const HttpHeader* h = find_header(headers, name);
  return h ? h->value : std::string();
}

void Response::set_header(std::string_view name, std::string_view value) {
  erase_header(name);
  headers.push_back({std::string(name), std::string(value)});
}

void Response::erase_header(std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const HttpHeader& h) { return iequals(h.name, name); }),
                headers.end());
}

void Response::set_content(std::string body_text, std::string_view content_type) {
  body = std::move(body_text);
  set_header("Content-Type", content_type);
}

const char* status_reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string serialize_response(const Response& r, bool close, bool head_only) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, status_reason(r.status));
  for (const auto& h : r.headers) {
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Connection") ||
        iequals(h.name, "Transfer-Encoding"))
      continue;
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  // 1xx, 204 and 304 carry no body and no Content-Length.
  const bool bodyless = r.status < 200 || r.status == 204 || r.status == 304;
  if (!bodyless) out += fmt::format("Content-Length: {}\r\n", r.body.size());
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only && !bodyless) out += r.body;
  return out;
}

}  // namespace reco::serving
