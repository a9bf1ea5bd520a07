#include "algorithms/params.h"
#include "algorithms/algorithm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reco::algorithms {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Runs f, expects a reco::Error of `kind`, returns its message.
template <typename F>
std::string error_of(F&& f, ErrorKind kind) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no reco::Error thrown";
  return "";
}

TEST(ParamsTest, SvdDefaultsAreSurprises) {
  const Params p = default_params("svd");
  EXPECT_EQ(p.algorithm(), "svd");
  EXPECT_EQ(p.get_int("n_factors"), 100);
  EXPECT_EQ(p.get_int("n_epochs"), 20);
  EXPECT_TRUE(p.get_bool("biased"));
  EXPECT_EQ(p.get_float("init_mean"), 0.0);
  EXPECT_EQ(p.get_float("init_std_dev"), 0.1);
  EXPECT_EQ(p.get_float("lr_all"), 0.005);
  EXPECT_EQ(p.get_float("reg_all"), 0.02);
  for (const char* n : {"lr_bu", "lr_bi", "lr_pu", "lr_qi"}) EXPECT_EQ(p.get_float(n), 0.005) << n;
  for (const char* n : {"reg_bu", "reg_bi", "reg_pu", "reg_qi"})
    EXPECT_EQ(p.get_float(n), 0.02) << n;
  EXPECT_FALSE(p.explicitly_set("n_factors"));
}

TEST(ParamsTest, SpecificRatesDefaultToTheGlobalOnes) {
  const Params p =
      parse_params("svd", {{"lr_all", "0.01"}, {"reg_all", "0.1"}, {"lr_qi", "0.002"}});
  EXPECT_EQ(p.get_float("lr_bu"), 0.01);
  EXPECT_EQ(p.get_float("lr_pu"), 0.01);
  EXPECT_EQ(p.get_float("lr_qi"), 0.002);
  EXPECT_EQ(p.get_float("reg_bi"), 0.1);
  EXPECT_TRUE(p.explicitly_set("lr_qi"));
  EXPECT_FALSE(p.explicitly_set("lr_bu"));
}

TEST(ParamsTest, ParsesEveryType) {
  const Params p = parse_params(
      "svd",
      {{"n_factors", " 50 "}, {"biased", "False"}, {"init_std_dev", "1e-2"}, {"n_epochs", "7.0"}});
  EXPECT_EQ(p.get_int("n_factors"), 50);
  EXPECT_FALSE(p.get_bool("biased"));
  EXPECT_EQ(p.get_float("init_std_dev"), 0.01);
  EXPECT_EQ(p.get_int("n_epochs"), 7);
  const Params b = parse_params("baseline", {{"method", "SGD"}});
  EXPECT_EQ(b.get_enum("method"), "sgd");
}

TEST(ParamsTest, BaselineDefaultsDependOnMethod) {
  const Params als = default_params("baseline");
  EXPECT_EQ(als.get_enum("method"), "als");
  EXPECT_EQ(als.get_int("n_epochs"), 10);
  EXPECT_EQ(als.get_float("reg_u"), 15.0);
  EXPECT_EQ(als.get_float("reg_i"), 10.0);
  EXPECT_FALSE(als.has("reg"));
  EXPECT_FALSE(als.has("learning_rate"));

  const Params sgd = parse_params("baseline", {{"method", "sgd"}});
  EXPECT_EQ(sgd.get_int("n_epochs"), 20);
  EXPECT_EQ(sgd.get_float("reg"), 0.02);
  EXPECT_EQ(sgd.get_float("learning_rate"), 0.005);
  EXPECT_FALSE(sgd.has("reg_u"));

  EXPECT_EQ(parse_params("baseline", {{"method", "sgd"}, {"n_epochs", "3"}}).get_int("n_epochs"),
            3);
}

TEST(ParamsTest, UnknownNameListsValidNames) {
  const std::string msg = error_of(
      [] {
        parse_params("svd", {{"n_factor", "10"}});
      },
      ErrorKind::kUsage);
  EXPECT_THAT(msg, AllOf(HasSubstr("n_factor'"), HasSubstr("n_factors"), HasSubstr("reg_qi"),
                         HasSubstr("lr_all")));
}

TEST(ParamsTest, UnknownAlgorithmListsValidOnes) {
  const std::string msg = error_of([] { parse_params("svdppp", {}); }, ErrorKind::kUsage);
  EXPECT_THAT(msg, AllOf(HasSubstr("svdppp"), HasSubstr("svd, baseline, svdpp")));
}

TEST(ParamsTest, BadTypeNamesParameterAndValue) {
  std::string msg = error_of(
      [] {
        parse_params("svd", {{"n_factors", "ten"}});
      },
      ErrorKind::kInput);
  EXPECT_THAT(msg, AllOf(HasSubstr("n_factors"), HasSubstr("'ten'"), HasSubstr("integer")));
  msg = error_of([] { parse_params("svd", {{"n_factors", "10.5"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, HasSubstr("10.5"));
  msg = error_of([] { parse_params("svd", {{"lr_all", "0.01x"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, AllOf(HasSubstr("lr_all"), HasSubstr("0.01x"), HasSubstr("number")));
  msg = error_of([] { parse_params("svd", {{"lr_all", ""}}); }, ErrorKind::kInput);
  msg = error_of([] { parse_params("svd", {{"biased", "maybe"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, AllOf(HasSubstr("biased"), HasSubstr("maybe"), HasSubstr("true|false")));
  msg = error_of([] { parse_params("baseline", {{"method", "newton"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, AllOf(HasSubstr("method"), HasSubstr("newton"), HasSubstr("als, sgd")));
}

TEST(ParamsTest, OutOfRangeNamesParameterValueAndRange) {
  std::string msg = error_of([] { parse_params("svd", {{"lr_all", "5"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, AllOf(HasSubstr("lr_all=5"), HasSubstr("[0, 1]")));
  msg = error_of([] { parse_params("svd", {{"n_factors", "0"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, AllOf(HasSubstr("n_factors=0"), HasSubstr("[1, 4096]")));
  msg = error_of([] { parse_params("svd", {{"reg_pu", "-0.1"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, HasSubstr("reg_pu=-0.1"));
  msg = error_of([] { parse_params("svd", {{"init_std_dev", "nan"}}); }, ErrorKind::kInput);
  EXPECT_THAT(msg, HasSubstr("init_std_dev"));
  msg = error_of(
      [] {
        parse_params("svd", {{"n_epochs", "99999999999999999999"}});
      },
      ErrorKind::kInput);
  EXPECT_THAT(msg, HasSubstr("n_epochs"));
}

TEST(ParamsTest, RejectsDuplicatesAndInapplicableParameters) {
  std::string msg = error_of(
      [] {
        parse_params("svd", {{"lr_all", "0.1"}, {"lr_all", "0.2"}});
      },
      ErrorKind::kUsage);
  EXPECT_THAT(msg, HasSubstr("lr_all"));
  msg = error_of(
      [] {
        parse_params("baseline", {{"method", "sgd"}, {"reg_u", "3"}});
      },
      ErrorKind::kUsage);
  EXPECT_THAT(msg, AllOf(HasSubstr("reg_u"), HasSubstr("method=als"), HasSubstr("method=sgd")));
  msg = error_of([] { parse_params("baseline", {{"learning_rate", "0.1"}}); }, ErrorKind::kUsage);
  EXPECT_THAT(msg, HasSubstr("learning_rate"));
}

TEST(ParamsTest, JsonIsDeterministicAndRoundTrips) {
  const Params p = parse_params("svd", {{"n_factors", "8"}, {"lr_all", "0.01"}});
  const nlohmann::json j = params_to_json(p);
  EXPECT_EQ(
      j.dump(),
      R"({"biased":true,"init_mean":0.0,"init_std_dev":0.1,"lr_all":0.01,"lr_bi":0.01,)"
      R"("lr_bu":0.01,"lr_pu":0.01,"lr_qi":0.01,"n_epochs":20,"n_factors":8,)"
      R"("parallel":"auto","reg_all":0.02,"reg_bi":0.02,"reg_bu":0.02,"reg_pu":0.02,"reg_qi":0.02})");
  EXPECT_EQ(j.size(), 16u);
  EXPECT_EQ(j["n_factors"], 8);
  EXPECT_EQ(j["lr_qi"], 0.01);
  EXPECT_EQ(j["biased"], true);
  // Keys come out sorted whatever order they were given in.
  const Params q = parse_params("svd", {{"lr_all", "0.01"}, {"n_factors", "8"}});
  EXPECT_EQ(params_to_json(q).dump(), j.dump());
  // The JSON form parses back to the same values.
  const Params back = parse_params_json("svd", j);
  EXPECT_EQ(back.values(), p.values());
}

TEST(ParamsTest, JsonInputAcceptsStringsNumbersAndBooleans) {
  const auto j = nlohmann::json::parse(
      R"({"n_factors": "12", "n_epochs": 5, "biased": false, "lr_all": 0.01, "reg_all": 1})");
  const Params p = parse_params_json("svd", j);
  EXPECT_EQ(p.get_int("n_factors"), 12);
  EXPECT_EQ(p.get_int("n_epochs"), 5);
  EXPECT_FALSE(p.get_bool("biased"));
  EXPECT_EQ(p.get_float("lr_all"), 0.01);
  EXPECT_EQ(p.get_float("reg_all"), 1.0);
  error_of([] { parse_params_json("svd", nlohmann::json::parse(R"({"n_factors": [1]})")); },
           ErrorKind::kInput);
  error_of([] { parse_params_json("svd", nlohmann::json::parse("[1]")); }, ErrorKind::kUsage);
}

TEST(ParamsTest, HelpListsEveryParameterWithDefaultAndRange) {
  const std::string help = params_help("svd");
  for (const auto& p : find_algorithm("svd").params) EXPECT_THAT(help, HasSubstr(p.name));
  EXPECT_THAT(help, HasSubstr("n_factors"));
  EXPECT_THAT(help, HasSubstr("[1, 4096]"));
  EXPECT_THAT(help, HasSubstr("lr_all"));
  const std::string all = params_help_all();
  EXPECT_THAT(all,
              AllOf(HasSubstr("svd:"), HasSubstr("baseline:"), HasSubstr("10 (20 when method=sgd)"),
                    HasSubstr("als|sgd"), HasSubstr("(only with method=als)")));
}

TEST(ParamsTest, TypedAccessMismatchIsAnInternalError) {
  const Params p = default_params("svd");
  error_of([&] { p.get_float("n_factors"); }, ErrorKind::kInternal);
  error_of([&] { p.get_int("no_such"); }, ErrorKind::kInternal);
}

}  // namespace
}  // namespace reco::algorithms
