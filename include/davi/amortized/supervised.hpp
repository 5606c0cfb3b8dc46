#pragma once
// The amortized reference without a diffusion prior: DAVI's generator (same network, same start from
// the prior's weights, same x_hat = tanh(y_lift - sigma_f(T-1) f(y_lift, T-1))) trained only by
// regression, mean((x0 - x_hat)^2), on pairs (y, x0) synthesised with fresh noise every step. Its
// optimum is the posterior mean E[x0 | y]: one deterministic estimate per measurement, one network
// evaluation. What it lacks next to DAVI is exactly the prior's divergence term (and the bridge).
#include <torch/torch.h>

#include <string>

#include "davi/core/options.hpp"
#include "davi/amortized/generator.hpp"
#include "davi/bridges/none.hpp"
#include "davi/concepts.hpp"
#include "davi/schedules/discrete.hpp"
#include "davi/core/foreach_adamw.hpp"
#include "davi/core/rng.hpp"
#include "davi/core/training_loop.hpp"
#include "davi/networks/unet.hpp"
#include "davi/distributed/data_parallel.hpp"
#include "davi/operators/noise.hpp"

namespace davi::amortized {

struct SupervisedOptions {
  double lr = 1e-4;
  double weight_decay = 0.01;
  template <class V>
  void visit(V&& v) {
    v("lr", lr, "AdamW learning rate", greater_than(0));
    v("weight_decay", weight_decay, "AdamW weight decay", at_least(0));
  }
};

template <class Op, class Net = networks::UNet>
class Supervised {
  static_assert(require_operator<Op>());

 public:
  using Options = SupervisedOptions;

  /// `initial` starts the network (the prior's for a ScorePrior); `schedule` gives sigma_f(T-1).
  Supervised(Op op, operators::GaussianNoise noise, Net initial, const schedules::DiscreteSchedule& schedule,
             const Options& options, std::uint64_t seed, c10::Device device = c10::kCPU)
      : op_(std::move(op)),
        noise_(noise),
        input_({.h = 0.0}, schedule),
        net_(clone_network(initial, device)),
        optimizer_(net_->parameters(), torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay)),
        rng_(seed, device) {}

  /// y = A x0 + sigma_y eps.
  at::Tensor measure(const at::Tensor& x0, Rng& rng) const { return noise_.apply(op_.forward(x0), rng); }

  /// One regression step on a batch of clean images; returns mean((x0 - x_hat)^2), detached.
  at::Tensor train_step(const at::Tensor& x0) {
    net_->train();
    const at::Tensor loss = (estimate_with_grad(measure(x0, rng_)) - x0).square().mean();
    optimizer_.zero_grad();
    loss.backward();
    parallel_.average_gradients(net_->parameters());
    optimizer_.step();
    ++step_;
    return loss.detach();
  }

  /// The estimate for each measurement (N x C x H x W); deterministic.
  at::Tensor estimate(const at::Tensor& y) {
    at::NoGradGuard no_grad;
    net_->eval();
    return estimate_with_grad(y);
  }

  /// Trains data-parallel in `group` (distributed/data_parallel.hpp). Call before the first step.
  void distribute(std::shared_ptr<distributed::Group> group) { parallel_.join(std::move(group), {&rng_}); }
  distributed::Group& group() const { return parallel_.group(); }

  void save(torch::serialize::OutputArchive& archive) { save_network_state(archive, *net_, optimizer_, step_, rng_); }
  void load(torch::serialize::InputArchive& archive) { step_ = load_network_state(archive, *net_, optimizer_, rng_); }

  std::int64_t step() const { return step_; }
  c10::Device device() const { return rng_.device(); }
  Net& net() { return net_; }
  Op& op() { return op_; }

 private:
  at::Tensor estimate_with_grad(const at::Tensor& y) {
    return generate(net_, input_, input_.test_input(op_.lift(y), rng_));  // h = 0: x_in = y_lift at t' = T-1
  }

  Op op_;
  operators::GaussianNoise noise_;
  bridges::None input_;
  Net net_;
  ForeachAdamW optimizer_;
  Rng rng_;
  distributed::DataParallel parallel_;
  std::int64_t step_ = 0;
};

}  // namespace davi::amortized
