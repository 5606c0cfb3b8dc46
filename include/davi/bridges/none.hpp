#pragma once
// No bridge (the PPB ablation): the generator always sees the measurement end, t' = T-1,
// x_in = y_lift + h z in training (as DESIGN.md states it) and y_lift + h (1 - alpha_bar(T-1)) z at
// inference, like every bridge. The two scales differ by 0.07% with sqrt_linear.
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/bridges/coefficients.hpp"
#include "davi/concepts.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::bridges {

class None {
 public:
  static constexpr std::string_view name = "none";
  struct Options {
    double h = 0.01;  // as Ppb's default
    template <class V>
    void visit(V&& v) {
      v("h", h, "perturbation scale h of the generator input", at_least(0));
    }
  };

  None(const Options& o, const schedules::DiscreteSchedule& schedule) : options_(o), coefficients_(schedule) {
    check_options(o, name);
  }

  BridgeInput train_input(const at::Tensor& x0, const at::Tensor& y_lift, Rng& rng) const {
    return {y_lift + options_.h * rng.randn(y_lift.sizes(), y_lift.scalar_type()),
            coefficients_.last_times(y_lift.size(0), y_lift.device())};
  }
  BridgeInput test_input(const at::Tensor& y_lift, Rng& rng) const {
    return coefficients_.measurement_end(y_lift, options_.h, rng);
  }
  at::Tensor sigma_f(const at::Tensor& t) const { return coefficients_.sigma_f(t); }

  const Options& options() const { return options_; }

 private:
  Options options_;
  BridgeCoefficients coefficients_;
};

}  // namespace davi::bridges
