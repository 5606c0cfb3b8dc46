#pragma once
// The surrogate both of davi's divergences use (Diff-Instruct / DAVI): at diffusion times t of the
// generator samples x_hat, x_t = alpha_t x_hat + sigma_t eps and
//   surrogate = mean(w(t) * stopgrad(eps_theta(x_t, t) - eps_psi(x_t, t)) * x_hat),
// whose gradient in x_hat is the weighted difference of the prior's and the fake score's epsilon, the
// gradient of the KL between the generator's and the prior's diffused distributions at t.
#include <ATen/ATen.h>

#include <functional>

#include "davi/concepts.hpp"
#include "davi/core/rng.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::objectives {

using davi::EpsilonFunction;  // concepts.hpp: eps(x_t, t) of the frozen prior (teacher) or of the fake score

/// `weight` holds w(t) per sample; draws eps from `rng` after the caller drew t (the stream order of DAVI's
/// phi-step).
inline at::Tensor score_difference_surrogate(const at::Tensor& x_hat, const at::Tensor& t, const at::Tensor& weight,
                                             const EpsilonFunction& teacher, const EpsilonFunction& fake_score,
                                             const schedules::DiscreteSchedule& schedule, Rng& rng) {
  at::Tensor direction;
  {
    at::NoGradGuard no_grad;
    const auto x_t = schedules::diffuse(schedule, x_hat, t, rng.randn(x_hat.sizes(), x_hat.scalar_type()));
    direction = (teacher(x_t, t) - fake_score(x_t, t)) * weight.reshape({-1, 1, 1, 1});
  }
  return (direction * x_hat).mean();
}

}  // namespace davi::objectives
