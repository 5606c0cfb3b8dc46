#pragma once
// The policy contracts of davi, each written once as a C++20 concept.
//
// Operators come in capability tiers (as in deepinv): forward-only, adjoint, SVD. A method that needs
// a tier states it with require_*_operator<Op>(), which names the first missing member in a
// static_assert instead of a page of template diagnostics.
#include <ATen/ATen.h>

#include <concepts>
#include <string_view>
#include <vector>

#include "davi/core/cost.hpp"
#include "davi/core/rng.hpp"
#include "davi/operators/noise.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi {

using Shape = std::vector<std::int64_t>;

template <class P>
concept NamedPolicy = requires {
  { P::name } -> std::convertible_to<std::string_view>;
  typename P::Options;
};

// ---- schedules ---------------------------------------------------------------------------------
template <class S>
concept Schedule = requires(const S& s, const at::Tensor& t) {
  { s.num_steps() } -> std::convertible_to<int>;
  { s.alpha_bar(t) } -> std::same_as<at::Tensor>;
  { s.beta(t) } -> std::same_as<at::Tensor>;
};

// ---- epsilon models (priors) -------------------------------------------------------------------
template <class M>
concept EpsilonModel = requires(M& m, const at::Tensor& x, const at::Tensor& t) {
  { m.eps(x, t) } -> std::same_as<at::Tensor>;
  { m.schedule() } -> std::convertible_to<const schedules::DiscreteSchedule&>;
};

// ---- operators ---------------------------------------------------------------------------------
template <class Op>
concept HasForward = requires(const Op& op, const at::Tensor& x) {
  { op.forward(x) } -> std::same_as<at::Tensor>;
};
template <class Op>
concept HasLift = requires(const Op& op, const at::Tensor& y) {
  { op.lift(y) } -> std::same_as<at::Tensor>;
};
template <class Op>
concept HasMeasurementShape = requires(const Op& op, const Shape& s) {
  { op.measurement_shape(s) } -> std::convertible_to<Shape>;
};
template <class Op>
concept HasAdjoint = requires(const Op& op, const at::Tensor& y) {
  { op.adjoint(y) } -> std::same_as<at::Tensor>;
};
template <class Op>
concept HasPinv = requires(const Op& op, const at::Tensor& y) {
  { op.pinv(y) } -> std::same_as<at::Tensor>;
};
/// The SVD view A = U diag(s) V^T in "padded" spectral coordinates of the image dimension n:
/// Vt(x) and Ut(y) give N x n coefficients (Ut pads with zeros past the measurement dimension),
/// singular_values() has n entries (zero for unobserved directions), V and U map back.
template <class Op>
concept HasSvd = requires(const Op& op, const at::Tensor& x) {
  { op.Vt(x) } -> std::same_as<at::Tensor>;
  { op.V(x) } -> std::same_as<at::Tensor>;
  { op.Ut(x) } -> std::same_as<at::Tensor>;
  { op.U(x) } -> std::same_as<at::Tensor>;
  { op.singular_values() } -> std::same_as<at::Tensor>;
};

/// Tier 1: forward model only (methods differentiate through it with autograd).
template <class Op>
concept Operator = HasForward<Op> && HasLift<Op> && HasMeasurementShape<Op>;
/// Tier 2: a true adjoint.
template <class Op>
concept AdjointOperator = Operator<Op> && HasAdjoint<Op>;
/// Tier 3: an exact SVD and pseudo-inverse.
template <class Op>
concept SvdOperator = AdjointOperator<Op> && HasPinv<Op> && HasSvd<Op>;

template <class Op>
constexpr bool require_operator() {
  static_assert(HasForward<Op>, "davi: operator lacks `at::Tensor forward(const at::Tensor& x) const`");
  static_assert(HasLift<Op>, "davi: operator lacks `at::Tensor lift(const at::Tensor& y) const`");
  static_assert(HasMeasurementShape<Op>,
                "davi: operator lacks `Shape measurement_shape(const Shape& image_shape) const`");
  return true;
}
template <class Op>
constexpr bool require_adjoint_operator() {
  require_operator<Op>();
  static_assert(HasAdjoint<Op>, "davi: this method needs the operator's adjoint: operator lacks "
                                "`at::Tensor adjoint(const at::Tensor& y) const`");
  return true;
}
template <class Op>
constexpr bool require_svd_operator() {
  require_adjoint_operator<Op>();
  static_assert(HasPinv<Op>, "davi: this method needs the operator's pseudo-inverse: operator lacks "
                             "`at::Tensor pinv(const at::Tensor& y) const`");
  static_assert(HasSvd<Op>, "davi: this method needs the operator's SVD: operator lacks one of "
                            "Vt, V, Ut, U, singular_values");
  return true;
}

// ---- bridges (the generator's input) ---------------------------------------------------------------
/// What a bridge feeds the generator: its input image and the bridge time t' of each sample.
struct BridgeInput {
  at::Tensor x_in;
  at::Tensor t;
};

template <class B>
concept HasTrainInput = requires(const B& b, const at::Tensor& x, Rng& rng) {
  { b.train_input(x, x, rng) } -> std::same_as<BridgeInput>;
};
template <class B>
concept HasTestInput = requires(const B& b, const at::Tensor& x, Rng& rng) {
  { b.test_input(x, rng) } -> std::same_as<BridgeInput>;
};
template <class B>
concept HasSigmaF = requires(const B& b, const at::Tensor& t) {
  { b.sigma_f(t) } -> std::same_as<at::Tensor>;
};
/// train_input(x0, y_lift, rng) during training, test_input(y_lift, rng) at inference, and sigma_f(t'),
/// the scale of the generator's noise prediction: x_hat = tanh(x_in - sigma_f(t') eps_phi(x_in, t')).
template <class B>
concept Bridge = HasTrainInput<B> && HasTestInput<B> && HasSigmaF<B>;

template <class B>
constexpr bool require_bridge() {
  static_assert(HasTrainInput<B>, "davi: bridge lacks `BridgeInput train_input(const at::Tensor& x0, "
                                  "const at::Tensor& y_lift, Rng& rng) const`");
  static_assert(HasTestInput<B>, "davi: bridge lacks `BridgeInput test_input(const at::Tensor& y_lift, Rng& rng) const`");
  static_assert(HasSigmaF<B>, "davi: bridge lacks `at::Tensor sigma_f(const at::Tensor& t) const`");
  return true;
}

// ---- divergences -------------------------------------------------------------------------------------
template <class D>
concept HasSampleTimes = requires(const D& d, std::int64_t n, Rng& rng) {
  { d.sample_times(n, rng) } -> std::same_as<at::Tensor>;
};
template <class D>
concept HasWeight = requires(const D& d, const at::Tensor& t) {
  { d.weight(t) } -> std::same_as<at::Tensor>;
};
/// sample_times(n, rng): the diffusion time of each generator sample; weight(t): its weight in
/// epsilon form (the surrogate is mean(weight(t) * stopgrad(eps_theta - eps_psi) * x_hat)).
template <class D>
concept Divergence = HasSampleTimes<D> && HasWeight<D>;

template <class D>
constexpr bool require_divergence() {
  static_assert(HasSampleTimes<D>, "davi: divergence lacks `at::Tensor sample_times(std::int64_t n, Rng& rng) const`");
  static_assert(HasWeight<D>, "davi: divergence lacks `at::Tensor weight(const at::Tensor& t) const`");
  return true;
}

// ---- solvers (per-measurement methods) -----------------------------------------------------------------
/// A solver turns measurements y = A x0 + noise (N x measurement) into one estimate per measurement
/// (N x C x H x W) with the help of a prior (an EpsilonModel; classical solvers ignore it), drawing any
/// randomness from `rng` and adding what it spends on the network to `cost`. The operator tier it
/// needs is the constraint on Op in its solve(); `required_tier` names it for error messages.
template <class S, class Op, class Prior>
concept Solver = NamedPolicy<S> && requires(S& s, const at::Tensor& y, const Op& op,
                                            const operators::GaussianNoise& noise, Prior& prior, Rng& rng,
                                            Cost& cost) {
  { S::required_tier } -> std::convertible_to<std::string_view>;
  { s.solve(y, op, noise, prior, rng, cost) } -> std::same_as<at::Tensor>;
};

/// The capability tier of an operator, by name: "svd", "adjoint" or "forward".
template <class Op>
constexpr std::string_view operator_tier() {
  if constexpr (SvdOperator<Op>) return "svd";
  else if constexpr (AdjointOperator<Op>) return "adjoint";
  else return "forward";
}

}  // namespace davi
