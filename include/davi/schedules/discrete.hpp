#pragma once
// Shared machinery of discrete VP schedules: a table of betas (float64, as the reference code keeps
// them) and its cumulative product alpha_bar. Lookups take integer time tensors on any device and
// return float32 values on that device.
#include <ATen/ATen.h>

#include <vector>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/core/time_table.hpp"

namespace davi::schedules {

/// Options of the schedules defined by a beta range (linear, sqrt_linear).
struct BetaRangeOptions {
  int num_steps = 1000;
  double beta_start = 1e-4;
  double beta_end = 0.02;
  template <class V>
  void visit(V&& v) {
    v("num_steps", num_steps, "number of diffusion steps T", in_range(1, 100000));
    v("beta_start", beta_start, "beta at t = 0", in_open_range(0, 1));
    v("beta_end", beta_end, "beta at t = T - 1", in_open_range(0, 1));
  }
};

class DiscreteSchedule {
 public:
  explicit DiscreteSchedule(at::Tensor betas) : betas_(betas.to(at::kDouble).contiguous()) {
    DAVI_CHECK(betas_.dim() == 1 && betas_.size(0) > 0, "schedule: betas must be a non-empty 1-D tensor");
    DAVI_CHECK(betas_.min().item<double>() > 0 && betas_.max().item<double>() < 1,
               "schedule: betas must lie in (0, 1)");
    alpha_bar_ = at::cumprod(1.0 - betas_, 0);
    beta_table_ = TimeTable(betas_);
    alpha_bar_table_ = TimeTable(alpha_bar_);
    alpha_table_ = TimeTable(alpha_bar_.sqrt());
    sigma_table_ = TimeTable((1.0 - alpha_bar_).sqrt());  // in float64, accurate near t = 0
  }

  int num_steps() const { return static_cast<int>(betas_.size(0)); }

  /// alpha_bar(t) = prod_{s <= t} (1 - beta_s) for integer t in {0..T-1}.
  at::Tensor alpha_bar(const at::Tensor& t) const { return alpha_bar_table_(t); }
  at::Tensor beta(const at::Tensor& t) const { return beta_table_(t); }
  /// sqrt(alpha_bar): the signal coefficient of x_t.
  at::Tensor alpha(const at::Tensor& t) const { return alpha_table_(t); }
  /// sqrt(1 - alpha_bar): the noise coefficient of x_t.
  at::Tensor sigma(const at::Tensor& t) const { return sigma_table_(t); }

  /// Whole tables, float64 on the CPU.
  const at::Tensor& betas() const { return betas_; }
  const at::Tensor& alpha_bars() const { return alpha_bar_; }
  double alpha_bar_at(int t) const { return alpha_bar_[t].item<double>(); }

 private:
  at::Tensor betas_;
  at::Tensor alpha_bar_;
  TimeTable beta_table_, alpha_bar_table_, alpha_table_, sigma_table_;
};

/// x_t = alpha_t x0 + sigma_t eps: images x0 (N x ...) diffused to the times t (N values).
inline at::Tensor diffuse(const DiscreteSchedule& s, const at::Tensor& x0, const at::Tensor& t, const at::Tensor& eps) {
  const auto shape = std::vector<int64_t>{-1, 1, 1, 1};
  return s.alpha(t).view(shape) * x0 + s.sigma(t).view(shape) * eps;
}

}  // namespace davi::schedules
