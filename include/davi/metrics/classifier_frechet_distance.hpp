#pragma once
// The metric "classifier_frechet_distance": the Frechet distance (frechet_distance.hpp) between Gaussians
// fitted to the classifier embeddings of the first sample of every measurement and of the true images,
// over the whole evaluation set. Named for its network: it is not FID, which is defined on Inception.
#include <torch/torch.h>

#include <array>

#include <vector>

#include "davi/metrics/frechet_distance.hpp"
#include "davi/core/options.hpp"
#include "davi/metrics/metric_batch.hpp"

namespace davi::metrics {

class ClassifierFrechetDistance {
 public:
  static constexpr std::string_view name = "classifier_frechet_distance";
  static constexpr std::array<std::string_view, 1> reports = {name};
  static constexpr bool needs_classifier = true;
  static constexpr int min_samples = 1;
  using Options = NoOptions;
  explicit ClassifierFrechetDistance(const Options& = {}) {}

  void add(const MetricBatch& b) {
    torch::NoGradGuard no_grad;
    auto net = b.classifier;
    samples_.push_back(net->features(b.samples.select(1, 0)).embedding.cpu());
    truth_.push_back(net->features(b.truth).embedding.cpu());
  }
  double value() const { return frechet_distance(at::cat(samples_), at::cat(truth_)); }
  /// The distance on the measurements `rows` (a bootstrap resample: indices into every measurement added,
  /// with repetition), each keeping its own sample and truth.
  double value(const at::Tensor& rows) const {
    return frechet_distance(at::cat(samples_).index_select(0, rows), at::cat(truth_).index_select(0, rows));
  }

 private:
  std::vector<at::Tensor> samples_, truth_;
};

}  // namespace davi::metrics
