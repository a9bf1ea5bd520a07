#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "serving/auth.h"
#include "serving/metrics.h"
#include "serving/router.h"
#include "serving/routes.h"

namespace reco::serving {
namespace {

using ::testing::HasSubstr;

// --- auth ---

TEST(Loopback, KnowsWhichHostsOnlyThisMachineReaches) {
  for (const char* h :
       {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "example.com", "128.0.0.1", "",
                        "::ffff:10.0.0.1"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(BearerToken, ExtractsTheCredentials) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer   abc  "), "abc");
  EXPECT_EQ(bearer_token("BEARER\tabc"), "abc");
  EXPECT_FALSE(bearer_token(""));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token("Basic abc"));
  EXPECT_FALSE(bearer_token("Bearerabc"));
}

TEST(TokensEqual, ComparesWholeTokens) {
  EXPECT_TRUE(tokens_equal("s3cret-token-123456", "s3cret-token-123456"));
  EXPECT_FALSE(tokens_equal("s3cret-token-123456", "s3cret-token-123457"));
  EXPECT_FALSE(tokens_equal("s3cret-token-123456", "s3cret-token-12345"));
  EXPECT_FALSE(tokens_equal("s3cret-token-123456", "s3cret-token-1234567"));
  EXPECT_FALSE(tokens_equal("s3cret-token-123456", ""));
  // A prefix padded with NULs must not match (the padding value used internally).
  EXPECT_FALSE(tokens_equal(std::string("abc\0", 4), "abc"));
  EXPECT_TRUE(tokens_equal("", ""));
}

TEST(ValidateToken, RefusesWeakOrUnsendableTokensWithoutEchoingThem) {
  EXPECT_NO_THROW(validate_token("0123456789abcdef"));
  try {
    validate_token("short-secret");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("too short"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("short-secret")));
  }
  EXPECT_THROW(validate_token("0123456789 abcdef"), Error);
  EXPECT_THROW(validate_token("0123456789abcdef\n"), Error);
  EXPECT_THROW(validate_token(""), Error);
}

// --- router ---

const Router& reco_router() {
  static const Router router(reco_routes());
  return router;
}

// The route a GET (or POST) of `path` reaches: its pattern, or "" when none.
std::string route_of(std::string_view method, std::string_view path) {
  const RouteMatch m = reco_router().match(method, path);
  return m.route ? m.route->pattern : "";
}

TEST(Router, MatchesEveryRouteAndItsParameter) {
  EXPECT_EQ(route_of("GET", "/ping"), "/ping");
  EXPECT_EQ(route_of("POST", "/invocations"), "/invocations");
  EXPECT_EQ(route_of("GET", "/endpoints"), "/endpoints");
  auto m = reco_router().match("GET", "/endpoints/movielens-model-v1");
  EXPECT_EQ(m.route->pattern, "/endpoints/{name}");
  EXPECT_EQ(m.params, std::vector<std::string>{"movielens-model-v1"});
  m = reco_router().match("POST", "/endpoints/m.v1/invocations");
  EXPECT_EQ(m.route->pattern, "/endpoints/{name}/invocations");
  EXPECT_EQ(m.params, std::vector<std::string>{"m.v1"});
  EXPECT_EQ(route_of("POST", "/train"), "/train");
  EXPECT_EQ(route_of("GET", "/train"), "/train");
  EXPECT_EQ(route_of("POST", "/deploy"), "/deploy");
  EXPECT_EQ(route_of("POST", "/invoke"), "/invoke");
  EXPECT_EQ(route_of("GET", "/jobs"), "/jobs");
  m = reco_router().match("GET", "/jobs/job-1");
  EXPECT_EQ(m.route->pattern, "/jobs/{id}");
  EXPECT_EQ(m.params, std::vector<std::string>{"job-1"});
  EXPECT_EQ(route_of("GET", "/metrics"), "/metrics");
  EXPECT_EQ(route_of("GET", "/healthz"), "/healthz");
  EXPECT_EQ(route_of("HEAD", "/healthz"), "/healthz") << "GET routes answer HEAD";
}

TEST(Router, TheRootIsTheConsole) {
  const RouteMatch m = reco_router().match("GET", "/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.label, "/");
  EXPECT_EQ(reco_router().match("GET", "/console/app.js").label, "/console/{*path}");
}

TEST(Router, EverythingElseIsUnknown) {
  for (const char* p :
       {"", "/ping/", "/pingx", "/endpoints/", "/endpoints//invocations", "/endpoints/a/b",
        "/endpoints/a/invocations/x", "/jobs/", "/jobs/a/b", "/Invocations"}) {
    const RouteMatch m = reco_router().match("GET", p);
    EXPECT_EQ(m.route, nullptr) << p;
    EXPECT_FALSE(m.path_known) << p;
    EXPECT_EQ(m.label, "other") << p;
  }
}

TEST(Router, MethodsAndLabels) {
  RouteMatch m = reco_router().match("GET", "/invocations");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allowed, "POST");
  m = reco_router().match("POST", "/ping");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed, "GET, HEAD");
  EXPECT_EQ(reco_router().match("GE", "/ping").route, nullptr);
  EXPECT_EQ(reco_router().match("DELETE", "/train").allowed, "GET, HEAD, POST");
  EXPECT_EQ(reco_router().match("POST", "/endpoints/x/invocations").label,
            "/endpoints/{name}/invocations");
  EXPECT_EQ(reco_router().match("GET", "/ping").route->access, Access::kPublic);
  EXPECT_EQ(reco_router().match("GET", "/healthz").route->access, Access::kPublic);
  EXPECT_EQ(reco_router().match("GET", "/metrics").route->access, Access::kToken);
  EXPECT_EQ(reco_router().match("POST", "/invocations").route->access, Access::kToken);
  EXPECT_TRUE(reco_router().match("GET", "/metrics").route->answered_when_overloaded);
  EXPECT_FALSE(reco_router().match("POST", "/invoke").route->answered_when_overloaded);
}

TEST(Router, PatternsMatchWholeSegments) {
  using V = std::vector<std::string>;
  EXPECT_EQ(match_pattern("/a/{x}/b", "/a/1/b"), V{"1"});
  EXPECT_EQ(match_pattern("/a/{x}/{y}", "/a/1/2"), (V{"1", "2"}));
  EXPECT_EQ(match_pattern("/s/{*rest}", "/s/x/y.js"), V{"x/y.js"});
  EXPECT_FALSE(match_pattern("/s/{*rest}", "/s/"));
  EXPECT_FALSE(match_pattern("/s/{*rest}", "/s"));
  EXPECT_FALSE(match_pattern("/a/{x}", "/a/1/2"));
  EXPECT_FALSE(match_pattern("/a/{x}", "/a/"));
  EXPECT_FALSE(match_pattern("/a", "/a/"));
  EXPECT_TRUE(match_pattern("/a", "/a"));
}

TEST(Router, RejectsMalformedRows) {
  const auto handler = [](RouteContext&, RouteCall&, Response&) {};
  EXPECT_THROW(Router({{"GET", "nope", Access::kToken, BodyKind::kNone, false, "", handler}}),
               Error);
  EXPECT_THROW(Router({{"GET", "/a/{*x}/b", Access::kToken, BodyKind::kNone, false, "", handler}}),
               Error);
  EXPECT_THROW(Router({{"GET", "/a", Access::kToken, BodyKind::kNone, false, "", nullptr}}), Error);
}

TEST(Metrics, EscapesLabelValuesAndFormatsSamples) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(format_sample_value(3), "3");
  EXPECT_EQ(format_sample_value(0.25), "0.25");
  EXPECT_EQ(format_sample_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_sample_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_sample_value(0.0 / 0.0), "NaN");
}

TEST(Metrics, RendersCountersAndACumulativeHistogram) {
  Metrics m;
  m.observe_request("/invocations", "m1", "POST", 200, 0.0007);
  m.observe_request("/invocations", "m1", "POST", 200, 0.003);
  m.observe_request("/invocations", "m1", "POST", 400, 20.0);
  m.observe_request("/ping", "", "GET", 503, 0.0001);
  m.add_predictions("m1", 4);
  m.add_predictions("m1", 3);
  const std::vector<SampledFamily> extra{{"reco_http_queue_depth", "Waiting.", "gauge", {{{}, 2}}},
                                         {"reco_model_version_loaded",
                                          "Loaded.",
                                          "gauge",
                                          {{{{"endpoint", "m\"1"}, {"version", "3"}}, 1}}}};
  const std::string text = m.render(extra);

  EXPECT_THAT(text, HasSubstr("# TYPE reco_http_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("reco_http_requests_total{route=\"/invocations\",endpoint=\"m1\","
                              "method=\"POST\",code=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("reco_http_errors_total{route=\"/invocations\",endpoint=\"m1\","
                              "class=\"4xx\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("reco_http_errors_total{route=\"/ping\",endpoint=\"\",class=\"5xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE reco_http_request_duration_seconds histogram\n"));
  const std::string b =
      "reco_http_request_duration_seconds_bucket{route=\"/invocations\",endpoint=\"m1\",";
  EXPECT_THAT(text, HasSubstr(b + "le=\"0.0005\"} 0\n"));
  EXPECT_THAT(text, HasSubstr(b + "le=\"0.001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(b + "le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(b + "le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(b + "le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("reco_http_request_duration_seconds_count{route=\"/invocations\","
                              "endpoint=\"m1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("reco_http_request_duration_seconds_sum{route=\"/invocations\","
                              "endpoint=\"m1\"} 20.0037"));
  EXPECT_THAT(text, HasSubstr("reco_predictions_total{endpoint=\"m1\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE reco_http_queue_depth gauge\nreco_http_queue_depth 2\n"));
  EXPECT_THAT(text, HasSubstr("reco_model_version_loaded{endpoint=\"m\\\"1\",version=\"3\"} 1\n"));
  // Every line is a comment or "name[{labels}] value".
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    ASSERT_NE(end, std::string::npos) << "the exposition must end with a newline";
    const std::string line = text.substr(pos, end - pos);
    if (line[0] != '#') {
      EXPECT_EQ(std::count(line.begin(), line.end(), ' ') >= 1, true) << line;
      EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(line[0]))) << line;
    }
    pos = end + 1;
  }
}

}  // namespace
}  // namespace reco::serving

namespace reco::serving {
namespace {

TEST(Metrics, SummarizesEachEndpointsPredictionTraffic) {
  Metrics m;
  for (int i = 0; i < 98; ++i) m.observe_request("/invocations", "m1", "POST", 200, 0.0007);
  m.observe_request("/endpoints/{name}/invocations", "m1", "POST", 400, 0.003);
  m.observe_request("/endpoints/{name}/invocations", "m1", "POST", 503, 20.0);
  m.observe_request("/endpoints/{name}", "m1", "GET", 200, 0.0001);  // a status page
  m.observe_request("/invocations", "m2", "POST", 200, 0.2);
  m.add_predictions("m1", 7);
  constexpr std::string_view routes[] = {"/invocations", "/endpoints/{name}/invocations"};
  const auto stats = m.endpoint_stats(routes);
  ASSERT_EQ(stats.size(), 2u);
  const Metrics::EndpointStats& s = stats.at("m1");
  EXPECT_EQ(s.requests, 100u);
  EXPECT_EQ(s.errors, 2u);
  EXPECT_EQ(s.predictions, 7u);
  EXPECT_NEAR(s.latency_sum, 98 * 0.0007 + 0.003 + 20.0, 1e-9);
  // 98 of 100 in the bucket (0.0005, 0.001]: the median interpolates inside it.
  EXPECT_NEAR(s.p50, 0.0005 + 0.0005 * 50 / 98, 1e-12);
  EXPECT_NEAR(s.p95, 0.0005 + 0.0005 * 95 / 98, 1e-12);
  EXPECT_DOUBLE_EQ(s.p99, 0.005);  // the 99th request is the 3 ms one
  const Metrics::EndpointStats& two = stats.at("m2");
  EXPECT_EQ(two.requests, 1u);
  EXPECT_GT(two.p50, 0.1);
  EXPECT_LE(two.p50, 0.25);
}

}  // namespace
}  // namespace reco::serving
