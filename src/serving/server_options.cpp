#include "serving/server_options.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::serving {
namespace {

// A row in milliseconds (--refresh-interval) bound to a std::chrono::milliseconds member.
BoundOption<ServerOptions> milliseconds_row(OptionSpec spec,
                                            std::chrono::milliseconds ServerOptions::*member) {
  BoundOption<ServerOptions> row;
  row.set = [member](ServerOptions& o, const OptionValue& v) {
    o.*member = std::chrono::milliseconds(std::get<int64_t>(v));
  };
  row.get = [member](const ServerOptions& o) -> std::optional<OptionValue> {
    return static_cast<int64_t>((o.*member).count());
  };
  spec.default_value = row.get(ServerOptions{});
  row.spec = std::move(spec);
  return row;
}

}  // namespace

std::vector<BoundOption<ServerOptions>> server_options() {
  using O = OptionSpec;
  using SO = ServerOptions;
  constexpr double kDay = 86400;
  const auto seconds = [](std::string name, std::string doc) {
    return O::seconds(std::move(name), {}, 0, kDay, std::move(doc)).open_min();
  };
  std::vector<BoundOption<SO>> rows = {
      bind_option(
          O::text("host", {}, "address to listen on; anything but loopback requires a token")
              .with_flag("--host"),
          &SO::host),
      bind_option(O::integer("port", {}, 0, 65535,
                             "TCP port; 0 picks a free one (the URL is printed on stdout)")
                      .with_flag("-p,--port"),
                  &SO::port),
      bind_option(O::text("model", {},
                          "container mode: serve this one model at /invocations "
                          "(models:/NAME[/VERSION], file:// URI or artifact path)")
                      .with_flag("-m,--model")
                      .with_default_doc("none: serve the deployed endpoints"),
                  &SO::model_uri),
      bind_option(O::text("endpoint", {}, "endpoint behind /invocations")
                      .with_flag("-e,--endpoint")
                      .with_default_doc("the only deployed one"),
                  &SO::default_endpoint),
      bind_option(
          O::text("token", {}, "bearer token every request must carry (except /ping and /healthz)")
              .with_flag("--token", "RECO_TOKEN")
              .with_default_doc("none"),
          &SO::token),
      bind_option(O::text("token_file", {}, "read the bearer token from this file")
                      .with_flag("--token-file")
                      .with_default_doc("none"),
                  &SO::token_file),
      bind_option(O::integer("threads", {}, 0, 4096, "worker threads (0: max(4, 2 x cores))")
                      .with_flag("-t,--threads"),
                  &SO::threads),
      bind_option(O::integer("queue", {}, 1, 100000,
                             "requests that may wait for a worker; beyond it requests get 503 "
                             "with Retry-After (health checks and metrics are never refused)")
                      .with_flag("--queue"),
                  &SO::queue),
      bind_option(O::integer("max_connections", {}, 1, 1000000,
                             "open connections; one more gets 503 and is closed (idle and slow "
                             "connections hold no worker)")
                      .with_flag("--max-connections"),
                  &SO::max_connections),
      bind_option(O::bytes("max_body", {}, 1, int64_t{1} << 40,
                           "largest request body, compressed or not (suffixes KB, MB: 1024-based)")
                      .with_flag("--max-body"),
                  &SO::max_body_bytes),
      bind_option(
          seconds("read_timeout", "seconds a client may stay silent while sending a request"),
          &SO::read_timeout),
      bind_option(seconds("request_timeout",
                          "seconds a whole request (headers and body) may take to arrive"),
                  &SO::request_timeout),
      bind_option(
          seconds("write_timeout", "seconds an answer may stall while the client does not read it"),
          &SO::write_timeout),
      bind_option(
          seconds("keep_alive_timeout", "seconds an idle keep-alive connection is kept open"),
          &SO::keep_alive_timeout),
      bind_option(O::integer("keep_alive_max", {}, 1, 1000000, "requests per connection"),
                  &SO::keep_alive_max),
      bind_option(
          seconds("drain_timeout",
                  "seconds SIGTERM/SIGINT waits for in-flight requests before closing them"),
          &SO::drain_timeout),
      milliseconds_row(O::integer("refresh_interval", {}, 10, 60000,
                                  "milliseconds between checks for deployments made by other "
                                  "processes"),
                       &SO::refresh_interval),
      milliseconds_row(O::integer("task_interval", {}, 0, 3600000,
                                  "milliseconds between checks for due tasks (reco tasks); 0: "
                                  "this server runs no tasks"),
                       &SO::task_interval),
      bind_option(O::integer("jobs", {}, 1, 64, "training jobs (POST /train) run at once"),
                  &SO::training_jobs),
      bind_option(O::integer("max_queued_jobs", {}, 1, 10000,
                             "unfinished training jobs beyond which POST /train answers 429"),
                  &SO::max_queued_jobs),
      bind_option(O::boolean("access_log", true,
                             "log one line per request on stderr (--quiet turns it off too)")
                      .with_flag("--no-access-log"),
                  &SO::access_log),
  };
  for (auto& row : rows) {
    if (row.spec.flag.empty()) row.spec.flag = row.spec.long_flag();
  }
  // --no-access-log takes no value: present means false.
  rows.back().spec.flag_value = "false";
  return rows;
}

OptionTable server_option_table() {
  return option_table(server_options());
}

void apply_server_settings(ServerOptions& options,
                           const std::vector<std::pair<std::string, std::string>>& settings) {
  const auto rows = server_options();
  for (const auto& [name, text] : settings) {
    const auto row =
        std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.spec.name == name; });
    if (row == rows.end()) throw Error(ErrorKind::kUsage, fmt::format("unknown setting {}", name));
    row->set(options,
             parse_option_value(row->spec, text, OptionStyle::kOption, row->spec.long_flag()));
  }
}

std::string server_options_markdown() {
  return options_markdown(server_option_table(), "setting");
}

}  // namespace reco::serving
