// Extending reco from outside: this file registers a toy algorithm with a model type of its own
// and adds routes to a server, touching no other file, and checks that they work through every
// entry point: parameters, the training job (cross-validation, refit, top-N, output table,
// artifact), deployment and HTTP serving, metrics and static files.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <httplib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "algorithms/algorithm.h"
#include "algorithms/train.h"
#include "core/binary.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/identifiers.h"
#include "deployment/endpoints.h"
#include "registry/artifact.h"
#include "serving/route_context.h"
#include "serving/server.h"
#include "storage/warehouse.h"
#include "training/jobs.h"
#include "training/train_job.h"

namespace reco {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// --- the toy algorithm: every estimate is the training mean plus an offset --------------------

class ConstantModel : public algorithms::Model {
 public:
  double value = 0;
  double estimate(int64_t, int64_t) const override { return value; }
  const algorithms::ModelType& type() const override;
};

// Model header: f64 value, f32 scale min, f32 scale max, u32 n_users, u32 n_items, u64 n_rated.
// Arrays: user ids, item ids, rated offsets, rated items.
struct ConstantHeader {
  double value;
  float min, max;
  uint32_t n_users, n_items;
  uint64_t n_rated;
};

ConstantHeader read_constant_header(const char* h) {
  using namespace binary;
  return {load_f64(h),      load_f32(h + 8),  load_f32(h + 12),
          load_u32(h + 16), load_u32(h + 20), load_u64(h + 24)};
}

const algorithms::ModelType& constant_model_type() {
  static const algorithms::ModelType type{
      "constant",
      32,
      [](const char* header) -> std::optional<std::vector<uint64_t>> {
        const ConstantHeader h = read_constant_header(header);
        return std::vector<uint64_t>{uint64_t{h.n_users} * 8, uint64_t{h.n_items} * 8,
                                     (uint64_t{h.n_users} + 1) * 8, h.n_rated * 4};
      },
      [](const char* header) {
        const ConstantHeader h = read_constant_header(header);
        return "n_users=" + std::to_string(h.n_users) + ", n_items=" + std::to_string(h.n_items);
      },
      [](const char*, uint64_t) { return std::string(); },
      [](const char* header) {
        const ConstantHeader h = read_constant_header(header);
        return algorithms::ModelShape{h.n_users, h.n_items, 0, h.n_rated};
      },
      [](const algorithms::Model& model) {
        const auto& m = dynamic_cast<const ConstantModel&>(model);
        std::string h(32, '\0');
        binary::store_f64(h.data(), m.value);
        binary::store_f32(h.data() + 8, m.scale.min);
        binary::store_f32(h.data() + 12, m.scale.max);
        binary::store_u32(h.data() + 16, m.n_users());
        binary::store_u32(h.data() + 20, m.n_items());
        binary::store_u64(h.data() + 24, m.rated_items.size());
        return h;
      },
      [](const algorithms::Model& m, std::span<char* const> a) {
        algorithms::store_identity_arrays(m, a[0], a[1], a[2], a[3]);
      },
      [](std::string algorithm, const char* header,
         std::span<const std::string_view> a) -> std::unique_ptr<algorithms::Model> {
        const ConstantHeader h = read_constant_header(header);
        auto m = std::make_unique<ConstantModel>();
        m->algorithm = std::move(algorithm);
        m->value = h.value;
        m->scale = {h.min, h.max};
        algorithms::load_identity_arrays(*m, a[0], a[1], a[2], a[3]);
        return m;
      }};
  return type;
}

const algorithms::ModelType& ConstantModel::type() const {
  return constant_model_type();
}

void register_toy_algorithm() {
  if (algorithms::find_algorithm_or_null("global_mean")) return;
  algorithms::Algorithm a;
  a.name = "global_mean";
  a.doc = "the mean training rating plus an offset, for every pair (a test's toy)";
  a.params = {OptionSpec::real("offset", 0.0, -10.0, 10.0, "added to the mean")};
  a.model_type = &constant_model_type();
  a.fit = [](const algorithms::FitInput& in) -> std::unique_ptr<algorithms::Model> {
    auto m = std::make_unique<ConstantModel>();
    algorithms::fill_model_base(*m, in.set, "global_mean", in.scale);
    m->value = in.set.global_mean + in.params.get_float("offset");
    return m;
  };
  algorithms::register_algorithm(std::move(a));
}

// --- a scratch home with a ratings table ------------------------------------------------------

class ScratchHome {
 public:
  ScratchHome() {
    char tmpl[] = "/tmp/reco-plugin-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
    auto wh = storage::open_warehouse(db());
    const TableRef t = parse_table_name("ratings", "table");
    auto tx = wh->begin();
    wh->create_table(t,
                     {{"USERID", storage::ColumnType::kInteger},
                      {"MOVIEID", storage::ColumnType::kInteger},
                      {"RATING", storage::ColumnType::kReal}},
                     false);
    auto ins = wh->inserter(t, {"USERID", "MOVIEID", "RATING"});
    for (int64_t u = 1; u <= 12; ++u) {
      for (int64_t i = 1; i <= 15; ++i) {
        if ((u * 7 + i * 3) % 4 != 0) ins->insert({u, i, static_cast<double>(1 + (u + i) % 5)});
      }
    }
    ins.reset();
    tx->commit();
  }
  ~ScratchHome() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  Home home() const { return Home(path_); }
  std::string db() const { return (path_ / "warehouse.db").string(); }

 private:
  fs::path path_;
};

TEST(Plugin, AToyAlgorithmTrainsThroughTheWholeJob) {
  register_toy_algorithm();
  ScratchHome h;
  // Its parameters are found like any algorithm's, and misuse is caught the same way.
  EXPECT_EQ(algorithms::default_params("global_mean").get_float("offset"), 0.0);
  EXPECT_THROW(algorithms::parse_params("global_mean", {{"offset", "99"}}), Error);
  EXPECT_THAT(training::job_options_help(), HasSubstr("global_mean:"));

  training::TrainRequest req;
  req.spec = training::job_spec_from_settings(
      "ratings", "recs", {{"algorithm", "global_mean"}, {"offset", "0.25"}, {"folds", "3"}});
  auto wh = storage::open_warehouse(h.db());
  const auto result = training::run_training(*wh, h.home(), req, {});
  // Cross-validation ran with it; the model was published and the output table written.
  EXPECT_THAT(result.cv_table, HasSubstr("Fold 3"));
  ASSERT_TRUE(result.summary.rmse);
  EXPECT_GT(*result.summary.rmse, 0.0);
  EXPECT_EQ(result.summary.output_rows, 12u);
  const auto top = wh->query("select count(*) from recs");
  EXPECT_EQ(std::get<int64_t>(top.rows.at(0).at(0)), 12);

  // The artifact holds the toy's own model type and reads back as one.
  const registry::Artifact a = registry::read_artifact(result.artifact_path);
  EXPECT_EQ(a.model->type().name, "constant");
  const auto& model = dynamic_cast<const ConstantModel&>(*a.model);
  double mean = 0;
  const auto rows = wh->query("select avg(rating) from ratings");
  mean = std::get<double>(rows.rows.at(0).at(0));
  EXPECT_NEAR(model.value, mean + 0.25, 1e-9);
  EXPECT_EQ(registry::read_artifact_header(result.artifact_path).model_type, "constant");
  EXPECT_EQ(registry::read_artifact_header(result.artifact_path).shape.n_users, 12u);

  // Served over HTTP like any model, next to routes added by the caller.
  deployment::EndpointStore store(h.home());
  store.deploy("toy", "models:/ratings");
  serving::ServerOptions o;
  o.port = 0;
  o.home = h.home();
  o.db_location = h.db();
  o.access_log = false;
  o.drain_timeout = std::chrono::seconds(2);
  o.extra_routes.push_back(
      {"GET", "/toy/{name}", serving::Access::kToken, serving::BodyKind::kNone, false, "",
       [](serving::RouteContext& ctx, serving::RouteCall& call, serving::Response& res) {
         call.endpoint = call.params.at(0);
         res.set_content("hello " + call.params.at(0) + " from a server on " + ctx.options.host,
                         "text/plain");
       }});
  const fs::path site = fs::path(h.home().root()) / "site";
  fs::create_directories(site / "css");
  write_file_atomic(site / "index.html", "<h1>reco</h1>");
  write_file_atomic(site / "css" / "app.css", "h1{}");
  write_file_atomic(h.home().root() / "secret.txt", "no");
  for (auto& r : serving::static_routes("/site", serving::files_in_directory(site)))
    o.extra_routes.push_back(std::move(r));
  serving::Server server(o);
  server.start();
  httplib::Client c("127.0.0.1", server.port());

  auto r = c.Post("/endpoints/toy/invocations", "1,2\n999,999\n", "text/csv");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const double expected = std::clamp(mean + 0.25, 1.0, 5.0);
  EXPECT_EQ(r->body, fmt::format("{}\n{}\n", expected, expected));

  r = c.Get("/toy/alice");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello alice from a server on 127.0.0.1");
  r = c.Post("/toy/alice", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD");

  // Static files: content types, revalidation, and nothing outside the folder.
  r = c.Get("/site");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<h1>reco</h1>");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  r = c.Get("/site/css/app.css");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/css; charset=utf-8");
  const std::string etag = r->get_header_value("ETag");
  r = c.Get("/site/css/app.css", {{"If-None-Match", etag}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  for (const char* bad :
       {"/site/../secret.txt", "/site/%2e%2e/secret.txt", "/site/css/../../secret.txt",
        "/site/nope.js", "/site/.hidden", "/site/css"}) {
    r = c.Get(bad);
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 404) << bad;
  }

  // The added routes are counted under their own labels.
  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("route=\"/toy/{name}\",endpoint=\"alice\",method=\"GET\","
                                 "code=\"200\"} 1"));
  EXPECT_THAT(r->body, HasSubstr("route=\"/site/{*path}\""));
  EXPECT_TRUE(server.stop());
}

TEST(Plugin, UnknownModelTypesAreRefusedWhenRead) {
  // An artifact whose algorithm this process does not know cannot be decoded: its body layout
  // belongs to the model type the algorithm registers.
  ScratchHome h;
  register_toy_algorithm();
  training::TrainRequest req;
  req.spec = training::job_spec_from_settings("ratings", "",
                                              {{"algorithm", "global_mean"}, {"folds", "0"}});
  auto wh = storage::open_warehouse(h.db());
  const auto result = training::run_training(*wh, h.home(), req, {});
  std::string bytes = read_file(result.artifact_path);
  // The algorithm name follows the metadata: its length field at align8(24 + M), then the name.
  const uint64_t name_at = ((24 + binary::load_u64(bytes.data() + 16) + 7) & ~uint64_t{7}) + 4;
  const size_t at = bytes.find("global_mean", name_at);
  ASSERT_EQ(at, name_at);
  bytes.replace(at, 11, "global_xxxx");
  const uint64_t t = bytes.size() - 20;  // the trailer: payload length, CRC-32, end magic
  binary::store_u32(bytes.data() + t + 8, crc32(bytes.data(), t));
  try {
    registry::decode_artifact(bytes, "x.reco");
    ADD_FAILURE() << "decoded an unknown model type";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_THAT(e.what(), HasSubstr("x.reco: the model was made by algorithm 'global_xxxx', "
                                    "which this reco does not know"));
  }
}

}  // namespace
}  // namespace reco
