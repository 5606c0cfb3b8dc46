// Kind "train_prior" (include/davi/runner/train_prior.hpp): the training run and the held-out loss.
#include "davi/runner/train_prior.hpp"

#include <torch/torch.h>

#include <iostream>

#include "davi/core/core.hpp"
#include "davi/core/training_loop.hpp"
#include "davi/data/data.hpp"
#include "davi/prior/dsm.hpp"
#include "davi/prior/sampling.hpp"

namespace davi::runner {

void TrainPrior::validate(const Config& e) {
  davi::validate(e.training.loop, "training");
  networks::check_unet_options(e.network, "network");
  const auto dataset = make_dataset(e.data.dataset);
  check_network_fits(e.network.image_channels, e.network.image_size, dataset, "network");
  check_count_in_split(e.data.train_limit, dataset, "train", "data.train_limit", true);
  check_count_in_split(e.data.test_limit, dataset, "test", "data.test_limit", true);
  check_training_batch_fits(e.training.batch_size, e.network.base_channels, dataset, "training.batch_size");
  check_training_batch_fits(e.samples.count, std::max(1, e.network.base_channels / 2), dataset, "samples.count");
  const auto T = make_schedule(e.schedule).num_steps();
  DAVI_CHECK(e.samples.steps <= T, "samples.steps: expected a value in [1, ", T, "] (the schedule's steps), got ",
             e.samples.steps);
}

void TrainPrior::run(const Config& e, const RunContext& ctx) {
  const auto place = enter(e.run);
  const auto [device, threads, compute] = place;
  const ComputeScope compute_scope(compute);
  const auto seed = static_cast<std::uint64_t>(e.run.seed);
  const auto schedule = make_schedule(e.schedule);
  const nlohmann::json prior_config = {{"network", options_to_json(e.network)}, {"schedule", e.schedule.to_json()}};
  const auto dataset = make_dataset(e.data.dataset);
  const auto [train, test] = std::visit(
      [&](const auto& d) { return std::pair(d.load("train", e.data.train_limit), d.load("test", e.data.test_limit)); },
      dataset);

  prior::PriorTrainer trainer(e.network, schedule, prior_config, e.training, train.images, seed, device);
  trainer.distribute(ctx.group);
  if (ctx.writes()) std::cerr << "train_prior: " << networks::parameter_count(*trainer.ema_prior().net()) << " parameters, "
            << threads << " threads, device " << device.str() << "\n";
  const auto record = train_resumably(trainer, e.training.loop, ctx.dir, seed + 1, "train_prior", ctx.run_id);
  if (!ctx.writes()) return;  // data-parallel: rank 0 alone evaluates and writes

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
              {"data", std::visit([](const auto& d) { return d.describe(); }, dataset)},
              {"samples", {{"count", e.samples.count}, {"sampler", "ddim"}, {"steps", e.samples.steps},
                           {"eta", e.samples.eta}, {"seconds", sample_seconds}}}},
             place);
  std::cout << "train_prior: " << record.steps << " steps in " << record.seconds << " s; held-out DSM loss "
            << test_loss << "\n";
}

double held_out_dsm_loss(prior::ScorePrior& p, const at::Tensor& images, std::uint64_t seed, int batch) {
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

}  // namespace davi::runner
