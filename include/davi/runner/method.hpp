#pragma once
// How the inverse_problem kind sees a method: an object that may need training first (prepare) and then
// turns a batch of measurements into S samples each (solve). A method entry of the registry is a type with
// a `name`, an `Options` struct, `validate(options, env)`, `check_operator<Op>()` and
// `make<Op>(options, op, env)` (the MethodEntry concept below); SolverMethod<S> makes that entry for any
// davi::Solver.
#include <ATen/ATen.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "davi/concepts.hpp"
#include "davi/operators/identity.hpp"
#include "davi/core/cost.hpp"
#include "davi/core/rng.hpp"
#include "davi/operators/noise.hpp"
#include "davi/core/training_loop.hpp"
#include "davi/distributed/data_parallel.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/runner/data_options.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/run_context.hpp"

namespace davi::runner {

/// What a method may use besides its options and the operator.
struct MethodEnv {
  std::string prior;                 // prior checkpoint path
  operators::GaussianNoise noise;    // the measurement noise (sigma_y)
  std::int64_t validation_images;   // the last N train images, held out of any training
  std::uint64_t seed;
  c10::Device device;
  DatasetVariant dataset;            // the experiment's data set, constructed (its files listed) once
  std::string classifier;            // the evaluation's feature classifier; empty when no metric needs it
  std::shared_ptr<distributed::Group> group = distributed::solo();  // the processes training together
};

/// The first `n` validation images (the last `validation_images` of the train split), on the CPU.
inline at::Tensor validation_split(const DatasetVariant& data, std::int64_t validation_images, std::int64_t n) {
  const auto train = std::visit([](const auto& d) { return d.load("train", 0).images; }, data);
  return train.narrow(0, train.size(0) - validation_images, n).clone();
}

/// The images a method may train on: the train split less its last `validation_images`, on the device.
inline at::Tensor training_images(const MethodEnv& env) {
  const auto train = std::visit([](const auto& d) { return d.load("train", 0).images; }, env.dataset);
  return train.narrow(0, 0, train.size(0) - env.validation_images).to(env.device);
}

/// A model trained on batches of clean images (model.train_step(x0)) as a ResumableTrainer: batches
/// drawn uniformly from `images` with the loop's stream; `row` turns a step's result into log values.
/// `batch_size` is the global batch: data-parallel, each process draws its rows of it.
template <class Model, class Row>
struct ImageBatchTrainer {
  Model& model;
  at::Tensor images;
  int batch_size;
  Row row;
  std::int64_t step() const { return model.step(); }
  c10::Device device() const { return model.device(); }
  distributed::Group& group() const { return model.group(); }
  LossRow train_step(Rng& batches) {
    const auto rows = distributed::local_batch(model.group(), batch_size);
    const auto idx = batches.randint(0, images.size(0), {rows}).to(images.device());
    return row(model.train_step(images.index_select(0, idx)));
  }
  void save(torch::serialize::OutputArchive& archive) { model.save(archive); }
  void load(torch::serialize::InputArchive& archive) { model.load(archive); }
};

class Method {
 public:
  virtual ~Method() = default;
  /// Trains what needs training, resumably under run.dir; returns what to record about it.
  virtual nlohmann::json prepare(const RunContext&) { return nlohmann::json::object(); }
  /// `samples` estimates per measurement: N x samples x C x H x W.
  virtual at::Tensor solve(const at::Tensor& y, int samples, Rng& rng, Cost& cost) = 0;
};

/// The registry entry of a per-measurement solver: each sample is one independent solve with the
/// experiment's prior. An operator below the solver's tier is refused by name before any work
/// (check_operator), and never instantiated.
template <class S>
struct SolverMethod {
  static constexpr std::string_view name = S::name;
  using Options = typename S::Options;

  template <class Op>
  static constexpr bool kAccepts = Solver<S, Op, prior::ScorePrior>;
  static_assert(Solver<S, operators::Identity, prior::ScorePrior>,
                "a solver of the registry breaks the Solver contract (checked with identity, an SVD operator)");

  static void validate(const Options& o, const MethodEnv& env) {
    S{o};  // the solver checks its options' ranges
    const auto prior = check_prior(env.prior, env.dataset);
    if constexpr (requires { o.steps; }) {  // a diffusion solver visits at most every step of the prior
      const auto T = prior.schedule().num_steps();
      DAVI_CHECK(o.steps <= T, "method.steps: expected a value in [1, ", T, "] (the prior's diffusion steps), got ",
                 o.steps);
    }
  }

  template <class Op>
  static void check_operator() {
    if constexpr (!kAccepts<Op>)
      detail::fail("method: ", S::name, " needs an operator of the ", S::required_tier, " tier; task.operator \"",
                   Op::name, "\" is of the ", operator_tier<Op>(), " tier");
  }

  template <class Op>
  static std::unique_ptr<Method> make(const Options& o, Op op, const MethodEnv& env) {
    if constexpr (!kAccepts<Op>) {
      check_operator<Op>();
      return nullptr;
    } else {
      struct Run final : Method {
        Run(const Options& o, Op op, const MethodEnv& env)
            : solver(o), op(std::move(op)), noise(env.noise), prior(prior::load_prior(env.prior, env.device)) {}
        at::Tensor solve(const at::Tensor& y, int samples, Rng& rng, Cost& cost) override {
          std::vector<at::Tensor> draws;
          for (int s = 0; s < samples; ++s) draws.push_back(solver.solve(y, op, noise, prior, rng, cost));
          return at::stack(draws, 1);
        }
        S solver;
        Op op;
        operators::GaussianNoise noise;
        prior::ScorePrior prior;
      };
      return std::make_unique<Run>(o, std::move(op), env);
    }
  }
};

/// The contract of a method entry, checked for every registry entry (runner/methods.hpp); `make` and
/// `check_operator` are checked with the simplest operator, identity, which every method accepts.
template <class M>
concept MethodEntry = NamedPolicy<M> && requires(const typename M::Options& o, const MethodEnv& env) {
  M::validate(o, env);
  M::template check_operator<operators::Identity>();
  { M::template make<operators::Identity>(o, operators::Identity({}, Shape{1, 2, 2}), env) }
      -> std::same_as<std::unique_ptr<Method>>;
};

}  // namespace davi::runner
