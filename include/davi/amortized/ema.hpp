#pragma once
// Exponential moving average of the generator's weights with the semantics of ema_pytorch (the
// official code's library): plain copies until update_after_step, then an update every update_every
// calls with decay min(beta, 1 - (1 + n)^(-power)), n counting the calls after update_after_step.
#include <torch/torch.h>

#include <cmath>

#include "davi/core/options.hpp"
#include "davi/prior/dsm.hpp"

namespace davi::amortized {

struct EmaOptions {
  double beta = 0.9999;
  int update_every = 5;
  int update_after_step = 100;
  double power = 2.0 / 3.0;
  template <class V>
  void visit(V&& v) {
    v("beta", beta, "largest decay (official: 0.9999)", in_range_below(0, 1));
    v("update_every", update_every, "update every this many steps (official: 5)", at_least(1));
    v("update_after_step", update_after_step, "copy the weights until this step (ema_pytorch default: 100)",
      at_least(0));
    v("power", power, "decay warm-up 1 - (1 + n)^-power (ema_pytorch default: 2/3)", greater_than(0));
  }
};

class Ema {
 public:
  explicit Ema(const EmaOptions& o) : options_(o) {}

  /// The decay the next update would use at call `step` (0-based), 0 meaning a plain copy.
  double decay_at(std::int64_t step) const {
    const double n = static_cast<double>(step - options_.update_after_step - 1);
    if (n <= 0) return 0.0;
    return std::min(options_.beta, 1.0 - std::pow(1.0 + n, -options_.power));
  }

  void update(torch::nn::Module& ema, torch::nn::Module& online) {
    const std::int64_t step = step_++;
    if (step % options_.update_every != 0) return;
    if (step <= options_.update_after_step) {
      prior::copy_weights(ema, online);
      return;
    }
    prior::ema_update(ema, online, decay_at(step));
  }

  std::int64_t step() const { return step_; }
  void set_step(std::int64_t step) { step_ = step; }

 private:
  EmaOptions options_;
  std::int64_t step_ = 0;
};

}  // namespace davi::amortized
