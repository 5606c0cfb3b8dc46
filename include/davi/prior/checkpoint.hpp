#pragma once
// Prior checkpoints: the network weights, the schedule's beta table and a JSON description of both,
// in one LibTorch archive written atomically. Loading needs no registry: the betas travel with it.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "davi/core/archive.hpp"
#include "davi/core/atomic_file.hpp"
#include "davi/core/options.hpp"
#include "davi/prior/score_prior.hpp"

namespace davi::prior {

inline void save_prior(ScorePrior& prior, const std::filesystem::path& path) {
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    torch::serialize::OutputArchive archive, net;
    prior.net()->save(net);
    archive.write("net", net);
    archive.write("betas", prior.schedule().betas());
    archive.write("config", c10::IValue(prior.config().dump()));
    archive.save_to(tmp.string());
  });
}

/// A prior checkpoint opened and checked, its network not built yet.
struct PriorCheckpoint {
  nlohmann::json config;                // {"network": UNet options, "schedule": ...}
  networks::UNetOptions network;
  torch::Tensor betas;
  torch::serialize::InputArchive net;  // the weights
};

/// Opens a prior checkpoint and reads its description; every failure names the file.
inline PriorCheckpoint read_prior_checkpoint(const std::filesystem::path& path) {
  DAVI_CHECK(std::filesystem::is_regular_file(path), path.string(), ": prior checkpoint not found");
  torch::serialize::InputArchive archive;
  read_archive(archive, path, c10::kCPU, "davi prior checkpoint");  // built on the CPU, then moved
  PriorCheckpoint checkpoint;
  c10::IValue config_value;
  DAVI_CHECK(archive.try_read("config", config_value) && config_value.isString() &&
                 archive.try_read("betas", checkpoint.betas) && archive.try_read("net", checkpoint.net),
             path.string(), ": not a davi prior checkpoint (missing config, betas or net)");
  checkpoint.config = nlohmann::json::parse(config_value.toStringRef(), nullptr, /*allow_exceptions=*/false);
  DAVI_CHECK(checkpoint.config.is_object() && checkpoint.config.contains("network"), path.string(),
             ": not a davi prior checkpoint (its config is not a JSON object with \"network\")");
  checkpoint.network =
      options_from_json<networks::UNetOptions>(checkpoint.config["network"], path.string() + ":network");
  networks::check_unet_options(checkpoint.network, path.string() + ":network");
  DAVI_CHECK(checkpoint.betas.defined() && checkpoint.betas.dim() == 1 && checkpoint.betas.size(0) >= 1 &&
                 checkpoint.betas.is_floating_point() && ((checkpoint.betas > 0) & (checkpoint.betas < 1)).all().item<bool>(),
             path.string(), ": damaged prior checkpoint (its betas are not a table of values in (0, 1))");
  return checkpoint;
}

/// Builds the prior described by a checkpoint and loads its weights onto `device`.
inline ScorePrior load_prior(const std::filesystem::path& path, const c10::Device& device = c10::kCPU) {
  auto checkpoint = read_prior_checkpoint(path);
  auto net = networks::UNet(checkpoint.network);
  load_weights(*net, checkpoint.net, path);
  net->to(device);
  net->eval();
  return ScorePrior(net, schedules::DiscreteSchedule(checkpoint.betas), std::move(checkpoint.config));
}

}  // namespace davi::prior
