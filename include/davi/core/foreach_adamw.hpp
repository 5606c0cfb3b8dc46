#pragma once
// AdamW with one multi-tensor (_foreach_) call per arithmetic step over all parameters, instead of
// LibTorch's loop of about ten kernels per parameter: on a GPU the loop is launch-bound (a UNet has a few
// hundred parameter tensors). The arithmetic is torch::optim::AdamW's, operation for operation, so on
// the CPU the two give identical weights; its state and archives are AdamW's, so checkpoints of either
// load into the other. amsgrad is not supported.
#include <torch/optim/adamw.h>

#include <cmath>
#include <map>
#include <memory>
#include <vector>

#include "davi/core/check.hpp"
#include "davi/core/torch_compat.hpp"

namespace davi {

class ForeachAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;

  torch::Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    torch::Tensor loss;
    if (closure) {
      at::AutoGradMode enable_grad(true);
      loss = closure();
    }
    for (auto& group : param_groups_) {
      const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
      DAVI_CHECK(!o.amsgrad(), "ForeachAdamW: amsgrad is not supported; use torch::optim::AdamW");
      // Parameters that have taken the same number of steps share their bias corrections.
      std::map<std::int64_t, Slices> by_step;
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        auto& s = state_of(p);
        s.step(s.step() + 1);
        auto& slice = by_step[s.step()];
        slice.params.push_back(p);
        slice.grads.push_back(p.grad());
        slice.exp_avgs.push_back(s.exp_avg());
        slice.exp_avg_sqs.push_back(s.exp_avg_sq());
      }
      const auto [beta1, beta2] = o.betas();
      for (auto& [step, slice] : by_step) {
        const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
        const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
        if (o.weight_decay() != 0) at::_foreach_mul_(slice.params, 1 - o.lr() * o.weight_decay());
        at::_foreach_mul_(slice.exp_avgs, beta1);
        at::_foreach_add_(slice.exp_avgs, slice.grads, 1 - beta1);
        at::_foreach_mul_(slice.exp_avg_sqs, beta2);
        at::_foreach_addcmul_(slice.exp_avg_sqs, slice.grads, slice.grads, 1 - beta2);
        auto denominators = at::_foreach_sqrt(slice.exp_avg_sqs);
        at::_foreach_div_(denominators, std::sqrt(bias_correction2));
        at::_foreach_add_(denominators, o.eps());
        at::_foreach_addcdiv_(slice.params, slice.exp_avgs, denominators, -o.lr() / bias_correction1);
      }
    }
    return loss;
  }

 private:
  struct Slices {
    std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs;
  };

  /// The parameter's AdamW state, created (zero moments, step 0) on its first step.
  torch::optim::AdamWParamState& state_of(const at::Tensor& p) {
    auto& slot = state_[compat::optimizer_state_key(p)];
    if (!slot) {
      auto fresh = std::make_unique<torch::optim::AdamWParamState>();
      fresh->step(0);
      fresh->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
      fresh->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
      slot = std::move(fresh);
    }
    return static_cast<torch::optim::AdamWParamState&>(*slot);
  }
};

}  // namespace davi
