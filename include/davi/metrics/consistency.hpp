#pragma once
// Consistency of samples with their measurement: ||y - A x_hat|| / sqrt(m) per sample, m the measurement's
// size. A sample that explains y to within the noise gives about sigma_y, one that overfits the noise less.
#include <ATen/ATen.h>

#include <array>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/metrics/metric_batch.hpp"

namespace davi::metrics {

/// Per-sample root-mean-square residual (N values) between measurements y and A x_hat, both N x (m).
inline at::Tensor consistency(const at::Tensor& y, const at::Tensor& a_x_hat) {
  DAVI_CHECK(y.sizes() == a_x_hat.sizes(), "consistency: shapes differ: y ", shape_string(y.sizes()), ", A x_hat ",
             shape_string(a_x_hat.sizes()));
  return (y.to(at::kDouble) - a_x_hat.to(at::kDouble)).square().reshape({y.size(0), -1}).mean(1).sqrt();
}

/// The metric "consistency": per measurement, averaged over the samples.
struct Consistency {
  static constexpr std::string_view name = "consistency";
  static constexpr std::array<std::string_view, 1> reports = {name};
  static constexpr bool needs_classifier = false;
  static constexpr int min_samples = 1;
  using Options = NoOptions;
  explicit Consistency(const Options& = {}) {}
  NamedValues values(const MetricBatch& b) const {
    return {{"consistency", mean_over_samples(b, [&](const at::Tensor& s) { return consistency(b.y, b.forward(s)); })}};
  }
};

}  // namespace davi::metrics
