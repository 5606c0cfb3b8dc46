#pragma once
// What Davi (amortized/davi.hpp) is configured with and what one of its training steps reports.
#include <ATen/ATen.h>

#include <string>

#include "davi/amortized/ema.hpp"
#include "davi/core/options.hpp"
#include "davi/networks/patch_discriminator.hpp"

namespace davi::amortized {

/// Options of the alternating optimisation; defaults are the official code's CLI defaults, and the
/// adversarial term is on, as the official code always trains with it (a generator network without a
/// last output layer, such as the Gaussian toy's MLP, must turn it off).
struct DaviOptions {
  double lr = 1e-4;             // phi (generator), AdamW
  double score_lr = 1e-4;       // psi (fake score), AdamW
  double weight_decay = 0.01;   // PyTorch's AdamW default, which the official code keeps
  double lambda_con = 1.0;      // data fidelity (official weight_con)
  double lambda_reg = 0.1;      // ground-truth regression (official reg_coeff; 0 = unpaired)
  std::string regression = "full";  // "full" or "inpainting" (the official inpainting form)
  EmaOptions ema{};
  bool adversarial = true;      // the official PatchGAN term with its adaptive weight
  double discriminator_lr = 1e-4;
  networks::PatchDiscriminatorOptions discriminator{};
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

}  // namespace davi::amortized
