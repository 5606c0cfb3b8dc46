#pragma once
// What the diffusion-prior solvers share: their time grid, the prior's epsilon at one time (counted in
// Cost), Tweedie's x0, and the operator's singular values as an N x n batch.
#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "davi/concepts.hpp"
#include "davi/schedules/discrete.hpp"
#include "davi/core/check.hpp"
#include "davi/core/cost.hpp"

namespace davi::solvers {

/// `steps` times evenly spaced over {0, ..., T-1}, from T-1 down to 0 (DDIM/DDRM spacing).
inline std::vector<int> descending_times(int num_steps, int steps, const char* where) {
  DAVI_CHECK(steps >= 1 && steps <= num_steps, where, ": steps must be in [1, ", num_steps, "], got ", steps);
  std::vector<int> times;
  for (int i = steps - 1; i >= 0; --i)
    times.push_back(steps == 1 ? num_steps - 1
                               : static_cast<int>(std::lround(static_cast<double>(i) * (num_steps - 1) / (steps - 1))));
  return times;
}

/// alpha_bar(t), and 1 at t = -1: the clean end every reverse process steps to last.
inline double alpha_bar_or_one(const schedules::DiscreteSchedule& s, int t) { return t < 0 ? 1.0 : s.alpha_bar_at(t); }

/// The prior's epsilon for a batch at one time t; one network evaluation.
template <EpsilonModel Prior>
at::Tensor eps_at(Prior& prior, const at::Tensor& x, int t, Cost& cost) {
  ++cost.network_evaluations;
  return prior.eps(x, at::full({x.size(0)}, t, at::TensorOptions().dtype(at::kLong).device(x.device())));
}

/// Tweedie's estimate x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab).
inline at::Tensor x0_from_eps(const at::Tensor& x_t, const at::Tensor& eps, double alpha_bar) {
  return (x_t - std::sqrt(1 - alpha_bar) * eps) / std::sqrt(alpha_bar);
}

/// The operator's singular values as N x n, in the dtype and on the device of `like` (N x n).
template <SvdOperator Op>
at::Tensor singular_values_like(const Op& op, const at::Tensor& like) {
  return op.singular_values().to(like.options()).expand_as(like);
}

}  // namespace davi::solvers
