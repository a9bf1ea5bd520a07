#include "core/json.h"

#include "core/fs.h"

#include <utility>
#include <vector>

namespace reco {

using nlohmann::json;

std::string json_text(const json& value, int indent) {
  return value.dump(indent);
}

std::string json_text_lenient(const json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

size_t json_depth_violation(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return i + 1;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;  // unbalanced text is the parser's to report
        break;
      default:
        break;
    }
  }
  return 0;
}

namespace {

// nlohmann's message ends with "last read: '<token>'", and the token can be as long as the input
// (an unterminated string): cut it, so a message about a body stays short whatever the body.
json::parse_error bounded(const json::parse_error& e, std::string_view text) {
  constexpr size_t kMaxMessage = 300, kMaxToken = 40;
  const std::string what = e.what();
  const std::string marker = "; last read: '";
  const size_t token_at = what.find(marker);
  const size_t reason_at = what.find(": ", what.find("parse error"));
  if (what.size() <= kMaxMessage || token_at == std::string::npos ||
      reason_at == std::string::npos || reason_at > token_at)
    return e;
  std::string reason = what.substr(reason_at + 2, token_at + marker.size() - reason_at - 2);
  reason += what.substr(token_at + marker.size(), kMaxToken) + "...'";
  // The same "line, column" as nlohmann's own message.
  nlohmann::detail::position_t pos;
  pos.chars_read_total = e.byte;
  const size_t end = std::min(e.byte, text.size());
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++pos.lines_read;
      pos.chars_read_current_line = 0;
    } else {
      ++pos.chars_read_current_line;
    }
  }
  return json::parse_error::create(e.id, pos, reason, nullptr);
}

json::parse_error too_deep(size_t byte) {
  return json::parse_error::create(
      101, byte, "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
}

}  // namespace

json parse_json(std::string_view text) {
  if (const size_t at = json_depth_violation(text)) throw too_deep(at);
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw bounded(e, text);
  } catch (const json::out_of_range& e) {
    // A number beyond double's range ("1E999") is bad input like any syntax error; nlohmann
    // reports it as out_of_range (406), which callers would not expect from a parser.
    // Its message quotes the whole number ("number overflow parsing '<digits>'"), which can be
    // as long as the input: cut it like a parse error's token.
    constexpr size_t kMaxToken = 40;
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    if (const auto q = what.find('\''); q != std::string::npos && what.size() > q + kMaxToken + 2) {
      what = what.substr(0, q + 1 + kMaxToken) + "...'";
    }
    throw json::parse_error::create(101, 0, what, nullptr);
  }
}

std::optional<json> try_parse_json(std::string_view text) {
  if (json_depth_violation(text) != 0) return std::nullopt;
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string json_preview(const json& value, size_t max_chars) {
  std::string out;
  // Each frame: a container being printed and the position of its next element.
  struct Frame {
    const json* container;
    json::const_iterator next;
  };
  std::vector<Frame> stack;
  const auto full = [&] { return out.size() > max_chars; };
  const auto scalar = [&](const json& v) {
    if (v.is_string()) {
      // Only the start of a long string: it is cut anyway.
      const std::string& s = v.get_ref<const std::string&>();
      out += json_text_lenient(json(s.substr(0, max_chars + 1)));
      if (s.size() > max_chars + 1) out.pop_back();  // still open: the cut shows it
    } else {
      out += json_text_lenient(v);
    }
  };
  const auto open = [&](const json& v) {
    if (v.is_array() || v.is_object()) {
      out += v.is_array() ? '[' : '{';
      stack.push_back({&v, v.cbegin()});
    } else {
      scalar(v);
    }
  };
  open(value);
  while (!stack.empty() && !full()) {
    Frame& f = stack.back();
    if (f.next == f.container->cend()) {
      out += f.container->is_array() ? ']' : '}';
      stack.pop_back();
      continue;
    }
    if (f.next != f.container->cbegin()) out += ',';
    const json::const_iterator it = f.next++;
    if (f.container->is_object()) {
      out += json_text_lenient(json(it.key().substr(0, max_chars + 1)));
      out += ':';
    }
    open(*it);  // may push: f is not used after this
  }
  if (out.size() > max_chars) {
    out.resize(max_chars >= 3 ? max_chars - 3 : 0);
    out += "...";
  }
  return out;
}

JsonLines read_json_lines(const std::filesystem::path& path) {
  JsonLines out;
  const auto text = read_file_if_exists(path);
  if (!text) return out;
  size_t start = 0;
  while (start < text->size()) {
    const size_t end = text->find('\n', start);
    if (end == std::string::npos) {  // torn by a crash: the next append ends it
      ++out.skipped;
      break;
    }
    const std::string_view line(text->data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    auto j = try_parse_json(line);
    if (j && j->is_object()) {
      out.objects.push_back(std::move(*j));
    } else {
      ++out.skipped;
    }
  }
  return out;
}

}  // namespace reco
