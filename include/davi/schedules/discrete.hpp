#pragma once
// Shared machinery of discrete VP schedules: a table of betas (float64, as the reference code keeps
// them) and its cumulative product alpha_bar. Lookups take integer time tensors on any device and
// return float32 values on that device.
#include <ATen/ATen.h>
#include <array>
#include <map>
#include <string>

#include "davi/core/check.hpp"

namespace davi::schedules {

/// Options of the schedules defined by a beta range (linear, sqrt_linear).
struct BetaRangeOptions {
  int num_steps = 1000;
  double beta_start = 1e-4;
  double beta_end = 0.02;
  template <class V>
  void visit(V&& v) {
    v("num_steps", num_steps, "number of diffusion steps T");
    v("beta_start", beta_start, "beta at t = 0");
    v("beta_end", beta_end, "beta at t = T - 1");
  }
};

class DiscreteSchedule {
 public:
  explicit DiscreteSchedule(at::Tensor betas) : betas_(betas.to(at::kDouble).contiguous()) {
    DAVI_CHECK(betas_.dim() == 1 && betas_.size(0) > 0, "schedule: betas must be a non-empty 1-D tensor");
    DAVI_CHECK(betas_.min().item<double>() > 0 && betas_.max().item<double>() < 1,
               "schedule: betas must lie in (0, 1)");
    alpha_bar_ = at::cumprod(1.0 - betas_, 0);
  }

  int num_steps() const { return static_cast<int>(betas_.size(0)); }

  /// alpha_bar(t) = prod_{s <= t} (1 - beta_s) for integer t in {0..T-1}.
  at::Tensor alpha_bar(const at::Tensor& t) const { return lookup(kAlphaBar, t); }
  at::Tensor beta(const at::Tensor& t) const { return lookup(kBeta, t); }
  /// sqrt(alpha_bar): the signal coefficient of x_t.
  at::Tensor alpha(const at::Tensor& t) const { return lookup(kAlpha, t); }
  /// sqrt(1 - alpha_bar): the noise coefficient of x_t, computed in float64 before the cast.
  at::Tensor sigma(const at::Tensor& t) const { return lookup(kSigma, t); }

  /// Whole tables, float64 on the CPU.
  const at::Tensor& betas() const { return betas_; }
  const at::Tensor& alpha_bars() const { return alpha_bar_; }
  double alpha_bar_at(int t) const { return alpha_bar_[t].item<double>(); }

 private:
  enum Table { kAlphaBar, kBeta, kAlpha, kSigma, kNumTables };

  // float32 copies of the tables per device, made on first use so lookups never leave the device.
  const at::Tensor& table_on(Table which, const c10::Device& device) const {
    auto& tables = device_tables_[device.str()];
    if (!tables[which].defined()) {
      const at::Tensor source[kNumTables] = {alpha_bar_, betas_, alpha_bar_.sqrt(), (1.0 - alpha_bar_).sqrt()};
      tables[which] = source[which].to(device, at::kFloat);
    }
    return tables[which];
  }

  at::Tensor lookup(Table which, const at::Tensor& t) const {
    DAVI_CHECK(!at::isFloatingType(t.scalar_type()), "schedule: time indices must be integers, got ",
               t.scalar_type());
    // The range check reads values, so it runs only where that costs no device synchronisation.
    if (t.device().is_cpu() && t.numel() > 0) {
      DAVI_CHECK(t.min().item<std::int64_t>() >= 0 && t.max().item<std::int64_t>() < num_steps(),
                 "schedule: time index out of range [0, ", num_steps() - 1, "]");
    }
    return table_on(which, t.device()).index_select(0, t.reshape({-1}).to(at::kLong)).reshape(t.sizes());
  }

  mutable std::map<std::string, std::array<at::Tensor, kNumTables>> device_tables_;
  at::Tensor betas_;
  at::Tensor alpha_bar_;
};

}  // namespace davi::schedules
