#pragma once
// The registry entry "supervised": amortized::Supervised on the experiment's operator, started from the
// committed prior's weights, trained resumably on the train split (less the validation images) with fresh
// noise every step; then one network evaluation per estimate, no backprops.
#include <torch/torch.h>

#include <memory>

#include "davi/amortized/supervised.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/runner/learning_curve.hpp"
#include "davi/runner/method.hpp"

namespace davi::runner {

struct SupervisedMethod {
  static constexpr std::string_view name = "supervised";

  struct Options {
    amortized::SupervisedOptions optimisation;
    int batch_size = 32;
    TrainingLoopOptions training{.steps = 2000, .log_every = 50, .checkpoint_every = 100};
    CurveOptions curve;
    template <class V>
    void visit(V&& v) {
      optimisation.visit(v);
      v("batch_size", batch_size, "clean training images per step", in_range(1, 65536));
      v("training", training, "length of training and checkpoints");
      v("curve", curve, "learning curve of the network (curve.csv)");
    }
  };

  static void validate(const Options& o, const MethodEnv& env) {
    davi::validate(o.training, "method.training");
    auto prior = check_prior(env.prior, env.dataset);
    check_training_batch_fits(o.batch_size, prior.net()->options().base_channels, env.dataset, "method.batch_size");
    check_curve(o.curve, env);
  }

  template <class Op>
  static void check_operator() {}  // every Operator: it needs forward and lift only

  template <class Op>
  static std::unique_ptr<Method> make(const Options& o, Op op, const MethodEnv& env) {
    return std::make_unique<Run<Op>>(o, std::move(op), env);
  }

 private:
  template <class Op>
  class Run final : public Method {
   public:
    Run(const Options& o, Op op, const MethodEnv& env)
        : options_(o), env_(env), curve_(o.curve, op, env), model_(make_model(o, std::move(op), env)) {
      model_.distribute(env.group);
    }

    nlohmann::json prepare(const RunContext& run) override {
      ImageBatchTrainer trainer{model_, training_images(env_), options_.batch_size,
                                [](const at::Tensor& loss) { return LossRow{{"regression", loss}}; }};
      const auto curve = curve_.hook([this] {
        return curve_.measure("", [this](const at::Tensor& y, Rng&) { return model_.estimate(y); });
      });
      const auto record =
          train_resumably(trainer, options_.training, run.dir, env_.seed + 1, "supervised", run.run_id, curve);
      if (run.writes()) prior::save_module(*model_.net(), run.dir / "network.pt");
      return {{"training_steps", record.steps},
              {"training_seconds", record.seconds},
              {"training_images", trainer.images.size(0)}};
    }

    at::Tensor solve(const at::Tensor& y, int samples, Rng&, Cost& cost) override {
      cost.network_evaluations += samples;  // one pass per estimate; every estimate of a y is the same
      const auto x = model_.estimate(y.repeat_interleave(samples, 0));
      auto shape = x.sizes().vec();
      shape[0] = y.size(0);
      shape.insert(shape.begin() + 1, samples);
      return x.reshape(shape);
    }

   private:
    static amortized::Supervised<Op> make_model(const Options& o, Op op, const MethodEnv& env) {
      auto p = prior::load_prior(env.prior, env.device);
      return amortized::Supervised<Op>(std::move(op), env.noise, p.net(), p.schedule(), o.optimisation, env.seed,
                                       env.device);
    }

    Options options_;
    MethodEnv env_;
    LearningCurve curve_;
    amortized::Supervised<Op> model_;
  };
};

}  // namespace davi::runner
