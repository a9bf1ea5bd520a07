// The algorithms reco ships, one line each (included by algorithm.cpp with RECO_ALGORITHM
// defined). RECO_ALGORITHM(x) refers to `Algorithm x_algorithm()` in algorithms/x.cpp.
RECO_ALGORITHM(svd)
RECO_ALGORITHM(baseline)
RECO_ALGORITHM(svdpp)
RECO_ALGORITHM(nmf)
RECO_ALGORITHM(normal_predictor)
RECO_ALGORITHM(co_clustering)
RECO_ALGORITHM(knn_basic)
RECO_ALGORITHM(knn_with_means)
RECO_ALGORITHM(knn_with_zscore)
RECO_ALGORITHM(knn_baseline)
RECO_ALGORITHM(slope_one)
RECO_ALGORITHM(blend)
