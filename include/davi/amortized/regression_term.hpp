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

class GroundTruthRegression {
 public:
  GroundTruthRegression(double weight, std::string form) : weight_(weight), form_(std::move(form)) {
    DAVI_CHECK_OPTION(weight >= 0, "lambda_reg", "expected a value >= 0, got ", weight);
    DAVI_CHECK_OPTION(form_ == "full" || form_ == "inpainting", "regression", "unknown \"", form_,
                      "\"; expected one of: full, inpainting");
  }

  /// The unweighted term (batch mean).
  template <class Op>
  at::Tensor value(const Op& op, const at::Tensor& x0, const at::Tensor& x_hat) const {
    const at::Tensor full = (x0 - x_hat).square().mean();
    if (form_ == "full") return full;
    const at::Tensor observed = op.forward(at::ones_like(x0)) != 0;
    return 0.1 * full + op.forward(x0 - x_hat).square().sum() / observed.sum().clamp_min(1);
  }

  double weight() const { return weight_; }
  bool active() const { return weight_ > 0; }

 private:
  double weight_;
  std::string form_;
};

}  // namespace davi::amortized
