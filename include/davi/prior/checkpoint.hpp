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

/// Builds the prior described by a checkpoint and loads its weights onto `device`.
inline ScorePrior load_prior(const std::filesystem::path& path, const c10::Device& device = c10::kCPU) {
  DAVI_CHECK(std::filesystem::exists(path), path.string(), ": prior checkpoint not found");
  torch::serialize::InputArchive archive, net_archive;
  read_archive(archive, path, c10::kCPU, "davi prior checkpoint");  // built on the CPU, then moved
  c10::IValue config_value;
  torch::Tensor betas;
  DAVI_CHECK(archive.try_read("config", config_value) && archive.try_read("betas", betas) &&
                 archive.try_read("net", net_archive),
             path.string(), ": not a davi prior checkpoint (missing config, betas or net)");
  auto config = nlohmann::json::parse(config_value.toStringRef());
  auto net = networks::UNet(options_from_json<networks::UNetOptions>(config.at("network"), path.string() + ":network"));
  net->load(net_archive);
  net->to(device);
  net->eval();
  return ScorePrior(net, schedules::DiscreteSchedule(betas), std::move(config));
}

}  // namespace davi::prior
