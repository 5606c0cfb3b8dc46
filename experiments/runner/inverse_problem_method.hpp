#pragma once
// The per-method half of the inverse_problem kind (include/davi/runner/inverse_problem.hpp): what depends
// on the method's and the operator's types. Each methods_*.cpp includes this and instantiates it for its
// method family with DAVI_RUNNER_METHODS, so a change to one method recompiles one translation unit; the
// rest of the run (evaluation loop, metrics, report) is compiled once in inverse_problem.cpp.
#include <ATen/ATen.h>

#include <functional>
#include <variant>

#include "davi/runner/inverse_problem.hpp"

namespace davi::runner {

/// The operator as the evaluation uses it, whatever its type: forward for the consistency metric, lift for
/// the sample grid.
struct MeasurementModel {
  std::function<at::Tensor(const at::Tensor&)> forward;
  std::function<at::Tensor(const at::Tensor&)> lift;
};

/// The evaluation images of the config's split (on the CPU).
at::Tensor evaluation_images(const InverseProblem::Config& e);

/// Everything after the method is made: prepare (train) it, solve every measurement, write samples.png and
/// metrics.json, print the report.
void evaluate_method(const InverseProblem::Config& e, const RunContext& ctx, const RunPlace& place, Method& method,
                     const MeasurementModel& model, const at::Tensor& x0_all, const at::Tensor& y_all);

template <class M>
void InverseProblem::validate_method(const Config& e, const typename M::Options& options) {
  std::visit(
      [&](const auto& op) {
        M::template check_operator<std::decay_t<decltype(op)>>();
        M::validate(options, method_env(e, c10::kCPU));
      },
      make_operator(e.task.operator_spec, kFashionMnistShape));
}

template <class M>
void InverseProblem::run_method(const Config& e, const typename M::Options& options, const RunContext& ctx,
                                const RunPlace& place) {
  std::visit(
      [&](auto op) {
        const auto env = method_env(e, place.device);
        // Measurements first, from their own stream: identical for every method of the experiment.
        const auto x0_all = evaluation_images(e);
        Rng noise_rng(static_cast<std::uint64_t>(e.run.seed) + 1000, c10::kCPU);
        const auto y_all = env.noise.apply(op.forward(x0_all), noise_rng);
        const MeasurementModel model{[op](const at::Tensor& x) { return op.forward(x); },
                                     [op](const at::Tensor& y) { return op.lift(y); }};
        auto method = M::make(options, std::move(op), env);
        DAVI_CHECK(method != nullptr, "method: ", M::name, " cannot run on task.operator ", e.task.operator_spec.name());
        evaluate_method(e, ctx, place, *method, model, x0_all, y_all);
      },
      make_operator(e.task.operator_spec, kFashionMnistShape));
}

}  // namespace davi::runner

/// Explicit instantiations of the per-method half for each registry entry listed.
#define DAVI_RUNNER_METHOD(M)                                                                                 \
  template void davi::runner::InverseProblem::validate_method<M>(                                              \
      const davi::runner::InverseProblem::Config&, const M::Options&);                                        \
  template void davi::runner::InverseProblem::run_method<M>(const davi::runner::InverseProblem::Config&,      \
                                                            const M::Options&, const davi::runner::RunContext&, \
                                                            const davi::runner::RunPlace&);
