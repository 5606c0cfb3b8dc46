#pragma once
// Kind "train_prior": trains a ScorePrior on Fashion-MNIST, resumably, and writes prior.pt (EMA weights),
// train_log.csv, samples.png, config.json and metrics.json (held-out DSM loss) to the output folder.
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "davi/core/core.hpp"
#include "davi/core/options.hpp"
#include "davi/core/training_loop.hpp"
#include "davi/data/data.hpp"
#include "davi/prior/prior_trainer.hpp"
#include "davi/prior/sampling.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct PriorDataOptions {
  std::string dataset = "fashion_mnist";
  std::int64_t train_limit = 0;    // 0 = the whole train split
  std::int64_t test_limit = 2000;  // test images for the held-out DSM loss
  template <class V>
  void visit(V&& v) {
    v("dataset", dataset, "data set: fashion_mnist");
    v("train_limit", train_limit, "train images used (0 = all 60000)");
    v("test_limit", test_limit, "test images for the held-out DSM loss");
  }
};

struct PriorSampleOptions {
  int count = 64;
  int steps = 100;
  double eta = 0.0;
  template <class V>
  void visit(V&& v) {
    v("count", count, "unconditional samples drawn at the end");
    v("steps", steps, "DDIM steps per sample");
    v("eta", eta, "DDIM eta (0 deterministic, 1 ancestral-like)");
  }
};

struct TrainPrior {
  static constexpr std::string_view name = "train_prior";
  static constexpr bool kRunFolders = false;  // writes one artifact to `output`, referenced by path

  struct Config {
    RunOptions run = run_options_of("train_prior");
    PriorDataOptions data;
    Policy<ScheduleTypes> schedule{"sqrt_linear"};
    networks::UNetOptions network;
    prior::PriorTrainingOptions training;
    PriorSampleOptions samples;
    template <class V>
    void visit(V&& v) {
      run.visit(v);
      v("data", data, "training data");
      v("schedule", schedule, "noise schedule: a name or {name, options...}");
      v("network", network, "UNet options");
      v("training", training, "optimiser and length of training");
      v("samples", samples, "unconditional samples written at the end");
    }
  };

  static void validate(const Config& e) {
    DAVI_CHECK(e.data.dataset == "fashion_mnist", "data.dataset: unknown \"", e.data.dataset,
               "\"; expected one of: fashion_mnist");
    davi::validate(e.training.loop, "training");
    DAVI_CHECK(e.training.batch_size > 0, "training.batch_size: expected a positive integer, got ",
               e.training.batch_size);
    DAVI_CHECK(e.training.ema_decay >= 0 && e.training.ema_decay < 1, "training.ema_decay: expected a value in [0, 1)");
    DAVI_CHECK(e.samples.count > 0 && e.samples.steps > 0, "samples: count and steps must be positive");
  }

  static void run(const Config& e, const RunContext& ctx) {
    const auto place = enter(e.run);
    const auto [device, threads, compute] = place;
    const ComputeScope compute_scope(compute);
    const auto seed = static_cast<std::uint64_t>(e.run.seed);
    const auto schedule = make_schedule(e.schedule);
    const nlohmann::json prior_config = {{"network", options_to_json(e.network)}, {"schedule", e.schedule.to_json()}};
    auto train = data::load_fashion_mnist("train", e.data.train_limit);
    auto test = data::load_fashion_mnist("test", e.data.test_limit);

    prior::PriorTrainer trainer(e.network, schedule, prior_config, e.training, train.images, seed, device);
    std::cerr << "train_prior: " << networks::parameter_count(*trainer.ema_prior().net()) << " parameters, "
              << threads << " threads, device " << device.str() << "\n";
    const auto record = train_resumably(trainer, e.training.loop, ctx.dir, seed + 1, "train_prior");

    auto p = trainer.ema_prior();
    p.net()->eval();
    prior::save_prior(p, ctx.dir / "prior.pt");
    const double test_loss = held_out_dsm_loss(p, test.images.to(device), seed + 7);
    Rng sample_rng(seed + 11, device);
    Timer sample_timer;
    const auto samples = prior::ddim_sample(
        p, {e.samples.count, e.network.image_channels, e.network.image_size, e.network.image_size}, sample_rng,
        {.steps = e.samples.steps, .eta = e.samples.eta});
    const double sample_seconds = sample_timer.seconds();
    data::save_image_grid(ctx.dir / "samples.png", samples, 8);

    finish_run(ctx,
               {{"kind", name},
                {"parameters", networks::parameter_count(*p.net())},
                {"training_steps", record.steps},
                {"batch_size", e.training.batch_size},
                {"training_seconds", record.seconds},
                {"test_dsm_loss", test_loss},
                {"test_images", test.images.size(0)},
                {"samples", {{"count", e.samples.count}, {"sampler", "ddim"}, {"steps", e.samples.steps},
                             {"eta", e.samples.eta}, {"seconds", sample_seconds}}}},
               place);
    std::cout << "train_prior: " << record.steps << " steps in " << record.seconds << " s; held-out DSM loss "
              << test_loss << "\n";
  }

  /// Mean DSM loss of the prior on held-out images, with fixed draws (seeded) so reruns agree.
  static double held_out_dsm_loss(prior::ScorePrior& p, const torch::Tensor& images, std::uint64_t seed,
                                  int batch = 250) {
    torch::NoGradGuard no_grad;
    Rng rng(seed, images.device());
    double total = 0;
    for (std::int64_t i = 0; i < images.size(0); i += batch) {
      const auto x0 = images.slice(0, i, std::min(images.size(0), i + batch));
      total += prior::dsm_loss([&](const auto& x, const auto& t) { return p.eps(x, t); }, p.schedule(), x0, rng)
                   .item<double>() *
               x0.size(0);
    }
    return total / images.size(0);
  }
};

}  // namespace davi::runner
