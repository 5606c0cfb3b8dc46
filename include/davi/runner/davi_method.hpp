#pragma once
// The registry entry "davi": trains Davi<Op, Divergence, Bridge> from the committed prior (and its schedule) on
// the train split (less the validation images), resumably, with fresh measurement noise every step;
// then samples with one EMA-generator evaluation per sample (NFE 1, no backprops).
#include <torch/torch.h>

#include <iostream>
#include <memory>

#include "davi/amortized/davi.hpp"
#include "davi/core/training_loop.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/runner/learning_curve.hpp"
#include "davi/runner/method.hpp"
#include "davi/runner/registry.hpp"

namespace davi::runner {

struct DaviMethod {
  static constexpr std::string_view name = "davi";

  struct Options {
    Policy<DivergenceTypes> divergence{"ikl"};
    Policy<BridgeTypes> bridge{"ppb"};
    amortized::DaviOptions optimisation;
    int batch_size = 32;
    TrainingLoopOptions training{.steps = 2000, .log_every = 50, .checkpoint_every = 100};
    CurveOptions curve;
    template <class V>
    void visit(V&& v) {
      v("divergence", divergence, "divergence: ikl or kl (a name or {name, options...})");
      v("bridge", bridge, "bridge: ppb or none (a name or {name, options...})");
      optimisation.visit(v);
      v("batch_size", batch_size, "clean training images per step", in_range(1, 65536));
      v("training", training, "length of training and checkpoints");
      v("curve", curve, "learning curve of the EMA and the online generator (curve.csv)");
    }
  };

  static void validate(const Options& o, const MethodEnv& env) {
    // The divergence and bridge are checked against the prior's own schedule (t_max within its steps).
    auto prior = check_prior(env.prior, env.dataset);
    const auto& schedule = prior.schedule();
    construct(o.divergence, "method.divergence", schedule);
    construct(o.bridge, "method.bridge", schedule);
    // three networks (generator, fake score, teacher) train or run on each batch
    check_training_batch_fits(o.batch_size, 3 * prior.net()->options().base_channels, env.dataset, "method.batch_size");
    const auto channels = image_shape_of(env.dataset)[0];
    DAVI_CHECK(!o.optimisation.adversarial || o.optimisation.discriminator.image_channels == channels,
               "method.discriminator.image_channels: expected ", channels, " (the data set's), got ",
               o.optimisation.discriminator.image_channels);
    davi::validate(o.training, "method.training");
    check_curve(o.curve, env);
  }

  template <class Op>
  static void check_operator() {}  // every Operator: DAVI needs forward and lift only

  template <class Op>
  static std::unique_ptr<Method> make(const Options& o, Op op, const MethodEnv& env) {
    return std::visit(
        [&](const auto& div, const auto& bridge) -> std::unique_ptr<Method> {
          using Div = typename std::decay_t<decltype(div)>::Type;
          using Br = typename std::decay_t<decltype(bridge)>::Type;
          return std::make_unique<Run<Op, Div, Br>>(o, std::move(op), div.options, bridge.options, env);
        },
        o.divergence.choice(), o.bridge.choice());
  }

 private:
  template <class Op, class Div, class Br>
  class Run final : public Method {
    using Davi = amortized::Davi<Op, Div, Br>;

   public:
    Run(const Options& o, Op op, const typename Div::Options& div, const typename Br::Options& bridge,
        const MethodEnv& env)
        : options_(o), env_(env), curve_(o.curve, op, env), davi_(make_davi(o, std::move(op), div, bridge, env)) {
      davi_.distribute(env.group);
    }

    nlohmann::json prepare(const RunContext& run) override {
      const auto adversarial = options_.optimisation.adversarial;
      ImageBatchTrainer trainer{davi_, training_images(env_), options_.batch_size, [adversarial](const amortized::DaviLosses& l) {
        LossRow row = {{"score_loss", l.score},  {"divergence", l.divergence}, {"fidelity", l.fidelity},
                       {"regression", l.regression}, {"total", l.total}};
        if (adversarial)
          row.insert(row.end(), {{"adversarial", l.adversarial}, {"adversarial_weight", l.adversarial_weight},
                                 {"discriminator", l.discriminator}});
        return row;
      }};
      const auto curve = curve_.hook([this] {
        auto values = curve_.measure("ema_", [this](const at::Tensor& y, Rng& rng) {
          return davi_.sample(y, 1, rng).select(1, 0);
        });
        const auto online = curve_.measure("online_", [this](const at::Tensor& y, Rng& rng) {
          return davi_.sample(y, 1, rng, amortized::GeneratorWeights::online).select(1, 0);
        });
        values.insert(values.end(), online.begin(), online.end());
        return values;
      });
      const auto record =
          train_resumably(trainer, options_.training, run.dir, env_.seed + 1, "davi", run.run_id, curve);
      if (run.writes()) prior::save_module(*davi_.ema_generator(), run.dir / "generator_ema.pt");
      return {{"training_steps", record.steps},
              {"training_seconds", record.seconds},
              {"training_images", trainer.images.size(0)}};
    }

    at::Tensor solve(const at::Tensor& y, int samples, Rng& rng, Cost& cost) override {
      cost.network_evaluations += samples;  // one generator pass per sample
      return davi_.sample(y, samples, rng);
    }

   private:
    static Davi make_davi(const Options& o, Op op, const typename Div::Options& div,
                          const typename Br::Options& bridge, const MethodEnv& env) {
      auto p = prior::load_prior(env.prior, env.device);
      return Davi::from_prior(p, std::move(op), env.noise, o.optimisation, div, bridge, env.seed, env.device);
    }

    Options options_;
    MethodEnv env_;
    LearningCurve curve_;
    Davi davi_;
  };
};

}  // namespace davi::runner
