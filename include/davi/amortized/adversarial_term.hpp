#pragma once
// The official code's optional adversarial term, one of the generator's loss terms: an unconditional
// PatchGAN discriminator trained with the hinge loss next to the fake score, and in the generator's loss
// lambda_adv * (-mean D(x_hat) + feature matching) with the adaptive weight
// lambda_adv = clip(|grad_W L_gt| / (|grad_W L_adv| + 1e-4), 0.01, 10), W the last layer of the generator.
#include <torch/torch.h>

#include <string>
#include <utility>

#include "davi/core/archive.hpp"
#include "davi/core/foreach_adamw.hpp"
#include "davi/core/rng.hpp"
#include "davi/distributed/data_parallel.hpp"
#include "davi/networks/patch_discriminator.hpp"

namespace davi::amortized {

/// The official adaptive weight: clip(grad_gt / (grad_adv + 1e-4), 0.01, 10), after clamping to [0, 1e4];
/// computed on the device from the two gradient norms (no host round trip), detached.
inline at::Tensor adaptive_adversarial_weight(const at::Tensor& grad_gt_norm, const at::Tensor& grad_adv_norm) {
  return (grad_gt_norm / (grad_adv_norm + 1e-4)).clamp(0.0, 1e4).clamp(0.01, 10.0).detach();
}

class AdversarialTerm {
 public:
  /// The discriminator's initial weights come from `seed` (LibTorch's global generator, restored after).
  AdversarialTerm(const networks::PatchDiscriminatorOptions& options, double lr, double weight_decay,
                  std::uint64_t seed, c10::Device device)
      : discriminator_(with_global_seed(seed, [&] { return networks::PatchDiscriminator(options); })) {
    discriminator_->to(device);
    optimizer_ = std::make_unique<ForeachAdamW>(discriminator_->parameters(),
                                                torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
  }

  /// Hinge loss step of the discriminator on real x0 and detached generator samples; returns the loss.
  at::Tensor discriminator_step(const at::Tensor& x0, const at::Tensor& samples) {
    discriminator_->train();
    optimizer_->zero_grad();  // also clears stray gradients from the last generator step
    const auto real = discriminator_->forward(x0).logits, fake = discriminator_->forward(samples).logits;
    const auto loss = 0.5 * (at::relu(1 - real).mean() + at::relu(1 + fake).mean());
    loss.backward();
    parallel_.average_gradients(discriminator_->parameters());
    optimizer_->step();  // BatchNorm is synchronised (distribute): every process keeps the same statistics
    return loss.detach();
  }

  /// The generator's term -mean D(x_hat) + sum_l mean |F_l(x_hat) - sg F_l(x0)| and its adaptive weight,
  /// measured on `last_layer` against the ground-truth term `regression`.
  std::pair<at::Tensor, at::Tensor> generator_term(const at::Tensor& x0, const at::Tensor& x_hat,
                                                   const at::Tensor& regression, const at::Tensor& last_layer) {
    const auto fake = discriminator_->forward(x_hat);
    networks::PatchDiscriminatorOutput real;
    {
      at::NoGradGuard no_grad;
      real = discriminator_->forward(x0);
    }
    at::Tensor adversarial = -fake.logits.mean();
    for (std::size_t l = 0; l < fake.features.size(); ++l)
      adversarial = adversarial + (fake.features[l] - real.features[l]).abs().mean();
    auto grad_gt = torch::autograd::grad({regression}, {last_layer}, {}, true)[0];
    auto grad_adv = torch::autograd::grad({adversarial}, {last_layer}, {}, true)[0];
    distributed::average_(parallel_.group(), {grad_gt, grad_adv});  // the global batch's gradients, one collective
    return {adversarial, adaptive_adversarial_weight(grad_gt.norm(), grad_adv.norm())};
  }

  /// Trains data-parallel in `group`: gradients and the adaptive weight's gradient norms are averaged over
  /// the processes, and BatchNorm normalises with the global batch's statistics (SyncBatchNorm).
  void distribute(std::shared_ptr<distributed::Group> group) {
    discriminator_->synchronise_batch_norm(group);
    parallel_.join(std::move(group), {});
  }

  void save(torch::serialize::OutputArchive& archive) {
    write_part(archive, "discriminator", *discriminator_);
    write_part(archive, "discriminator_optimizer", *optimizer_);
  }
  void load(torch::serialize::InputArchive& archive, const std::string& where) {
    DAVI_CHECK(read_part(archive, "discriminator", *discriminator_) &&
                   read_part(archive, "discriminator_optimizer", *optimizer_),
               where, ": the training state has no discriminator, but method.adversarial is on");
  }

 private:
  networks::PatchDiscriminator discriminator_;
  std::unique_ptr<ForeachAdamW> optimizer_;
  distributed::DataParallel parallel_;
};

}  // namespace davi::amortized
