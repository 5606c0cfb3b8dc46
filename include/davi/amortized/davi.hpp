#pragma once
// DAVI (Lee et al., ECCV 2024) as the official code computes it (see reference/davi-method.md):
// a generator I_phi, trained once against a frozen diffusion prior s_theta, maps a measurement to a
// posterior sample in one network evaluation, x_hat = tanh(x_in - sigma_f(t') eps_phi(x_in, t')).
//
// Composition: Davi<Operator, Schedule, Divergence, Bridge[, Network]>.
//   Operator   forward model with lift (davi/operators)       Schedule   alpha_bar for the diffusion
//   Divergence kl or ikl (davi/objectives)                   Bridge     ppb or none (davi/bridges)
//   Network    the generator's and fake score's module (default: the UNet of the prior)
//
// One train_step(x0): y = A x0 + noise (fresh noise every step);
//   (a) psi-step: DSM of the fake score s_psi on detached generator samples at t < t_max;
//   (b) phi-step: divergence surrogate mean(w(t) sg(eps_theta - eps_psi)(x_t, t) * x_hat)
//       + lambda_con mean((y - A x_hat)^2) + lambda_reg mean((x0 - x_hat)^2);
//   (c) EMA of phi.
// Optional (adversarial = true), as the official code: an unconditional PatchGAN discriminator trained
// with the hinge loss next to psi, and in the phi-step lambda_adv * (-mean D(x_hat) + feature matching)
// with the adaptive weight lambda_adv = clip(|grad_W L_gt| / (|grad_W L_adv| + 1e-4), 0.01, 10), W the
// last layer of the generator's last output block.
// regression = "inpainting" is the official inpainting form of the ground-truth term:
// 0.1 mean((x0 - x_hat)^2) + mean over the observed entries of (A x0 - A x_hat)^2.
#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "davi/core/options.hpp"
#include "davi/amortized/ema.hpp"
#include "davi/amortized/generator.hpp"
#include "davi/bridges/coefficients.hpp"
#include "davi/concepts.hpp"
#include "davi/schedules/discrete.hpp"
#include "davi/core/archive.hpp"
#include "davi/core/atomic_file.hpp"
#include "davi/core/foreach_adamw.hpp"
#include "davi/core/rng.hpp"
#include "davi/networks/patch_discriminator.hpp"
#include "davi/networks/unet.hpp"
#include "davi/operators/noise.hpp"
#include "davi/prior/dsm.hpp"
#include "davi/prior/score_prior.hpp"

namespace davi::amortized {

/// Options of the alternating optimisation; defaults are the official code's CLI defaults.
struct DaviOptions {
  double lr = 1e-4;             // phi (generator), AdamW
  double score_lr = 1e-4;       // psi (fake score), AdamW
  double weight_decay = 0.01;   // PyTorch's AdamW default, which the official code keeps
  double lambda_con = 1.0;      // data fidelity (official weight_con)
  double lambda_reg = 0.1;      // ground-truth regression (official reg_coeff; 0 = unpaired)
  std::string regression = "full";  // "full" or "inpainting" (the official inpainting form)
  EmaOptions ema;
  bool adversarial = false;     // the official PatchGAN term with its adaptive weight
  double discriminator_lr = 1e-4;
  networks::PatchDiscriminatorOptions discriminator;
  template <class V>
  void visit(V&& v) {
    v("lr", lr, "AdamW learning rate of the generator phi", greater_than(0));
    v("score_lr", score_lr, "AdamW learning rate of the fake score psi", greater_than(0));
    v("weight_decay", weight_decay, "AdamW weight decay of both", at_least(0));
    v("lambda_con", lambda_con, "weight of the data fidelity mean((y - A x_hat)^2)", at_least(0));
    v("lambda_reg", lambda_reg, "weight of the ground-truth regression mean((x0 - x_hat)^2); 0 disables it",
      at_least(0));
    v("regression", regression,
      "ground-truth term: full = mean((x0 - x_hat)^2); inpainting = 0.1 of that + mean over observed entries "
      "of (A x0 - A x_hat)^2 (official inpainting form)",
      one_of({"full", "inpainting"}));
    v("ema", ema, "EMA of the generator used for sampling");
    v("adversarial", adversarial, "add the official PatchGAN term with its adaptive weight");
    v("discriminator_lr", discriminator_lr, "AdamW learning rate of the discriminator (official: 1e-4 FFHQ, 1e-3 ImageNet)", greater_than(0));
    v("discriminator", discriminator, "PatchGAN discriminator options");
  }
};

/// The terms of one train_step (each a batch mean, a detached 0-dimensional fp32 tensor on the training
/// device: reading one with .item() waits for the device, so the training loop reads them only to log).
struct DaviLosses {
  at::Tensor score;       // psi-step DSM loss
  at::Tensor divergence;  // surrogate value (its gradient, not its value, is the KL's)
  at::Tensor fidelity;    // mean((y - A x_hat)^2), unweighted
  at::Tensor regression;  // mean((x0 - x_hat)^2), unweighted
  at::Tensor total;       // the phi loss that was minimised
  at::Tensor adversarial;         // -mean D(x_hat) + feature matching (0 when off)
  at::Tensor adversarial_weight;  // the adaptive lambda_adv (0 when off)
  at::Tensor discriminator;       // hinge loss of the discriminator (0 when off)
};

/// The official adaptive weight: clip(grad_gt / (grad_adv + 1e-4), 0.01, 10), after clamping to [0, 1e4];
/// computed on the device from the two gradient norms (no host round trip), detached.
inline at::Tensor adaptive_adversarial_weight(const at::Tensor& grad_gt_norm, const at::Tensor& grad_adv_norm) {
  return (grad_gt_norm / (grad_adv_norm + 1e-4)).clamp(0.0, 1e4).clamp(0.01, 10.0).detach();
}

template <class Op, class Sched, class Div, class Br, class Net = networks::UNet>
class Davi {
  static_assert(require_operator<Op>());
  static_assert(Schedule<Sched> && std::derived_from<Sched, schedules::DiscreteSchedule>,
                "davi: Schedule must be a davi::schedules::DiscreteSchedule (it provides the bridge's betas)");
  static_assert(require_divergence<Div>());
  static_assert(require_bridge<Br>());

 public:
  using EpsilonFn = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;
  using Options = DaviOptions;
  /// Whether the generator network exposes the layer the adaptive adversarial weight is measured on.
  static constexpr bool kHasLastLayer = requires(Net& n) { n->last_layer_weight(); };

  /// `teacher` is the frozen prior's epsilon; `initial` the network whose weights start both the
  /// generator and the fake score (the prior's own network for a ScorePrior).
  Davi(Op op, operators::GaussianNoise noise, EpsilonFn teacher, Net initial, const Options& options,
       const typename Sched::Options& schedule_options, const typename Div::Options& divergence_options,
       const typename Br::Options& bridge_options, std::uint64_t seed, c10::Device device = c10::kCPU,
       StreamOn stream = StreamOn::device)
      : op_(std::move(op)),
        noise_(noise),
        teacher_(std::move(teacher)),
        options_(options),
        schedule_(schedule_options),
        divergence_(divergence_options, schedule_),
        bridge_(bridge_options, schedule_),
        generator_(clone_network(initial, device)),
        ema_generator_(clone_network(initial, device)),
        fake_score_(clone_network(initial, device)),
        phi_optimizer_(generator_->parameters(), adamw(options.lr, options.weight_decay)),
        psi_optimizer_(fake_score_->parameters(), adamw(options.score_lr, options.weight_decay)),
        ema_(options.ema),
        rng_(seed, device, stream) {
    check_options(options, "davi");
    ema_generator_->eval();
    if (options.adversarial) {
      if constexpr (kHasLastLayer) {
        discriminator_ = with_global_seed(seed + 1, [&] { return networks::PatchDiscriminator(options.discriminator); });
        discriminator_->to(device);
        discriminator_optimizer_ = std::make_unique<ForeachAdamW>(
            discriminator_->parameters(), adamw(options.discriminator_lr, options.weight_decay));
      } else {
        detail::fail("method.adversarial: the generator network has no last_layer_weight() for the adaptive weight");
      }
    }
  }

  /// Builds a Davi whose teacher and initial weights are those of a trained ScorePrior.
  static Davi from_prior(prior::ScorePrior& p, Op op, operators::GaussianNoise noise, const Options& options,
                         const typename Sched::Options& schedule_options,
                         const typename Div::Options& divergence_options,
                         const typename Br::Options& bridge_options, std::uint64_t seed,
                         c10::Device device = c10::kCPU, StreamOn stream = StreamOn::device) {
    auto net = p.net();
    net->eval();
    return Davi(std::move(op), noise, [net](const at::Tensor& x, const at::Tensor& t) mutable { return net->forward(x, t); },
                net, options, schedule_options, divergence_options, bridge_options, seed, device, stream);
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
    const auto n = x0.size(0);

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
    {
      RECORD_USER_SCOPE("davi::optimizer");  // profiler labels (benchmarks/davi_profile.cpp)
      psi_optimizer_.step();
    }
    losses.score = score_loss.detach();
    if (discriminator_) losses.discriminator = discriminator_step(x0, samples);

    // (b) phi-step: a new bridge draw, with gradient.
    generator_->train();
    fake_score_->eval();
    const at::Tensor x_hat = generate(generator_, bridge_, bridge_.train_input(x0, y_lift, rng_));
    const auto t = divergence_.sample_times(n, rng_);
    at::Tensor direction;
    {
      at::NoGradGuard no_grad;
      const auto x_t = prior::diffuse(schedule_, x_hat, t, rng_.randn(x_hat.sizes(), x_hat.scalar_type()));
      direction = (teacher_(x_t, t) - fake_score_->forward(x_t, t)) * bridges::per_sample(divergence_.weight(t));
    }
    const at::Tensor divergence = (direction * x_hat).mean();
    const at::Tensor fidelity = (y - op_.forward(x_hat)).square().mean();
    at::Tensor total = divergence + options_.lambda_con * fidelity;
    const at::Tensor regression = regression_term(x0, x_hat);
    if (options_.lambda_reg > 0) total = total + options_.lambda_reg * regression;
    if constexpr (kHasLastLayer) {
      if (discriminator_) {
        const auto [adversarial, weight] = adversarial_term(x0, x_hat, regression);
        total = total + weight * adversarial;
        losses.adversarial = adversarial.detach();
        losses.adversarial_weight = weight;
      }
    }
    phi_optimizer_.zero_grad();
    total.backward();
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

  /// n posterior samples per measurement, one EMA-generator evaluation each: N x n x C x H x W.
  at::Tensor sample(const at::Tensor& y, std::int64_t n, Rng& rng) {
    at::NoGradGuard no_grad;
    const auto lifted = op_.lift(y).repeat_interleave(n, 0);
    const auto x = generate(ema_generator_, bridge_, bridge_.test_input(lifted, rng));
    auto shape = x.sizes().vec();
    shape[0] = y.size(0);
    shape.insert(shape.begin() + 1, n);
    return x.reshape(shape);
  }

  /// Writes the whole training state (networks, optimisers, EMA, step, RNG) into `archive`.
  void save(torch::serialize::OutputArchive& archive) {
    torch::serialize::OutputArchive gen, ema, fake, phi, psi;
    generator_->save(gen);
    ema_generator_->save(ema);
    fake_score_->save(fake);
    phi_optimizer_.save(phi);
    psi_optimizer_.save(psi);
    archive.write("generator", gen);
    archive.write("ema_generator", ema);
    archive.write("fake_score", fake);
    archive.write("phi_optimizer", phi);
    archive.write("psi_optimizer", psi);
    archive.write("step", torch::tensor(step_));
    archive.write("ema_step", torch::tensor(ema_.step()));
    rng_.save(archive, "rng");
    if (discriminator_) {
      torch::serialize::OutputArchive disc, disc_optimizer;
      discriminator_->save(disc);
      discriminator_optimizer_->save(disc_optimizer);
      archive.write("discriminator", disc);
      archive.write("discriminator_optimizer", disc_optimizer);
    }
  }

  /// Restores what save(archive) wrote; `where` names the source in errors.
  void load(torch::serialize::InputArchive& archive, const std::string& where = "training state") {
    torch::serialize::InputArchive gen, ema, fake, phi, psi;
    archive.read("generator", gen);
    archive.read("ema_generator", ema);
    archive.read("fake_score", fake);
    archive.read("phi_optimizer", phi);
    archive.read("psi_optimizer", psi);
    generator_->load(gen);
    ema_generator_->load(ema);
    fake_score_->load(fake);
    phi_optimizer_.load(phi);
    psi_optimizer_.load(psi);
    at::Tensor step, ema_step;
    archive.read("step", step);
    archive.read("ema_step", ema_step);
    step_ = step.item<std::int64_t>();
    ema_.set_step(ema_step.item<std::int64_t>());
    rng_.load(archive, "rng", where);
    if (discriminator_) {
      torch::serialize::InputArchive disc, disc_optimizer;
      DAVI_CHECK(archive.try_read("discriminator", disc) && archive.try_read("discriminator_optimizer", disc_optimizer),
                 where, ": the training state has no discriminator, but method.adversarial is on");
      discriminator_->load(disc);
      discriminator_optimizer_->load(disc_optimizer);
    }
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

  /// The ground-truth term (its weight lambda_reg is applied by the caller).
  at::Tensor regression_term(const at::Tensor& x0, const at::Tensor& x_hat) const {
    const at::Tensor full = (x0 - x_hat).square().mean();
    if (options_.regression == "full") return full;
    const at::Tensor observed = op_.forward(at::ones_like(x0)) != 0;
    return 0.1 * full + op_.forward(x0 - x_hat).square().sum() / observed.sum().clamp_min(1);
  }

  std::int64_t step() const { return step_; }
  c10::Device device() const { return rng_.device(); }
  const Options& options() const { return options_; }
  Op& op() { return op_; }
  const operators::GaussianNoise& noise() const { return noise_; }
  const Sched& schedule() const { return schedule_; }
  const Br& bridge() const { return bridge_; }
  const Div& divergence() const { return divergence_; }
  Net& generator() { return generator_; }
  Net& ema_generator() { return ema_generator_; }
  Net& fake_score() { return fake_score_; }

 private:
  /// Hinge loss step of the discriminator on real x0 and detached generator samples.
  at::Tensor discriminator_step(const at::Tensor& x0, const at::Tensor& samples) {
    discriminator_->train();
    discriminator_optimizer_->zero_grad();  // also clears stray gradients from the last phi-step
    const auto real = discriminator_->forward(x0).logits, fake = discriminator_->forward(samples).logits;
    const auto loss = 0.5 * (at::relu(1 - real).mean() + at::relu(1 + fake).mean());
    loss.backward();
    discriminator_optimizer_->step();
    return loss.detach();
  }

  /// -mean D(x_hat) + sum_l mean |F_l(x_hat) - sg F_l(x0)|, and its adaptive weight.
  std::pair<at::Tensor, at::Tensor> adversarial_term(const at::Tensor& x0, const at::Tensor& x_hat,
                                                 const at::Tensor& regression) {
    const auto fake = discriminator_->forward(x_hat);
    networks::PatchDiscriminatorOutput real;
    {
      at::NoGradGuard no_grad;
      real = discriminator_->forward(x0);
    }
    at::Tensor adversarial = -fake.logits.mean();
    for (std::size_t l = 0; l < fake.features.size(); ++l)
      adversarial = adversarial + (fake.features[l] - real.features[l]).abs().mean();
    auto& w = generator_->last_layer_weight();
    const auto grad_gt = torch::autograd::grad({regression}, {w}, {}, true)[0].norm();
    const auto grad_adv = torch::autograd::grad({adversarial}, {w}, {}, true)[0].norm();
    return {adversarial, adaptive_adversarial_weight(grad_gt, grad_adv)};
  }

  static torch::optim::AdamWOptions adamw(double lr, double weight_decay) {
    return torch::optim::AdamWOptions(lr).weight_decay(weight_decay);
  }

  Op op_;
  operators::GaussianNoise noise_;
  EpsilonFn teacher_;
  Options options_;
  Sched schedule_;
  Div divergence_;
  Br bridge_;
  Net generator_, ema_generator_, fake_score_;
  ForeachAdamW phi_optimizer_, psi_optimizer_;
  Ema ema_;
  networks::PatchDiscriminator discriminator_{nullptr};
  std::unique_ptr<ForeachAdamW> discriminator_optimizer_;
  Rng rng_;
  std::int64_t step_ = 0;
};

}  // namespace davi::amortized
