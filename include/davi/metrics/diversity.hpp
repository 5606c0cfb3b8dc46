#pragma once
// Diversity of posterior samples: the per-pixel standard deviation over the samples of one measurement,
// averaged over pixels ([-1, 1] units; 0 for a deterministic method). Needs no reference network.
#include <ATen/ATen.h>

#include <array>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/metrics/metric_batch.hpp"

namespace davi::metrics {

/// Per-measurement diversity (N values) of samples N x S x C x H x W, S >= 2.
inline at::Tensor diversity(const at::Tensor& samples) {
  DAVI_CHECK(samples.dim() == 5 && samples.size(1) >= 2, "diversity: expected N x S x C x H x W samples with S >= 2, ",
             "got ", shape_string(samples.sizes()));
  return samples.to(at::kDouble).std(1, /*unbiased=*/true).reshape({samples.size(0), -1}).mean(1);
}

/// The metric "diversity": per measurement; needs at least 2 samples.
struct Diversity {
  static constexpr std::string_view name = "diversity";
  static constexpr std::array<std::string_view, 1> reports = {name};
  static constexpr bool needs_classifier = false;
  static constexpr int min_samples = 2;
  using Options = NoOptions;
  explicit Diversity(const Options& = {}) {}
  NamedValues values(const MetricBatch& b) const { return {{"diversity", diversity(b.samples).cpu()}}; }
};

}  // namespace davi::metrics
