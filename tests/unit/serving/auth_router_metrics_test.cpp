#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "serving/auth.h"
#include "serving/metrics.h"
#include "serving/router.h"

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

TEST(Router, MatchesEveryRouteAndItsParameter) {
  EXPECT_EQ(match_route("/ping").route, Route::kPing);
  EXPECT_EQ(match_route("/invocations").route, Route::kInvocations);
  EXPECT_EQ(match_route("/endpoints").route, Route::kEndpoints);
  auto m = match_route("/endpoints/movielens-model-v1");
  EXPECT_EQ(m.route, Route::kEndpoint);
  EXPECT_EQ(m.param, "movielens-model-v1");
  m = match_route("/endpoints/m.v1/invocations");
  EXPECT_EQ(m.route, Route::kEndpointInvocations);
  EXPECT_EQ(m.param, "m.v1");
  EXPECT_EQ(match_route("/train").route, Route::kTrain);
  EXPECT_EQ(match_route("/deploy").route, Route::kDeploy);
  EXPECT_EQ(match_route("/invoke").route, Route::kInvoke);
  EXPECT_EQ(match_route("/jobs").route, Route::kJobs);
  m = match_route("/jobs/job-1");
  EXPECT_EQ(m.route, Route::kJob);
  EXPECT_EQ(m.param, "job-1");
  EXPECT_EQ(match_route("/metrics").route, Route::kMetrics);
  EXPECT_EQ(match_route("/healthz").route, Route::kHealthz);
}

TEST(Router, EverythingElseIsUnknown) {
  for (const char* p :
       {"/", "", "/ping/", "/pingx", "/endpoints/", "/endpoints//invocations", "/endpoints/a/b",
        "/endpoints/a/invocations/x", "/jobs/", "/jobs/a/b", "/Invocations"})
    EXPECT_EQ(match_route(p).route, Route::kUnknown) << p;
  EXPECT_STREQ(route_label(Route::kUnknown), "other");
}

TEST(Router, MethodsAndLabels) {
  EXPECT_TRUE(method_allowed(Route::kInvocations, "POST"));
  EXPECT_FALSE(method_allowed(Route::kInvocations, "GET"));
  EXPECT_STREQ(allowed_methods(Route::kInvocations), "POST");
  EXPECT_TRUE(method_allowed(Route::kPing, "GET"));
  EXPECT_TRUE(method_allowed(Route::kPing, "HEAD"));
  EXPECT_FALSE(method_allowed(Route::kPing, "POST"));
  EXPECT_FALSE(method_allowed(Route::kPing, "GE"));
  EXPECT_TRUE(method_allowed(Route::kTrain, "GET"));
  EXPECT_TRUE(method_allowed(Route::kTrain, "POST"));
  EXPECT_FALSE(method_allowed(Route::kTrain, "DELETE"));
  EXPECT_FALSE(method_allowed(Route::kUnknown, "GET"));
  EXPECT_STREQ(route_label(Route::kEndpointInvocations), "/endpoints/{name}/invocations");
  EXPECT_TRUE(route_is_public(Route::kPing));
  EXPECT_TRUE(route_is_public(Route::kHealthz));
  EXPECT_FALSE(route_is_public(Route::kMetrics));
  EXPECT_FALSE(route_is_public(Route::kInvocations));
}

// --- metrics ---

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
