#pragma once
// Perturbed Posterior Bridge (the official code's training input): a ~ Beta(beta_a, 1),
// t' = trunc(T a - 0.5), x_in = mu0(t') x0 + mu1(t') y_lift + h (1 - alpha_bar(t')) z.
// Small t' mixes in the clean image (12.5% of draws carry more than half of it), so training is paired.
#include <cmath>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/bridges/coefficients.hpp"
#include "davi/concepts.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::bridges {

class Ppb {
 public:
  static constexpr std::string_view name = "ppb";
  struct Options {
    double h = 0.01;  // official 0.1 (FFHQ); 0.01 measured better here (docs/method.md, "Recipe")
    double beta_a = 3.0;
    template <class V>
    void visit(V&& v) {
      v("h", h, "perturbation scale h (official: 0.1, or 0.01 for some ImageNet tasks; davi: 0.01, see docs/method.md)", at_least(0));
      v("beta_a", beta_a, "a ~ Beta(beta_a, 1) places the bridge time t' = trunc(T a - 0.5)", greater_than(0));
    }
  };

  Ppb(const Options& o, const schedules::DiscreteSchedule& schedule) : options_(o), coefficients_(schedule) {
    check_options(o, name);
  }

  /// t' = trunc(T a - 0.5) with a ~ Beta(beta_a, 1), drawn by inversion: a = u^(1 / beta_a).
  at::Tensor sample_times(std::int64_t n, Rng& rng) const {
    const auto a = rng.rand({n}, at::kDouble).pow(1.0 / options_.beta_a);
    return (coefficients_.num_steps() * a - 0.5).trunc().clamp(0, coefficients_.num_steps() - 1).to(at::kLong);
  }

  BridgeInput train_input(const at::Tensor& x0, const at::Tensor& y_lift, Rng& rng) const {
    const auto t = sample_times(x0.size(0), rng);
    const auto z = rng.randn(x0.sizes(), x0.scalar_type());
    const auto x_in = per_sample(coefficients_.mu0(t)) * x0 + per_sample(coefficients_.mu1(t)) * y_lift +
                      options_.h * per_sample(coefficients_.one_minus_alpha_bar(t)) * z;
    return {x_in, t};
  }
  BridgeInput test_input(const at::Tensor& y_lift, Rng& rng) const {
    return coefficients_.measurement_end(y_lift, options_.h, rng);
  }
  at::Tensor sigma_f(const at::Tensor& t) const { return coefficients_.sigma_f(t); }

  const Options& options() const { return options_; }
  const BridgeCoefficients& coefficients() const { return coefficients_; }

 private:
  Options options_;
  BridgeCoefficients coefficients_;
};

}  // namespace davi::bridges
