#pragma once
// The official code's per-task settings (training.sh / evaluation.sh; reference/davi-method.md 4.5),
// written down once. Experiment files scaled to 28 x 28 start from these.
#include <array>
#include <string_view>

namespace davi::amortized {

struct OfficialRecipe {
  std::string_view dataset;  // "ffhq" or "imagenet"
  std::string_view task;     // "deblur", "sr4", "inpaint", "denoise", "colorize"
  int t_ikl;                 // IKL upper time (divergence ikl: t_max)
  double lambda_con;         // weight_con
  double lambda_reg;         // reg_coeff
  double h_train;            // perturb_h in training
  double h_eval;             // perturb_h in evaluation
  double sigma_y;            // measurement noise in [-1, 1] units
};

inline constexpr std::array<OfficialRecipe, 10> kOfficialRecipes = {{
    {"ffhq", "deblur", 400, 0.5, 0.25, 0.1, 0.1, 0.05},
    {"ffhq", "sr4", 1000, 0.1, 1.0, 0.1, 0.1, 0.05},
    {"ffhq", "inpaint", 1000, 0.5, 1.0, 0.1, 0.1, 0.05},
    {"ffhq", "denoise", 1000, 0.2, 0.1, 0.1, 0.1, 0.20},
    {"ffhq", "colorize", 1000, 1.0, 0.25, 0.1, 0.1, 0.05},
    {"imagenet", "deblur", 400, 0.5, 0.5, 0.1, 0.1, 0.05},
    {"imagenet", "sr4", 1000, 0.075, 0.25, 0.01, 0.01, 0.05},
    {"imagenet", "inpaint", 400, 0.01, 0.1, 0.01, 0.01, 0.05},
    {"imagenet", "denoise", 600, 0.1, 1.0, 0.01, 0.01, 0.20},
    {"imagenet", "colorize", 1000, 0.5, 0.1, 0.1, 0.01, 0.05},  // trained with h 0.1, evaluated with 0.01
}};

/// The official optimiser settings shared by every task: AdamW lr 1e-4 for phi and psi, PyTorch's
/// default betas (0.9, 0.999), eps 1e-8 and weight decay 0.01; EMA beta 0.9999 every 5 steps.
/// These are DaviOptions' defaults. The CLI defaults (no flag given) are weight_con 1, t_ikl 1000,
/// h 0.1, reg_coeff 0.1.
inline constexpr OfficialRecipe kOfficialCliDefaults = {"any", "any", 1000, 1.0, 0.1, 0.1, 0.1, 0.05};

}  // namespace davi::amortized
