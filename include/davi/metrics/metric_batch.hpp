#pragma once
// What an evaluation shows its metrics, one batch of measurements at a time. A metric is a policy of one
// of two shapes (concepts.hpp): per-image (values(batch): named tensors of one value per measurement,
// which the evaluation averages over all measurements) or aggregate (add(batch) for every batch, then
// value() once, e.g. a Frechet distance between two feature clouds).
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "davi/networks/feature_classifier.hpp"

namespace davi::metrics {

struct MetricBatch {
  at::Tensor samples;  // B x S x C x H x W: the method's S estimates of each measurement
  at::Tensor truth;    // B x C x H x W
  at::Tensor y;        // B x measurement shape
  std::function<at::Tensor(const at::Tensor&)> forward;  // the operator A
  networks::FeatureClassifier classifier{nullptr};          // loaded when a metric needs it
};

/// A metric's per-measurement values under the name they are reported by.
using NamedValues = std::vector<std::pair<std::string, at::Tensor>>;

/// B values on the CPU in float64: `per_sample(x_hat)` (B values for B estimates) averaged over the S samples.
template <class F>
at::Tensor mean_over_samples(const MetricBatch& batch, F&& per_sample) {
  const auto samples = batch.samples.size(1);
  at::Tensor sum;
  for (std::int64_t s = 0; s < samples; ++s) {
    const at::Tensor v = per_sample(batch.samples.select(1, s)).to(at::kCPU, at::kDouble);
    sum = s == 0 ? v : sum + v;
  }
  return sum / static_cast<double>(samples);
}

}  // namespace davi::metrics
