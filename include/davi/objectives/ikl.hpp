#pragma once
// Integral KL (Diff-Instruct's IKL, as the official DAVI code uses it): each generator sample gets its
// own diffusion time t ~ U{0..t_max-1}. Weights are in epsilon form: the surrogate is
// mean(w(t) * stopgrad(eps_theta(x_t, t) - eps_psi(x_t, t)) * x_hat).
//   weighting "one"   (official): w = 1, i.e. w(t) = sigma_t / alpha_t in score form.
//   weighting "sigma"           : w = sigma_t, which damps the low-noise times where s_psi is least accurate.
#include <string>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/objectives/score_difference.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::objectives {

class Ikl {
 public:
  static constexpr std::string_view name = "ikl";
  struct Options {
    int t_max = 1000;
    std::string weighting = "one";
    template <class V>
    void visit(V&& v) {
      v("t_max", t_max, "t_ikl: times are drawn from {0..t_max-1} (official: 400 for deblurring, else 1000)", at_least(1));
      v("weighting", weighting, "time weight in epsilon form: one (official) or sigma", one_of({"one", "sigma"}));
    }
  };

  Ikl(const Options& o, const schedules::DiscreteSchedule& schedule) : options_(o), schedule_(schedule) {
    check_options(o, name);
    DAVI_CHECK_OPTION(o.t_max <= schedule.num_steps(), "t_max", "expected a value in [1, ", schedule.num_steps(),
                      "] (the schedule's steps), got ", o.t_max);
  }

  at::Tensor sample_times(std::int64_t n, Rng& rng) const { return rng.randint(0, options_.t_max, {n}); }
  at::Tensor weight(const at::Tensor& t) const {
    return options_.weighting == "one" ? at::ones(t.sizes(), t.options().dtype(at::kFloat)) : schedule_.sigma(t);
  }
  /// Times the fake score s_psi is trained on: the same range.
  int t_max() const { return options_.t_max; }
  /// The phi-loss term: at times sample_times draws, mean(weight(t) sg(eps_theta - eps_psi)(x_t, t) * x_hat).
  at::Tensor surrogate(const at::Tensor& x_hat, const EpsilonFunction& teacher, const EpsilonFunction& fake_score,
                       const schedules::DiscreteSchedule& schedule, Rng& rng) const {
    const auto t = sample_times(x_hat.size(0), rng);
    return score_difference_surrogate(x_hat, t, weight(t), teacher, fake_score, schedule, rng);
  }
  const Options& options() const { return options_; }

 private:
  Options options_;
  schedules::DiscreteSchedule schedule_;
};

}  // namespace davi::objectives
