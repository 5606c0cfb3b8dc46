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
    append(samples_, net->features(b.samples.select(1, 0)).embedding.cpu());
    append(truth_, net->features(b.truth).embedding.cpu());
  }
  double value() const { return frechet_distance(samples_, truth_); }
  /// The distance on the measurements `rows` (a bootstrap resample: indices into every measurement added,
  /// with repetition), each keeping its own sample and truth.
  double value(const at::Tensor& rows) const {
    return frechet_distance(samples_.index_select(0, rows), truth_.index_select(0, rows));
  }

 private:
  // One tensor per side, grown by each batch, so the thousand resamples of a bootstrap index it directly.
  static void append(at::Tensor& all, const at::Tensor& batch) { all = all.defined() ? at::cat({all, batch}) : batch; }
  at::Tensor samples_, truth_;  // N x embedding
};

}  // namespace davi::metrics
