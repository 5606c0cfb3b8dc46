#pragma once
// Nichol & Dhariwal's cosine schedule: alpha_bar(t) = f(t)/f(0), f(u) = cos^2(pi/2 (u/T + s)/(1 + s)),
// discretised as beta_i = min(1 - f(i+1)/f(i), max_beta).
#include <numbers>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::schedules {

class Cosine : public DiscreteSchedule {
 public:
  static constexpr std::string_view name = "cosine";
  struct Options {
    int num_steps = 1000;
    double offset = 0.008;    // s in the formula
    double max_beta = 0.999;  // clip near t = T, where f -> 0
    template <class V>
    void visit(V&& v) {
      v("num_steps", num_steps, "number of diffusion steps T", in_range(1, 100000));
      v("offset", offset, "s: small offset that keeps beta_0 from vanishing", in_range(0, 1));
      v("max_beta", max_beta, "upper clip of beta near t = T", in_open_range(0, 1));
    }
  };

  Cosine() : Cosine(Options{}) {}
  explicit Cosine(const Options& options) : DiscreteSchedule(make_betas(options)), options_(options) {}
  const Options& options() const { return options_; }

 private:
  static at::Tensor make_betas(const Options& o) {
    const auto f = [&](const at::Tensor& u) {
      return at::cos((u / o.num_steps + o.offset) / (1 + o.offset) * (std::numbers::pi / 2)).square();
    };
    const at::Tensor i = at::arange(o.num_steps, at::TensorOptions().dtype(at::kDouble));
    return (1.0 - f(i + 1) / f(i)).clamp_max(o.max_beta);
  }
  Options options_;
};

}  // namespace davi::schedules
