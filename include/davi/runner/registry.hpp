#pragma once
// THE registry: every name an experiment file can use, by kind, mapped to its type. Adding a policy = its
// file + one entry in a list below. `davi_run --list`, the "expected one of: ..." messages and the tests'
// expectations are all generated from these lists, and every entry is checked against its concept
// (concepts.hpp) here, or, for methods and run kinds, where their types are complete (runner/kinds.hpp).
#include <tuple>

#include "davi/bridges/bridges.hpp"
#include "davi/concepts.hpp"
#include "davi/data/data.hpp"
#include "davi/metrics/metrics.hpp"
#include "davi/objectives/objectives.hpp"
#include "davi/operators/operators.hpp"
#include "davi/runner/policy.hpp"
#include "davi/schedules/schedules.hpp"
#include "davi/solvers/solvers.hpp"

namespace davi::runner {

using ScheduleTypes = std::tuple<schedules::Linear, schedules::SqrtLinear, schedules::Cosine>;
using OperatorTypes = std::tuple<operators::Identity, operators::GaussianBlur, operators::SuperResolution,
                                 operators::BoxInpainting, operators::RandomInpainting, operators::Colorization>;
using NoiseTypes = std::tuple<operators::GaussianNoise>;
using DivergenceTypes = std::tuple<objectives::Kl, objectives::Ikl>;
using BridgeTypes = std::tuple<bridges::Ppb, bridges::None>;
using MetricTypes = std::tuple<metrics::Psnr, metrics::Ssim, metrics::ClassifierFeatureDistance,
                               metrics::ClassifierFrechetDistance, metrics::Diversity, metrics::Consistency>;
using DatasetTypes = std::tuple<data::FashionMnist, data::ImageFolder>;

// Methods and run kinds hold policies of the lists above in their options, so they are declared here and
// defined in their own headers (runner/methods.hpp, runner/kinds.hpp).
struct DaviMethod;
struct SupervisedMethod;
template <class S>
struct SolverMethod;
using MethodTypes =
    std::tuple<DaviMethod, SupervisedMethod, SolverMethod<solvers::Lift>, SolverMethod<solvers::Pinv>,
               SolverMethod<solvers::Tikhonov>, SolverMethod<solvers::Ddrm>, SolverMethod<solvers::Ddnm>,
               SolverMethod<solvers::Pigdm>, SolverMethod<solvers::Dps>, SolverMethod<solvers::Reddiff>>;

struct InverseProblem;
struct TrainPrior;
struct TrainClassifier;
struct EvaluatePrior;
/// Every kind of run an experiment file can hold; "kind" picks one (default inverse_problem).
using KindTypes = std::tuple<InverseProblem, TrainPrior, TrainClassifier, EvaluatePrior>;

// ---- every entry against its contract --------------------------------------------------------------------
template <class Types, template <class> class Check>
constexpr bool all_of = []<std::size_t... I>(std::index_sequence<I...>) {
  return (Check<std::tuple_element_t<I, Types>>::value && ...);
}(std::make_index_sequence<std::tuple_size_v<Types>>{});

template <class S>
struct IsRegisteredSchedule
    : std::bool_constant<Schedule<S> && PolicyBuiltFrom<S> && std::convertible_to<S, schedules::DiscreteSchedule>> {};
template <class Op>
struct IsRegisteredOperator : std::bool_constant<Operator<Op> && PolicyBuiltFrom<Op, Shape>> {};
template <class N>
struct IsRegisteredNoise : std::bool_constant<NoiseModel<N> && PolicyBuiltFrom<N>> {};
template <class D>
struct IsRegisteredDivergence : std::bool_constant<Divergence<D> && PolicyBuiltFrom<D, schedules::DiscreteSchedule>> {};
template <class B>
struct IsRegisteredBridge : std::bool_constant<Bridge<B> && PolicyBuiltFrom<B, schedules::DiscreteSchedule>> {};
template <class M>
struct IsRegisteredMetric : std::bool_constant<Metric<M> && PolicyBuiltFrom<M>> {};
template <class D>
struct IsRegisteredDataset : std::bool_constant<Dataset<D> && PolicyBuiltFrom<D>> {};

static_assert(all_of<ScheduleTypes, IsRegisteredSchedule>, "a schedule of the registry breaks the Schedule contract");
static_assert(all_of<OperatorTypes, IsRegisteredOperator>, "an operator of the registry breaks the Operator contract");
static_assert(all_of<NoiseTypes, IsRegisteredNoise>, "a noise model of the registry breaks the NoiseModel contract");
static_assert(all_of<DivergenceTypes, IsRegisteredDivergence>,
              "a divergence of the registry breaks the Divergence contract");
static_assert(all_of<BridgeTypes, IsRegisteredBridge>, "a bridge of the registry breaks the Bridge contract");
static_assert(all_of<MetricTypes, IsRegisteredMetric>, "a metric of the registry breaks the Metric contract");
static_assert(all_of<DatasetTypes, IsRegisteredDataset>, "a data set of the registry breaks the Dataset contract");

// ---- building what the lists name ---------------------------------------------------------------------------
inline schedules::DiscreteSchedule make_schedule(const Policy<ScheduleTypes>& policy,
                                                 const std::string& path = "schedule") {
  return std::visit([](const auto& s) -> schedules::DiscreteSchedule { return s; }, construct(policy, path));
}

using OperatorVariant = PolicyVariant<OperatorTypes>;

/// Constructs the chosen operator for `image_shape`; its errors are reported under `path`.
inline OperatorVariant make_operator(const Policy<OperatorTypes>& policy, const Shape& image_shape,
                                     const std::string& path = "task.operator") {
  return construct(policy, path, image_shape);
}

using DatasetVariant = PolicyVariant<DatasetTypes>;

/// Constructs the chosen data set (an image folder lists its files and reads their headers here); its
/// errors are reported under `path`.
inline DatasetVariant make_dataset(const Policy<DatasetTypes>& policy, const std::string& path = "data.dataset") {
  return construct(policy, path);
}

/// C x H x W of the data set's images.
inline Shape image_shape_of(const DatasetVariant& data) {
  return std::visit([](const auto& d) { return d.image_shape(); }, data);
}

/// Number of images in a split ("train" or "test") of the data set.
inline std::int64_t split_size_of(const DatasetVariant& data, const std::string& split) {
  return std::visit([&](const auto& d) { return d.split_size(split); }, data);
}

}  // namespace davi::runner
