#pragma once
// A learned perceptual distance in the activations of davi's Fashion-MNIST classifier, built the way
// LPIPS is but without its learned per-channel weights (and not on an ImageNet network, so results
// call it classifier_feature_distance): at each conv block, unit-normalise the activation vector of
// every position across channels, take the squared distance between estimate and truth, average over
// positions, then average over the blocks. 0 for identical images, at most 4.
#include <torch/torch.h>

#include <array>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/networks/feature_classifier.hpp"
#include "davi/metrics/metric_batch.hpp"

namespace davi::metrics {

/// Per-image distance (N values) between `estimate` and `truth`, both N x C x H x W in [-1, 1].
inline at::Tensor classifier_feature_distance(networks::FeatureClassifier& net, const at::Tensor& estimate,
                                              const at::Tensor& truth) {
  DAVI_CHECK(estimate.sizes() == truth.sizes(), "classifier_feature_distance: shapes differ: estimate ",
             shape_string(estimate.sizes()), ", truth ", shape_string(truth.sizes()));
  torch::NoGradGuard no_grad;
  const auto a = net->features(estimate), b = net->features(truth);
  const auto unit = [](const at::Tensor& f) { return f / (f.norm(2, {1}, true) + 1e-10); };
  at::Tensor total = at::zeros({estimate.size(0)}, estimate.options().dtype(at::kDouble));
  for (std::size_t l = 0; l < a.blocks.size(); ++l) {
    const auto d = (unit(a.blocks[l]) - unit(b.blocks[l])).square().sum(1);  // N x H x W
    total = total + d.reshape({d.size(0), -1}).mean(1).to(at::kDouble);
  }
  return total / static_cast<double>(a.blocks.size());
}

/// The metric "classifier_feature_distance": per measurement, averaged over the samples.
struct ClassifierFeatureDistance {
  static constexpr std::string_view name = "classifier_feature_distance";
  static constexpr std::array<std::string_view, 1> reports = {name};
  static constexpr bool needs_classifier = true;
  static constexpr int min_samples = 1;
  using Options = NoOptions;
  explicit ClassifierFeatureDistance(const Options& = {}) {}
  NamedValues values(const MetricBatch& b) const {
    auto net = b.classifier;
    return {{"classifier_feature_distance", mean_over_samples(b, [&](const at::Tensor& s) {
               return classifier_feature_distance(net, s, b.truth);
             })}};
  }
};

}  // namespace davi::metrics
