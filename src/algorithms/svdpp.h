#pragma once
// SVD++ (Surprise's SVDpp, Koren 2008): biased factorization plus implicit feedback, the items a
// user rated:  r^_ui = mu + b_u + b_i + q_i . (p_u + |I_u|^-1/2 sum_{j in I_u} y_j),
// trained by SGD in Surprise's order and with its updates, per rating (u, i, r):
//   e = r - r^_ui;  b_u += lr_bu (e - reg_bu b_u);  b_i += lr_bi (e - reg_bi b_i)
//   p_u += lr_pu (e q_i - reg_pu p_u);  q_i += lr_qi (e (p_u + |I_u|^-1/2 sum y_j) - reg_qi q_i)
//   y_j += lr_yj (e q_i |I_u|^-1/2 - reg_yj y_j)   for every j in I_u (q_i, p_u: before update)
// Surprise applies the last line to every item of I_u at every rating: O(|I_u| k) per rating,
// hours on large users. The update is the same affine map for all j in I_u (scale by
// 1 - lr_yj reg_yj, add one vector), so reco keeps the composition of those maps while it visits
// a user's ratings, reads sum y_j from it in O(k), and applies it to the y_j once at the end of
// the user: the same arithmetic, O(k) per rating. The published model folds the implicit part
// into each user's vector (p_u + |I_u|^-1/2 sum y_j) and is a plain FactorModel.

#include "algorithms/algorithm.h"
#include "algorithms/factor_model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"

namespace reco::algorithms {

class InitialFactors;

struct SvdppOptions {
  int n_factors = 20;
  int n_epochs = 20;
  double init_mean = 0.0, init_std_dev = 0.1;
  double lr_bu{}, lr_bi{}, lr_pu{}, lr_qi{}, lr_yj{};
  double reg_bu{}, reg_bi{}, reg_pu{}, reg_qi{}, reg_yj{};

  static SvdppOptions from_params(const Params& params);  // params of algorithm "svdpp"
};

// `init`: the shared initial draws (prepare_shared) or null to draw them here.
FactorModel fit_svdpp(const SvdppOptions& options, const TrainingSet& set, RatingScale scale,
                      uint64_t seed, const EpochProgress& progress = {},
                      const InitialFactors* init = nullptr);

Algorithm svdpp_algorithm();

}  // namespace reco::algorithms
