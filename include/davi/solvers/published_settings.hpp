#pragma once
// The one place where the baselines' published settings are converted into davi's units.
//
// davi states every noise level on images in [-1, 1], the range the prior is trained on
// (task.noise.sigma_y = 0.05 is 2.5% of the range), and every step size in the form its solver's header
// writes down. The public repositories do not agree with each other:
//
//   quantity          source                       their convention                    davi
//   sigma_y           DDRM sigma_0, DDNM, RED-diff  on [0, 1] images (doubled inside)   sigma_y_from_unit_interval
//                     DiffPIR noise_level_img       0..255 on [0, 1] images             sigma_y_from_8bit
//                     DPS, DAPS, DAVI, InverseBench on [-1, 1] images                   unchanged
//   DPS step          official code `scale`         scale * grad ||y - A x0||           dps_zeta_from_official_scale
//                     paper zeta'                   zeta' / ||r|| * grad ||r||^2        unchanged (davi's zeta)
//   RED-diff lr       official (mean reductions)    Adam lr, lambda = grad_term_weight  unchanged
//                     InverseBench                  sum of squares, zero start          does not carry over
//   PiGDM eta         InverseBench 0.2, paper 1.0   DDIM eta                            unchanged
//   DDRM, DDNM eta    official 0.85, eta_b 1.0      the same                            unchanged
//
// Operators with the same task name differ too, which no conversion fixes: "Gaussian deblur" is a 61x61
// sigma 3 kernel with reflect padding in DPS/DAPS, a 5-tap sigma 10 kernel in DDRM/RED-diff, and a separable
// kernel with a zero boundary through the SVD in DAVI and davi (gaussian_blur: 11 taps, sigma 1.5 for the
// 28x28 images here). A step size tuned on one of them is a starting point for another, not a setting.
// docs/baselines.md lists the values davi uses and the validation sweeps that chose them.

namespace davi::solvers::published {

/// sigma_y given for images in [0, 1] (DDRM's sigma_0, DDNM, RED-diff, deepinv) in davi's [-1, 1] units.
constexpr double sigma_y_from_unit_interval(double sigma_on_unit_interval) { return 2 * sigma_on_unit_interval; }

/// sigma_y given in 8-bit levels of a [0, 1] image (DiffPIR's noise_level_img) in davi's [-1, 1] units.
constexpr double sigma_y_from_8bit(double sigma_in_levels) { return 2 * sigma_in_levels / 255; }

/// DPS: the official code steps by scale * grad ||y - A x0|| with the norm unsquared; the paper, and davi's
/// Dps, by zeta / ||y - A x0|| * grad ||y - A x0||^2, which is 2 zeta grad ||y - A x0||. (Official configs:
/// scale 0.3 for deblurring and super-resolution is zeta 0.15.)
constexpr double dps_zeta_from_official_scale(double scale) { return scale / 2; }

}  // namespace davi::solvers::published
