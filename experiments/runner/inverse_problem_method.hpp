#pragma once
// The per-method half of the inverse_problem kind (include/davi/runner/inverse_problem.hpp): what depends
// on the method's and the operator's types. Each methods_*.cpp includes this and instantiates it for its
// method family with DAVI_RUNNER_METHODS, so a change to one method recompiles one translation unit; the
// rest of the run (evaluation loop, metrics, report) is compiled once in inverse_problem.cpp.
#include <variant>

#include "inverse_problem_evaluation.hpp"

namespace davi::runner {

template <class M>
void InverseProblem::validate_method(const Config& e, const typename M::Options& options,
                                     const DatasetVariant& dataset) {
  const auto env = method_env(e, c10::kCPU, dataset);
  std::visit(
      [&](const auto& op) {
        M::template check_operator<std::decay_t<decltype(op)>>();
        M::validate(options, env);
      },
      make_operator(e.task.operator_spec, image_shape_of(env.dataset)));
}

template <class M>
void InverseProblem::run_method(const Config& e, const typename M::Options& options, const RunContext& ctx,
                                const RunPlace& place) {
  const auto env = method_env(e, place.device, make_dataset(e.data.dataset), ctx.group);
  std::visit(
      [&](auto op) {
        // Measurements first, from their own streams: identical for every method of the experiment.
        const auto seed = static_cast<std::uint64_t>(e.run.seed);
        const auto measure = [&](const at::Tensor& x0, std::uint64_t stream) {
          if (!x0.defined()) return EvaluationSet{};
          Rng noise_rng(stream, c10::kCPU);
          return EvaluationSet{x0, env.noise.apply(op.forward(x0), noise_rng)};
        };
        const auto evaluated = measure(evaluation_images(e, env.dataset), seed + 1000);
        const auto train = measure(train_evaluation_images(e, env.dataset), seed + kTrainSplitStreams + 1000);
        const MeasurementModel model{[op](const at::Tensor& x) { return op.forward(x); },
                                     [op](const at::Tensor& y) { return op.lift(y); }};
        auto method = M::make(options, std::move(op), env);
        DAVI_CHECK(method != nullptr, "method: ", M::name, " cannot run on task.operator ", e.task.operator_spec.name());
        evaluate_method(e, ctx, place, *method, model, evaluated, train, env.dataset);
      },
      make_operator(e.task.operator_spec, image_shape_of(env.dataset)));
}

}  // namespace davi::runner

/// Explicit instantiations of the per-method half for each registry entry listed.
#define DAVI_RUNNER_METHOD(M)                                                                                 \
  template void davi::runner::InverseProblem::validate_method<M>(                                              \
      const davi::runner::InverseProblem::Config&, const M::Options&, const davi::runner::DatasetVariant&);    \
  template void davi::runner::InverseProblem::run_method<M>(const davi::runner::InverseProblem::Config&,      \
                                                            const M::Options&, const davi::runner::RunContext&, \
                                                            const davi::runner::RunPlace&);
