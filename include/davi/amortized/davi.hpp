#pragma once
// DAVI (Lee et al., ECCV 2024) as the official code computes it (see reference/davi-method.md):
// a generator I_phi, trained once against a frozen diffusion prior s_theta, maps a measurement to a
// posterior sample in one network evaluation, x_hat = tanh(x_in - sigma_f(t') eps_phi(x_in, t')).
//
// Composition: Davi<Operator, Divergence, Bridge[, Network]>; the diffusion schedule is the prior's.
//   Operator   forward model with lift (davi/operators)       Divergence kl or ikl (davi/objectives)
//   Bridge     ppb or none (davi/bridges)                    Network    the generator's and fake score's
//                                                                       module (default: the prior's UNet)
//
// One train_step(x0): y = A x0 + noise (fresh noise every step);
//   (a) psi-step: DSM of the fake score s_psi on detached generator samples at t < t_max;
//   (b) phi-step: the divergence's surrogate (objectives/score_difference.hpp)
//       + lambda_con mean((y - A x_hat)^2) + the ground-truth term (regression_term.hpp)
//       [+ the adversarial term (adversarial_term.hpp), when adversarial = true];
//   (c) EMA of phi.
#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "davi/amortized/adversarial_term.hpp"
#include "davi/amortized/davi_options.hpp"
#include "davi/amortized/ema.hpp"
#include "davi/amortized/generator.hpp"
#include "davi/amortized/regression_term.hpp"
#include "davi/concepts.hpp"
#include "davi/core/archive.hpp"
#include "davi/core/options.hpp"
#include "davi/schedules/discrete.hpp"
#include "davi/core/atomic_file.hpp"
#include "davi/core/foreach_adamw.hpp"
#include "davi/core/rng.hpp"
#include "davi/distributed/data_parallel.hpp"
#include "davi/networks/patch_discriminator.hpp"
#include "davi/networks/unet.hpp"
#include "davi/operators/noise.hpp"
#include "davi/prior/dsm.hpp"
#include "davi/prior/score_prior.hpp"

namespace davi::amortized {

/// Which generator samples: the EMA of phi (DAVI's output) or phi itself.
enum class GeneratorWeights { ema, online };

template <class Op, class Div, class Br, class Net = networks::UNet>
class Davi {
  static_assert(require_operator<Op>());
  static_assert(require_divergence<Div>());
  static_assert(require_bridge<Br>());

 public:
  using EpsilonFn = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;
  using Options = DaviOptions;
  /// Whether the generator network exposes the layer the adaptive adversarial weight is measured on.
  static constexpr bool kHasLastLayer = requires(Net& n) { n->last_layer_weight(); };

  /// `teacher` is the frozen prior's epsilon and `schedule` the diffusion it was trained for (the
  /// divergence and the bridge are built for it); `initial` the network whose weights start both the
  /// generator and the fake score (the prior's own network for a ScorePrior).
  Davi(Op op, operators::GaussianNoise noise, EpsilonFn teacher, schedules::DiscreteSchedule schedule, Net initial,
       const Options& options, const typename Div::Options& divergence_options,
       const typename Br::Options& bridge_options, std::uint64_t seed, c10::Device device = c10::kCPU,
       StreamOn stream = StreamOn::device)
      : op_(std::move(op)),
        noise_(noise),
        teacher_(std::move(teacher)),
        options_(checked(options)),
        regression_(options.lambda_reg,
                    options.regression == "inpainting" ? RegressionForm::inpainting : RegressionForm::full),
        schedule_(std::move(schedule)),
        divergence_(divergence_options, schedule_),
        bridge_(bridge_options, schedule_),
        generator_(clone_network(initial, device)),
        ema_generator_(clone_network(initial, device)),
        fake_score_(clone_network(initial, device)),
        phi_optimizer_(generator_->parameters(), adamw(options.lr, options.weight_decay)),
        psi_optimizer_(fake_score_->parameters(), adamw(options.score_lr, options.weight_decay)),
        ema_(options.ema),
        rng_(seed, device, stream) {
    ema_generator_->eval();
    if (options.adversarial) {
      DAVI_CHECK_OPTION(kHasLastLayer, "adversarial",
                        "the generator network has no last_layer_weight() for the adaptive weight; set adversarial = false");
      adversarial_.emplace(options.discriminator, options.discriminator_lr, options.weight_decay, seed + 1, device);
    }
  }

  /// Builds a Davi whose teacher, schedule and initial weights are those of a trained ScorePrior.
  static Davi from_prior(prior::ScorePrior& p, Op op, operators::GaussianNoise noise, const Options& options,
                         const typename Div::Options& divergence_options,
                         const typename Br::Options& bridge_options, std::uint64_t seed,
                         c10::Device device = c10::kCPU, StreamOn stream = StreamOn::device)
    requires std::same_as<Net, networks::UNet>
  {
    auto net = p.net();
    net->eval();
    return Davi(std::move(op), noise, [net](const at::Tensor& x, const at::Tensor& t) mutable { return net->forward(x, t); },
                p.schedule(), net, options, divergence_options, bridge_options, seed, device, stream);
  }

  /// y = A x0 + sigma_y eps.
  at::Tensor measure(const at::Tensor& x0, Rng& rng) const { return noise_.apply(op_.forward(x0), rng); }

  /// One alternating step on a batch of clean images; measurements are synthesised with fresh noise.
  DaviLosses train_step(const at::Tensor& x0) {
    DaviLosses losses;
    const auto zero = at::zeros({}, x0.options());
    losses.adversarial = losses.adversarial_weight = losses.discriminator = zero;
    const at::Tensor y = measure(x0, rng_);
    const at::Tensor y_lift = op_.lift(y);

    // (a) psi-step: DSM of the fake score on detached generator samples, at times below t_max.
    generator_->eval();
    fake_score_->train();
    at::Tensor samples;
    {
      at::NoGradGuard no_grad;
      samples = generate(generator_, bridge_, bridge_.train_input(x0, y_lift, rng_));
    }
    at::Tensor score_loss = prior::dsm_loss([&](const auto& x, const auto& t) { return fake_score_->forward(x, t); },
                                      schedule_, samples, rng_, divergence_.t_max());
    psi_optimizer_.zero_grad();
    score_loss.backward();
    parallel_.average_gradients(fake_score_->parameters());
    {
      RECORD_USER_SCOPE("davi::optimizer");  // profiler labels (benchmarks/davi_profile.cpp)
      psi_optimizer_.step();
    }
    losses.score = score_loss.detach();
    if (adversarial_) losses.discriminator = adversarial_->discriminator_step(x0, samples);

    // (b) phi-step: a new bridge draw, with gradient.
    generator_->train();
    fake_score_->eval();
    const at::Tensor x_hat = generate(generator_, bridge_, bridge_.train_input(x0, y_lift, rng_));
    const EpsilonFunction fake_score = [this](const at::Tensor& x, const at::Tensor& t) {
      return fake_score_->forward(x, t);
    };
    const at::Tensor divergence = divergence_.surrogate(x_hat, teacher_, fake_score, schedule_, rng_);
    const at::Tensor fidelity = (y - op_.forward(x_hat)).square().mean();
    at::Tensor total = divergence + options_.lambda_con * fidelity;
    const at::Tensor regression = regression_.value(op_, x0, x_hat);
    if (regression_.active()) total = total + regression_.weight() * regression;
    if constexpr (kHasLastLayer) {
      if (adversarial_) {
        const auto [adversarial, weight] =
            adversarial_->generator_term(x0, x_hat, regression, generator_->last_layer_weight());
        total = total + weight * adversarial;
        losses.adversarial = adversarial.detach();
        losses.adversarial_weight = weight;
      }
    }
    phi_optimizer_.zero_grad();
    total.backward();
    parallel_.average_gradients(generator_->parameters());
    {
      RECORD_USER_SCOPE("davi::optimizer");
      phi_optimizer_.step();
    }

    // (c) EMA of phi.
    {
      RECORD_USER_SCOPE("davi::EMA");
      ema_.update(*ema_generator_, *generator_);
    }
    ++step_;

    losses.divergence = divergence.detach();
    losses.fidelity = fidelity.detach();
    losses.regression = regression.detach();
    losses.total = total.detach();
    return losses;
  }

  /// Trains data-parallel in `group` (distributed/data_parallel.hpp): its random streams are sharded by rank
  /// and every optimiser averages its gradients over the processes. Call before the first step.
  void distribute(std::shared_ptr<distributed::Group> group) {
    parallel_.join(group, {&rng_});
    if (adversarial_) adversarial_->distribute(std::move(group));
  }
  distributed::Group& group() const { return parallel_.group(); }

  /// n posterior samples per measurement, one generator evaluation each: N x n x C x H x W. The EMA
  /// generator samples (what DAVI reports); the online one is there for learning curves.
  at::Tensor sample(const at::Tensor& y, std::int64_t n, Rng& rng, GeneratorWeights weights = GeneratorWeights::ema) {
    at::NoGradGuard no_grad;
    const auto lifted = op_.lift(y).repeat_interleave(n, 0);
    auto& net = weights == GeneratorWeights::ema ? ema_generator_ : generator_;
    const bool was_training = net->is_training();
    net->eval();
    const auto x = generate(net, bridge_, bridge_.test_input(lifted, rng));
    net->train(was_training);
    auto shape = x.sizes().vec();
    shape[0] = y.size(0);
    shape.insert(shape.begin() + 1, n);
    return x.reshape(shape);
  }

  /// Writes the whole training state (networks, optimisers, EMA, step, RNG) into `archive`.
  void save(torch::serialize::OutputArchive& archive) {
    write_part(archive, "generator", *generator_);
    write_part(archive, "ema_generator", *ema_generator_);
    write_part(archive, "fake_score", *fake_score_);
    write_part(archive, "phi_optimizer", phi_optimizer_);
    write_part(archive, "psi_optimizer", psi_optimizer_);
    archive.write("step", torch::tensor(step_));
    archive.write("ema_step", torch::tensor(ema_.step()));
    rng_.save(archive, "rng");
    if (adversarial_) adversarial_->save(archive);
  }

  /// Restores what save(archive) wrote; `where` names the source in errors.
  void load(torch::serialize::InputArchive& archive, const std::string& where = "training state") {
    DAVI_CHECK(read_part(archive, "generator", *generator_) && read_part(archive, "ema_generator", *ema_generator_) &&
                   read_part(archive, "fake_score", *fake_score_) &&
                   read_part(archive, "phi_optimizer", phi_optimizer_) &&
                   read_part(archive, "psi_optimizer", psi_optimizer_),
               where, ": not a DAVI training state (a network or optimiser is missing)");
    at::Tensor step, ema_step;
    archive.read("step", step);
    archive.read("ema_step", ema_step);
    step_ = step.item<std::int64_t>();
    ema_.set_step(ema_step.item<std::int64_t>());
    rng_.load(archive, "rng", where);
    if (adversarial_) adversarial_->load(archive, where);
  }

  /// save(archive) into a file, written atomically.
  void save(const std::filesystem::path& path) {
    write_atomically(path, [&](const std::filesystem::path& tmp) {
      torch::serialize::OutputArchive archive;
      save(archive);
      archive.save_to(tmp.string());
    });
  }

  /// Restores a file written by save(path); false when `path` does not exist.
  bool resume(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) return false;
    torch::serialize::InputArchive archive;
    read_archive(archive, path, device(), "DAVI training state");
    load(archive, path.string());
    return true;
  }

  /// The ground-truth term, unweighted (regression_term.hpp).
  at::Tensor regression_term(const at::Tensor& x0, const at::Tensor& x_hat) const {
    return regression_.value(op_, x0, x_hat);
  }

  std::int64_t step() const { return step_; }
  c10::Device device() const { return rng_.device(); }
  const Options& options() const { return options_; }
  Op& op() { return op_; }
  const operators::GaussianNoise& noise() const { return noise_; }
  const schedules::DiscreteSchedule& schedule() const { return schedule_; }
  const Br& bridge() const { return bridge_; }
  const Div& divergence() const { return divergence_; }
  Net& generator() { return generator_; }
  Net& ema_generator() { return ema_generator_; }
  Net& fake_score() { return fake_score_; }

 private:
  /// The options, once every range declared in their visit holds (before any member uses them).
  static const Options& checked(const Options& o) {
    check_options(o, "davi");
    return o;
  }
  static torch::optim::AdamWOptions adamw(double lr, double weight_decay) {
    return torch::optim::AdamWOptions(lr).weight_decay(weight_decay);
  }

  Op op_;
  operators::GaussianNoise noise_;
  EpsilonFn teacher_;
  Options options_;
  GroundTruthRegression regression_;
  schedules::DiscreteSchedule schedule_;
  Div divergence_;
  Br bridge_;
  Net generator_, ema_generator_, fake_score_;
  ForeachAdamW phi_optimizer_, psi_optimizer_;
  Ema ema_;
  std::optional<AdversarialTerm> adversarial_;
  Rng rng_;
  distributed::DataParallel parallel_;
  std::int64_t step_ = 0;
};

}  // namespace davi::amortized
