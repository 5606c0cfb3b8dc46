#pragma once
// The official DAVI code's "i2sb" schedule: sqrt(beta) is linear in s,
// beta_s = (sqrt(beta_start) + (sqrt(beta_end) - sqrt(beta_start)) s / (T - 1))^2.
#include <cmath>
#include <string_view>

#include "davi/schedules/discrete.hpp"

namespace davi::schedules {

class SqrtLinear : public DiscreteSchedule {
 public:
  static constexpr std::string_view name = "sqrt_linear";
  using Options = BetaRangeOptions;

  explicit SqrtLinear(const Options& options = {})
      : DiscreteSchedule(at::linspace(std::sqrt(options.beta_start), std::sqrt(options.beta_end),
                                      options.num_steps, at::TensorOptions().dtype(at::kDouble))
                             .square()),
        options_(options) {}
  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace davi::schedules
