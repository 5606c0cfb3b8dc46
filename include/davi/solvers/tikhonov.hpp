#pragma once
// Tikhonov / Wiener deconvolution in closed form through the SVD:
//   x = c + argmin_d ||y - A c - A d||^2 + lambda ||d||^2 = c + V diag(s / (s^2 + lambda)) U^T (y - A c),
// with c a constant image (`center`; -1 is the black background of Fashion-MNIST). lambda = sigma_y^2 /
// sigma_x^2 makes it the Wiener filter of a white prior of variance sigma_x^2 around c.
#include <ATen/ATen.h>

#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"
#include "davi/core/check.hpp"
#include "davi/solvers/diffusion_steps.hpp"

namespace davi::solvers {

class Tikhonov {
 public:
  static constexpr std::string_view name = "tikhonov";
  static constexpr std::string_view required_tier = "svd";
  struct Options {
    double lambda = 0.01;
    double center = 0.0;
    template <class V>
    void visit(V&& v) {
      v("lambda", lambda, "regularisation weight (sigma_y^2 / sigma_x^2 for the Wiener filter; tuned here: 0.01)",
        greater_than(0));
      v("center", center, "the constant image the estimate is pulled towards ([-1, 1] units)", in_range(-1, 1));
    }
  };
  Tikhonov() : Tikhonov(Options{}) {}
  explicit Tikhonov(const Options& o) : options_(o) {
    check_options(o, name);
  }

  template <SvdOperator Op, class Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise&, Prior&, Rng&, Cost&) const {
    const auto c = at::full_like(op.adjoint(y), options_.center);  // image-shaped
    const auto residual = op.Ut(y - op.forward(c));
    const auto s = singular_values_like(op, residual);
    return c + op.V(residual * s / (s * s + options_.lambda));
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
