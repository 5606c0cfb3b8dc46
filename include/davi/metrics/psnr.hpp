#pragma once
// PSNR as the official DAVI evaluation computes it: images mapped from [-1, 1] to [0, 1] (clipped),
// data range 1, one value per image over C x H x W, then averaged by the caller.
#include <ATen/ATen.h>

#include <array>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/metrics/metric_batch.hpp"

namespace davi::metrics {

/// Images in [-1, 1] as float64 in [0, 1] (clipped), the range every image metric is defined on.
inline at::Tensor to_unit_interval(const at::Tensor& x) { return ((x.to(at::kDouble) + 1) / 2).clamp(0, 1); }

/// Per-image PSNR in dB (N values) of `estimate` against `truth`, both N x C x H x W in [-1, 1].
inline at::Tensor psnr(const at::Tensor& estimate, const at::Tensor& truth) {
  DAVI_CHECK(estimate.sizes() == truth.sizes(), "psnr: shapes differ: estimate ", shape_string(estimate.sizes()),
             ", truth ", shape_string(truth.sizes()));
  const auto mse = (to_unit_interval(estimate) - to_unit_interval(truth)).square().reshape({estimate.size(0), -1}).mean(1);
  return -10.0 * at::log10(mse);
}

/// The metric "psnr": per measurement, the PSNR of each sample averaged over the samples ("psnr") and the
/// PSNR of the samples' mean ("psnr_of_mean", the MMSE-style estimate).
struct Psnr {
  static constexpr std::string_view name = "psnr";
  static constexpr std::array<std::string_view, 2> reports = {"psnr", "psnr_of_mean"};
  static constexpr bool needs_classifier = false;
  static constexpr int min_samples = 1;
  using Options = NoOptions;
  explicit Psnr(const Options& = {}) {}
  NamedValues values(const MetricBatch& b) const {
    return {{"psnr", mean_over_samples(b, [&](const at::Tensor& s) { return psnr(s, b.truth); })},
            {"psnr_of_mean", psnr(b.samples.mean(1), b.truth).cpu()}};
  }
};

}  // namespace davi::metrics
