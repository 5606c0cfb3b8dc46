#pragma once
// Training of a ScorePrior by denoising score matching: AdamW, gradient clipping, EMA of the weights.
// A ResumableTrainer: core/training_loop.hpp runs it, logs it and checkpoints it.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "davi/core/options.hpp"
#include "davi/core/foreach_adamw.hpp"
#include "davi/core/rng.hpp"
#include "davi/core/training_loop.hpp"
#include "davi/distributed/data_parallel.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/prior/dsm.hpp"

namespace davi::prior {

struct PriorTrainingOptions {
  TrainingLoopOptions loop{.steps = 20000, .log_every = 50, .checkpoint_every = 500};
  int batch_size = 64;
  double lr = 2e-4;
  double weight_decay = 0.0;
  double grad_clip = 1.0;
  double ema_decay = 0.999;
  template <class V>
  void visit(V&& v) {
    loop.visit(v);
    v("batch_size", batch_size, "images per step", in_range(1, 65536));
    v("lr", lr, "AdamW learning rate", greater_than(0));
    v("weight_decay", weight_decay, "AdamW weight decay", at_least(0));
    v("grad_clip", grad_clip, "clip the gradient norm to this (0 = off)", at_least(0));
    v("ema_decay", ema_decay, "decay of the weight EMA that becomes the prior", in_range_below(0, 1));
  }
};

class PriorTrainer {
 public:
  PriorTrainer(const networks::UNetOptions& net_options, schedules::DiscreteSchedule schedule,
               nlohmann::json config, const PriorTrainingOptions& options, torch::Tensor train_images,
               std::uint64_t seed, c10::Device device)
      : options_(options),
        schedule_(std::move(schedule)),
        config_(std::move(config)),
        net_(with_global_seed(seed, [&] { return networks::UNet(net_options); })),
        ema_(net_options),
        optimizer_(net_->parameters(),
                   torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay)),
        images_(train_images.to(device)),
        rng_(seed, device) {
    net_->to(device);
    ema_->to(device);
    copy_weights(*ema_, *net_);
    ema_->eval();
  }

  std::int64_t step() const { return step_; }
  c10::Device device() const { return rng_.device(); }
  bool finished() const { return step_ >= options_.loop.steps; }

  /// One DSM step on a batch drawn from `batches`.
  LossRow train_step(Rng& batches) {
    net_->train();
    const auto idx = batches.randint(0, images_.size(0), {parallel_.local_batch(options_.batch_size)}).to(images_.device());
    const auto x0 = images_.index_select(0, idx);
    auto loss = dsm_loss([&](const auto& x, const auto& t) { return net_->forward(x, t); }, schedule_, x0, rng_);
    optimizer_.zero_grad();
    loss.backward();
    parallel_.average_gradients(net_->parameters());
    if (options_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.grad_clip);
    optimizer_.step();
    ema_update(*ema_, *net_, options_.ema_decay);
    ++step_;
    return {{"dsm_loss", loss.detach()}};
  }

  /// Trains data-parallel in `group` (distributed/data_parallel.hpp). Call before the first step.
  void distribute(std::shared_ptr<distributed::Group> group) { parallel_.join(std::move(group), {&rng_}); }
  distributed::Group& group() const { return parallel_.group(); }

  /// The EMA weights as a prior (shares the EMA network).
  ScorePrior ema_prior() { return ScorePrior(ema_, schedule_, config_); }

  void save(torch::serialize::OutputArchive& archive) {
    save_network_state(archive, *net_, optimizer_, step_, rng_);
    torch::serialize::OutputArchive ema;
    ema_->save(ema);
    archive.write("ema", ema);
  }

  void load(torch::serialize::InputArchive& archive) {
    step_ = load_network_state(archive, *net_, optimizer_, rng_);
    torch::serialize::InputArchive ema;
    archive.read("ema", ema);
    ema_->load(ema);
  }

 private:
  PriorTrainingOptions options_;
  schedules::DiscreteSchedule schedule_;
  nlohmann::json config_;
  networks::UNet net_, ema_;
  ForeachAdamW optimizer_;
  torch::Tensor images_;
  Rng rng_;
  distributed::DataParallel parallel_;
  std::int64_t step_ = 0;
};

}  // namespace davi::prior
