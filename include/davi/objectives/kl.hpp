#pragma once
// Plain KL at a single diffusion time (the ablation baseline of IKL): every sample uses t = time,
// by default 0, the lowest noise level. Weight 1 in epsilon form.
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/objectives/score_difference.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::objectives {

class Kl {
 public:
  static constexpr std::string_view name = "kl";
  struct Options {
    int time = 0;
    template <class V>
    void visit(V&& v) {
      v("time", time, "the single diffusion time t (0 = lowest noise level)", at_least(0));
    }
  };

  Kl(const Options& o, const schedules::DiscreteSchedule& schedule) : options_(o) {
    check_options(o, name);
    DAVI_CHECK_OPTION(o.time < schedule.num_steps(), "time", "expected a value in [0, ", schedule.num_steps() - 1,
                      "] (the schedule's steps), got ", o.time);
  }

  at::Tensor sample_times(std::int64_t n, Rng& rng) const {
    return at::full({n}, options_.time, at::TensorOptions().dtype(at::kLong).device(rng.device()));
  }
  at::Tensor weight(const at::Tensor& t) const { return at::ones(t.sizes(), t.options().dtype(at::kFloat)); }
  /// The fake score is trained on times up to and including the one used.
  int t_max() const { return options_.time + 1; }
  /// The phi-loss term: at times sample_times draws, mean(weight(t) sg(eps_theta - eps_psi)(x_t, t) * x_hat).
  at::Tensor surrogate(const at::Tensor& x_hat, const EpsilonFunction& teacher, const EpsilonFunction& fake_score,
                       const schedules::DiscreteSchedule& schedule, Rng& rng) const {
    const auto t = sample_times(x_hat.size(0), rng);
    return score_difference_surrogate(x_hat, t, weight(t), teacher, fake_score, schedule, rng);
  }
  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace davi::objectives
