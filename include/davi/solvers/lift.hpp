#pragma once
// The lifted measurement as an estimate: the operator's own lift of y into image space (identity for
// deblurring, bilinear upsampling for super-resolution, the noisy masked image for inpainting). No
// network; the reference every method must beat, and the input DAVI's generator starts from.
#include <ATen/ATen.h>

#include <string_view>

#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"

namespace davi::solvers {

class Lift {
 public:
  static constexpr std::string_view name = "lift";
  static constexpr std::string_view required_tier = "forward";
  struct Options {
    template <class V>
    void visit(V&&) {}
  };
  explicit Lift(const Options& = {}) {}

  template <Operator Op, class Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise&, Prior&, Rng&, Cost&) const {
    return op.lift(y);
  }
};

}  // namespace davi::solvers
