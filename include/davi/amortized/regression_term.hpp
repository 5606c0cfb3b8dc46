#pragma once
// DAVI's ground-truth term (paired training, official reg_coeff), one of the generator's loss terms:
//   full        mean((x0 - x_hat)^2)
//   inpainting  0.1 mean((x0 - x_hat)^2) + the mean over the observed entries of (A x0 - A x_hat)^2
//               (the official code's inpainting form)
// weighted by lambda_reg; 0 turns it off (unpaired training).
#include <ATen/ATen.h>

#include <string>

#include "davi/core/options.hpp"

namespace davi::amortized {

/// full: mean((x0 - x_hat)^2); inpainting: the official inpainting form (0.1 of that + the squared error
/// over observed entries).
enum class RegressionForm { full, inpainting };

class GroundTruthRegression {
 public:
  /// `weight` >= 0 (0 turns the term off); DaviOptions declares the range of lambda_reg, checked there.
  GroundTruthRegression(double weight, RegressionForm form) : weight_(weight), form_(form) {}

  /// The unweighted term (batch mean).
  template <class Op>
  at::Tensor value(const Op& op, const at::Tensor& x0, const at::Tensor& x_hat) const {
    const at::Tensor full = (x0 - x_hat).square().mean();
    if (form_ == RegressionForm::full) return full;
    const at::Tensor observed = op.forward(at::ones_like(x0)) != 0;
    return 0.1 * full + op.forward(x0 - x_hat).square().sum() / observed.sum().clamp_min(1);
  }

  double weight() const { return weight_; }
  bool active() const { return weight_ > 0; }

 private:
  double weight_;
  RegressionForm form_;
};

}  // namespace davi::amortized
