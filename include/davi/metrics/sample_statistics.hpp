#pragma once
// Statistics of posterior samples that need no reference network:
//   diversity    per-pixel standard deviation over the samples of one measurement, averaged over pixels
//                ([-1, 1] units; 0 for a deterministic method);
//   consistency  ||y - A x_hat|| / sqrt(m) per sample, m the measurement's size: a sample that explains
//                y to within the noise gives about sigma_y, one that overfits the noise gives less.
#include <ATen/ATen.h>

#include "davi/core/check.hpp"

namespace davi::metrics {

/// Per-measurement diversity (N values) of samples N x S x C x H x W, S >= 2.
inline at::Tensor diversity(const at::Tensor& samples) {
  DAVI_CHECK(samples.dim() == 5 && samples.size(1) >= 2, "diversity: expected N x S x C x H x W samples with S >= 2, ",
             "got ", shape_string(samples.sizes()));
  return samples.to(at::kDouble).std(1, /*unbiased=*/true).reshape({samples.size(0), -1}).mean(1);
}

/// Per-sample root-mean-square residual (N values) between measurements y and A x_hat, both N x (m).
inline at::Tensor consistency(const at::Tensor& y, const at::Tensor& a_x_hat) {
  DAVI_CHECK(y.sizes() == a_x_hat.sizes(), "consistency: shapes differ: y ", shape_string(y.sizes()), ", A x_hat ",
             shape_string(a_x_hat.sizes()));
  return (y.to(at::kDouble) - a_x_hat.to(at::kDouble)).square().reshape({y.size(0), -1}).mean(1).sqrt();
}

}  // namespace davi::metrics
