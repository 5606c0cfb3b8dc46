#pragma once
// The pseudo-inverse A^+ y: the least-squares solution of least norm. No prior, no network; it fits
// the noise in every observed direction (1 / s amplification), which is why it is only a reference.
#include <ATen/ATen.h>

#include <string_view>

#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"

namespace davi::solvers {

class Pinv {
 public:
  static constexpr std::string_view name = "pinv";
  static constexpr std::string_view required_tier = "svd";
  struct Options {
    template <class V>
    void visit(V&&) {}
  };
  explicit Pinv(const Options& = {}) {}

  template <SvdOperator Op, class Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise&, Prior&, Rng&, Cost&) const {
    return op.pinv(y);
  }
};

}  // namespace davi::solvers
