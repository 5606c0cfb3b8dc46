#pragma once
// Training of a ScorePrior by denoising score matching: AdamW, gradient clipping, EMA of the weights,
// and a resumable state (weights, EMA, optimiser, step, RNG streams, log) saved atomically.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "davi/core/options.hpp"
#include "davi/core/rng.hpp"
#include "davi/core/timer.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/prior/dsm.hpp"

namespace davi::prior {

struct PriorTrainingOptions {
  int steps = 20000;
  int batch_size = 64;
  double lr = 2e-4;
  double weight_decay = 0.0;
  double grad_clip = 1.0;
  double ema_decay = 0.999;
  int log_every = 50;
  int checkpoint_every = 500;
  bool channels_last = false;
  template <class V>
  void visit(V&& v) {
    v("steps", steps, "optimiser steps in total");
    v("batch_size", batch_size, "images per step");
    v("lr", lr, "AdamW learning rate");
    v("weight_decay", weight_decay, "AdamW weight decay");
    v("grad_clip", grad_clip, "clip the gradient norm to this (0 = off)");
    v("ema_decay", ema_decay, "decay of the weight EMA that becomes the prior");
    v("log_every", log_every, "steps between log rows");
    v("checkpoint_every", checkpoint_every, "steps between resumable checkpoints");
    v("channels_last", channels_last, "channels_last memory layout for images and conv weights (oneDNN is faster)");
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
        rng_(seed, device),
        batch_rng_(seed + 1, c10::kCPU) {
    net_->to(device);
    ema_->to(device);
    if (options.channels_last) {
      images_ = images_.contiguous(at::MemoryFormat::ChannelsLast);
      networks::use_channels_last(*net_);
      networks::use_channels_last(*ema_);
    }
    copy_weights(*ema_, *net_);
    ema_->eval();
  }

  int step() const { return step_; }
  double seconds() const { return seconds_; }
  bool finished() const { return step_ >= options_.steps; }
  const std::string& log_csv() const { return log_; }

  /// One DSM step on a random batch; returns the loss.
  double train_step() {
    Timer timer;
    net_->train();
    const auto idx = batch_rng_.randint(0, images_.size(0), {options_.batch_size}).to(images_.device());
    const auto x0 = images_.index_select(0, idx);
    auto loss = dsm_loss([&](const auto& x, const auto& t) { return net_->forward(x, t); }, schedule_, x0, rng_);
    optimizer_.zero_grad();
    loss.backward();
    if (options_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.grad_clip);
    optimizer_.step();
    ema_update(*ema_, *net_, options_.ema_decay);
    ++step_;
    const double value = loss.item<double>();
    seconds_ += timer.seconds();
    running_loss_ += value;
    ++running_count_;
    if (step_ % options_.log_every == 0 || step_ == options_.steps) {
      std::ostringstream row;
      row << step_ << ',' << running_loss_ / running_count_ << ',' << seconds_ << '\n';
      log_ += row.str();
      running_loss_ = 0;
      running_count_ = 0;
    }
    return value;
  }

  /// The EMA weights as a prior (shares the EMA network).
  ScorePrior ema_prior() { return ScorePrior(ema_, schedule_, config_); }

  void save_state(const std::filesystem::path& path) {
    write_atomically(path, [&](const std::filesystem::path& tmp) {
      torch::serialize::OutputArchive archive, net, ema, optimizer;
      net_->save(net);
      ema_->save(ema);
      optimizer_.save(optimizer);
      archive.write("net", net);
      archive.write("ema", ema);
      archive.write("optimizer", optimizer);
      archive.write("step", torch::tensor(static_cast<int64_t>(step_)));
      archive.write("seconds", torch::tensor(seconds_, torch::kDouble));
      archive.write("rng", rng_.state());
      archive.write("batch_rng", batch_rng_.state());
      archive.write("log", c10::IValue(log_));
      archive.save_to(tmp.string());
    });
  }

  /// Restores a state written by save_state; returns false when there is none.
  bool resume(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) return false;
    torch::serialize::InputArchive archive, net, ema, optimizer;
    archive.load_from(path.string());
    archive.read("net", net);
    archive.read("ema", ema);
    archive.read("optimizer", optimizer);
    net_->load(net);
    ema_->load(ema);
    optimizer_.load(optimizer);
    torch::Tensor step, seconds, rng, batch_rng;
    archive.read("step", step);
    archive.read("seconds", seconds);
    archive.read("rng", rng);
    archive.read("batch_rng", batch_rng);
    c10::IValue log;
    archive.read("log", log);
    step_ = static_cast<int>(step.item<int64_t>());
    seconds_ = seconds.item<double>();
    rng_.set_state(rng);
    batch_rng_.set_state(batch_rng);
    log_ = log.toStringRef();
    return true;
  }

 private:
  PriorTrainingOptions options_;
  schedules::DiscreteSchedule schedule_;
  nlohmann::json config_;
  networks::UNet net_, ema_;
  torch::optim::AdamW optimizer_;
  torch::Tensor images_;
  Rng rng_, batch_rng_;
  int step_ = 0;
  double seconds_ = 0;
  double running_loss_ = 0;
  int running_count_ = 0;
  std::string log_ = "step,dsm_loss,seconds\n";
};

}  // namespace davi::prior
