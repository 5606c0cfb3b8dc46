#pragma once
// The policy contracts of davi, each written once as a C++20 concept.
//
// Operators come in capability tiers (as in deepinv): forward-only, adjoint, SVD. A method that needs
// a tier states it with require_*_operator<Op>(), which names the first missing member in a
// static_assert instead of a page of template diagnostics.
#include <ATen/ATen.h>

#include <concepts>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "davi/core/cost.hpp"
#include "davi/core/options.hpp"
#include "davi/core/rng.hpp"
#include "davi/core/shape.hpp"

namespace davi {

namespace operators {
class GaussianNoise;  // operators/noise.hpp: the measurement noise a Solver is handed
}  // namespace operators
namespace schedules {
class DiscreteSchedule;  // schedules/discrete.hpp: what divergences and bridges are built for
}  // namespace schedules
namespace metrics {
struct MetricBatch;  // metrics/metric_batch.hpp: what an evaluation shows its metrics
}  // namespace metrics

/// Every policy: its JSON name and its options, which describe themselves through visit() (core/options.hpp).
template <class P>
concept NamedPolicy = requires {
  { P::name } -> std::convertible_to<std::string_view>;
  typename P::Options;
} && VisitableOptions<typename P::Options>;

/// The constructor the runner calls: from the policy's options and what it is built for (the schedule for
/// a divergence or a bridge, the image shape for an operator, nothing for a schedule or a metric).
template <class P, class... Args>
concept PolicyBuiltFrom = NamedPolicy<P> && std::constructible_from<P, const typename P::Options&, const Args&...>;

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
  requires Schedule<std::remove_cvref_t<decltype(m.schedule())>>;
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
  static_assert(PolicyBuiltFrom<B, schedules::DiscreteSchedule>,
                "davi: bridge lacks `static constexpr std::string_view name`, a visitable `struct Options` or the "
                "constructor `B(const B::Options&, const schedules::DiscreteSchedule&)`");
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
template <class D>
concept HasTMax = requires(const D& d) {
  { d.t_max() } -> std::convertible_to<int>;
};
/// An epsilon prediction eps(x_t, t) as a divergence's surrogate is handed it (prior's and fake score's).
using EpsilonFunction = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;
template <class D>
concept HasSurrogate = requires(const D& d, const at::Tensor& x, const EpsilonFunction& eps,
                                const schedules::DiscreteSchedule& s, Rng& rng) {
  { d.surrogate(x, eps, eps, s, rng) } -> std::same_as<at::Tensor>;
};
/// sample_times(n, rng): the diffusion time of each generator sample; weight(t): its weight in epsilon
/// form; t_max(): the fake score s_psi is trained on times {0..t_max-1}, which must cover every time
/// sample_times draws; surrogate(x_hat, eps_theta, eps_psi, schedule, rng): the generator's loss term,
/// whose gradient in x_hat is the divergence's (objectives/score_difference.hpp for the usual one).
template <class D>
concept Divergence = HasSampleTimes<D> && HasWeight<D> && HasTMax<D> && HasSurrogate<D>;

template <class D>
constexpr bool require_divergence() {
  static_assert(HasSampleTimes<D>, "davi: divergence lacks `at::Tensor sample_times(std::int64_t n, Rng& rng) const`");
  static_assert(HasWeight<D>, "davi: divergence lacks `at::Tensor weight(const at::Tensor& t) const`");
  static_assert(HasTMax<D>, "davi: divergence lacks `int t_max() const`");
  static_assert(HasSurrogate<D>, "davi: divergence lacks `at::Tensor surrogate(const at::Tensor& x_hat, const "
                                 "EpsilonFunction& teacher, const EpsilonFunction& fake_score, const "
                                 "schedules::DiscreteSchedule&, Rng&) const`");
  static_assert(PolicyBuiltFrom<D, schedules::DiscreteSchedule>,
                "davi: divergence lacks `static constexpr std::string_view name`, a visitable `struct Options` or "
                "the constructor `D(const D::Options&, const schedules::DiscreteSchedule&)`");
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

// ---- noise models, data sets, metrics --------------------------------------------------------------------
/// sigma_y() in [-1, 1] image units; apply(A x, rng) draws a measurement.
template <class N>
concept NoiseModel = NamedPolicy<N> && requires(const N& n, const at::Tensor& y, Rng& rng) {
  { n.sigma_y() } -> std::convertible_to<double>;
  { n.apply(y, rng) } -> std::same_as<at::Tensor>;
};

/// image_shape() (C x H x W), split_size("train" | "test"), classes() (labels are 0..classes()-1),
/// load(split, limit) -> {images, labels} and describe(): what metrics.json records about the data.
template <class D>
concept Dataset = NamedPolicy<D> && requires(const D& d, const std::string& split, std::int64_t limit) {
  { d.image_shape() } -> std::convertible_to<Shape>;
  { d.split_size(split) } -> std::convertible_to<std::int64_t>;
  { d.classes() } -> std::convertible_to<std::int64_t>;
  { d.load(split, limit).images } -> std::convertible_to<at::Tensor>;
  { d.describe() } -> std::convertible_to<nlohmann::json>;
};

/// What every metric declares: the names it reports (its summary columns), whether it needs the feature
/// classifier, and the samples per measurement it needs at least (2 for a spread).
template <class M>
concept MetricPolicy = NamedPolicy<M> && requires {
  { M::reports[0] } -> std::convertible_to<std::string_view>;
  M::reports.size();
  { M::needs_classifier } -> std::convertible_to<bool>;
  { M::min_samples } -> std::convertible_to<int>;
};
/// values(batch): one value per measurement under each name it reports, averaged over all measurements.
template <class M>
concept PerImageMetric = MetricPolicy<M> && requires(const M& m, const metrics::MetricBatch& b) {
  { m.values(b) } -> std::same_as<std::vector<std::pair<std::string, at::Tensor>>>;
};
/// add(batch) for every batch, then value(): a statistic of the whole evaluation set.
template <class M>
concept AggregateMetric = MetricPolicy<M> && requires(M& m, const M& c, const metrics::MetricBatch& b) {
  m.add(b);
  { c.value() } -> std::convertible_to<double>;
};
template <class M>
concept Metric = PerImageMetric<M> || AggregateMetric<M>;
/// An aggregate metric that can be recomputed on a resample of the measurements (value(rows), rows an int64
/// tensor of indices with repetition): its bootstrap interval is reported.
template <class M>
concept ResamplableMetric = AggregateMetric<M> && requires(const M& c, const at::Tensor& rows) {
  { c.value(rows) } -> std::convertible_to<double>;
};

/// The capability tier of an operator, by name: "svd", "adjoint" or "forward".
template <class Op>
constexpr std::string_view operator_tier() {
  if constexpr (SvdOperator<Op>) return "svd";
  else if constexpr (AdjointOperator<Op>) return "adjoint";
  else return "forward";
}

}  // namespace davi
