#pragma once
// Operator self-checks (as deepinv offers): adjointness <A x, y> = <x, A^T y> on random inputs, in
// float64. A wrong "transpose" (DPS's blur and SR operators) fails this at once.
#include <ATen/ATen.h>

#include <cmath>

#include "davi/concepts.hpp"
#include "davi/core/rng.hpp"

namespace davi::operators {

/// |<A x, y> - <x, A^T y>| / (|A x| |y|) for random x and y drawn from `rng` (CPU).
template <AdjointOperator Op>
double adjointness_error(const Op& op, std::int64_t batch, Rng& rng) {
  Shape image = op.image_shape();
  Shape x_shape = {batch}, y_shape = {batch};
  x_shape.insert(x_shape.end(), image.begin(), image.end());
  const auto m = op.measurement_shape(image);
  y_shape.insert(y_shape.end(), m.begin(), m.end());
  const auto x = rng.randn(x_shape, at::kDouble), y = rng.randn(y_shape, at::kDouble);
  const at::Tensor ax = op.forward(x), aty = op.adjoint(y);
  const double lhs = (ax * y).sum().item<double>(), rhs = (x * aty).sum().item<double>();
  const double scale = ax.norm().item<double>() * y.norm().item<double>();
  return std::abs(lhs - rhs) / std::max(scale, 1e-300);
}

}  // namespace davi::operators
