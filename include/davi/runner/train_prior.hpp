#pragma once
// Runner task "train_prior": trains a ScorePrior on Fashion-MNIST, resumably, and writes
// prior.pt (EMA weights), train_log.csv, samples.png, metrics.json and config.json to `output`.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "davi/core/core.hpp"
#include "davi/core/options.hpp"
#include "davi/core/progress.hpp"
#include "davi/data/data.hpp"
#include "davi/prior/prior_trainer.hpp"
#include "davi/prior/sampling.hpp"
#include "davi/runner/environment.hpp"
#include "davi/runner/registry.hpp"
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

struct TrainPriorExperiment {
  RunOptions run{.task = "train_prior", .output = "results/priors/fashion_mnist"};
  PriorDataOptions data;
  nlohmann::json schedule = {{"name", "sqrt_linear"}};
  networks::UNetOptions network;
  prior::PriorTrainingOptions training;
  PriorSampleOptions samples;
  template <class V>
  void visit(V&& v) {
    run.visit(v);
    v("data", data, "training data");
    v("schedule", schedule, "noise schedule {name, options}");
    v("network", network, "UNet options");
    v("training", training, "optimiser and schedule of training");
    v("samples", samples, "unconditional samples written at the end");
  }
};

/// Checks everything that can be checked before any work; throws davi::Error naming the JSON path.
inline void validate(const TrainPriorExperiment& e) {
  DAVI_CHECK(e.data.dataset == "fashion_mnist", "data.dataset: unknown \"", e.data.dataset,
             "\"; expected one of: fashion_mnist");
  make_schedule(e.schedule, "schedule");
  select_device(e.run.device);
  DAVI_CHECK(e.training.steps > 0, "training.steps: expected a positive integer, got ", e.training.steps);
  DAVI_CHECK(e.training.batch_size > 0, "training.batch_size: expected a positive integer, got ",
             e.training.batch_size);
  DAVI_CHECK(e.training.ema_decay >= 0 && e.training.ema_decay < 1, "training.ema_decay: expected a value in [0, 1)");
  DAVI_CHECK(e.training.log_every > 0 && e.training.checkpoint_every > 0,
             "training.log_every and training.checkpoint_every: expected positive integers");
  DAVI_CHECK(e.samples.count > 0 && e.samples.steps > 0, "samples: count and steps must be positive");
}

/// Mean DSM loss of the prior on held-out images, with fixed draws (seeded) so reruns agree.
inline double held_out_dsm_loss(prior::ScorePrior& p, const torch::Tensor& images, std::uint64_t seed,
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

inline int run_train_prior(const nlohmann::json& config, const std::string& config_path) {
  const auto e = options_from_json<TrainPriorExperiment>(config, "");
  validate(e);
  const auto [device, threads] = enter(e.run);
  const std::filesystem::path out = e.run.output;
  const auto state_path = out / "train_state.pt";

  const auto schedule = make_schedule(e.schedule, "schedule");
  const nlohmann::json prior_config = {{"network", options_to_json(e.network)}, {"schedule", e.schedule}};
  auto train = data::load_fashion_mnist("train", e.data.train_limit);
  auto test = data::load_fashion_mnist("test", e.data.test_limit);

  prior::PriorTrainer trainer(e.network, schedule, prior_config, e.training, train.images,
                              static_cast<std::uint64_t>(e.run.seed), device);
  if (trainer.resume(state_path)) std::cerr << "resumed " << state_path.string() << " at step " << trainer.step() << "\n";
  std::cerr << "train_prior: " << networks::parameter_count(*trainer.ema_prior().net()) << " parameters, "
            << threads << " threads, device " << device.str() << "\n";

  Progress progress("train_prior", e.training.steps, trainer.step());
  while (!trainer.finished()) {
    const double loss = trainer.train_step();
    progress.update(trainer.step(), "loss " + std::to_string(loss));
    if (trainer.step() % e.training.checkpoint_every == 0 || trainer.finished()) {
      trainer.save_state(state_path);
      write_text_atomically(out / "train_log.csv", trainer.log_csv());
    }
  }

  auto p = trainer.ema_prior();
  p.net()->eval();
  prior::save_prior(p, out / "prior.pt");
  const double test_loss = held_out_dsm_loss(p, test.images.to(device), static_cast<std::uint64_t>(e.run.seed) + 7);
  Rng sample_rng(static_cast<std::uint64_t>(e.run.seed) + 11, device);
  Timer sample_timer;
  const auto samples = prior::ddim_sample(p, {e.samples.count, e.network.image_channels, e.network.image_size,
                                              e.network.image_size},
                                          sample_rng, {.steps = e.samples.steps, .eta = e.samples.eta});
  const double sample_seconds = sample_timer.seconds();
  data::save_image_grid(out / "samples.png", samples, 8);

  nlohmann::json metrics = {
      {"task", "train_prior"},
      {"config_file", config_path},
      {"parameters", networks::parameter_count(*p.net())},
      {"training_steps", trainer.step()},
      {"batch_size", e.training.batch_size},
      {"training_seconds", trainer.seconds()},
      {"test_dsm_loss", test_loss},
      {"test_images", test.images.size(0)},
      {"samples", {{"count", e.samples.count}, {"sampler", "ddim"}, {"steps", e.samples.steps},
                   {"eta", e.samples.eta}, {"seconds", sample_seconds}}},
      {"environment", environment_json(device, threads)},
  };
  write_text_atomically(out / "config.json", options_to_json(e).dump(2) + "\n");
  write_text_atomically(out / "metrics.json", metrics.dump(2) + "\n");
  std::cout << "train_prior: " << trainer.step() << " steps in " << trainer.seconds() << " s; held-out DSM loss "
            << test_loss << "\nwrote " << (out / "prior.pt").string() << ", samples.png, train_log.csv, metrics.json\n";
  return 0;
}

}  // namespace davi::runner
