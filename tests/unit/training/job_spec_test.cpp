// The command line's NAME=VALUE settings (job_spec.h): a --set name that is both a job option and
// a hyperparameter of the algorithm (knn's k and the ranking cut-off k) is the hyperparameter.
#include "training/job_spec.h"

#include <gtest/gtest.h>

namespace reco::training {
namespace {

TEST(JobSpecSettings, SetKIsTheNeighbourCountOfKnnAndTheRankingCutOffOtherwise) {
  const JobSpec knn =
      job_spec_from_settings("ratings", "out", {{"algorithm", "knn_basic"}}, {{"k", "7"}});
  EXPECT_EQ(knn.params.get_int("k"), 7);
  EXPECT_EQ(knn.ranking_k, 10);
  // The algorithm may come after the name, from --set too.
  const JobSpec later = job_spec_from_settings("ratings", "out", {{"k", "5"}},
                                               {{"k", "3"}, {"algorithm", "knn_with_means"}});
  EXPECT_EQ(later.params.get_int("k"), 3);
  EXPECT_EQ(later.ranking_k, 5);  // the flag (--ranking-k)
  const JobSpec svd = job_spec_from_settings("ratings", "out", {}, {{"k", "4"}});
  EXPECT_EQ(svd.ranking_k, 4);
  EXPECT_FALSE(svd.params.has("k"));
}

}  // namespace
}  // namespace reco::training
