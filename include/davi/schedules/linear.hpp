#pragma once
// DDPM's linear schedule: beta_s from beta_start to beta_end, evenly spaced (Ho et al. 2020).
#include <string_view>

#include "davi/schedules/discrete.hpp"

namespace davi::schedules {

class Linear : public DiscreteSchedule {
 public:
  static constexpr std::string_view name = "linear";
  using Options = BetaRangeOptions;

  explicit Linear(const Options& options = {})
      : DiscreteSchedule(at::linspace(options.beta_start, options.beta_end, options.num_steps,
                                      at::TensorOptions().dtype(at::kDouble))),
        options_(options) {}
  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace davi::schedules
