#pragma once
// Runner task "sample_prior": draws unconditional samples from a committed prior and writes a PNG grid.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "davi/core/core.hpp"
#include "davi/core/options.hpp"
#include "davi/data/png.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/prior/sampling.hpp"
#include "davi/runner/environment.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct SamplePriorExperiment {
  RunOptions run{.task = "sample_prior", .output = "results/quickstart"};
  std::string prior = "results/priors/fashion_mnist/prior.pt";
  int count = 64;
  int steps = 50;
  double eta = 0.0;
  template <class V>
  void visit(V&& v) {
    run.visit(v);
    v("prior", prior, "prior checkpoint (written by a train_prior run)");
    v("count", count, "number of samples");
    v("steps", steps, "DDIM steps");
    v("eta", eta, "DDIM eta");
  }
};

inline void validate(const SamplePriorExperiment& e) {
  select_device(e.run.device);
  DAVI_CHECK(std::filesystem::exists(e.prior), "prior: file not found: ", e.prior);
  DAVI_CHECK(e.count > 0, "count: expected a positive integer, got ", e.count);
  DAVI_CHECK(e.steps > 0, "steps: expected a positive integer, got ", e.steps);
}

inline int run_sample_prior(const nlohmann::json& config, const std::string& config_path) {
  const auto e = options_from_json<SamplePriorExperiment>(config, "");
  validate(e);
  const auto [device, threads] = enter(e.run);
  auto p = prior::load_prior(e.prior, device);
  const auto& net_options = p.net()->options();
  Rng rng(static_cast<std::uint64_t>(e.run.seed), device);
  Timer timer;
  const auto samples = prior::ddim_sample(
      p, {e.count, net_options.image_channels, net_options.image_size, net_options.image_size}, rng,
      {.steps = e.steps, .eta = e.eta});
  const double seconds = timer.seconds();
  const std::filesystem::path out = e.run.output;
  data::save_image_grid(out / "samples.png", samples, 8);
  const nlohmann::json metrics = {{"task", "sample_prior"},
                                  {"config_file", config_path},
                                  {"prior", e.prior},
                                  {"sampler", "ddim"},
                                  {"steps", e.steps},
                                  {"nfe_per_sample", e.steps},
                                  {"seconds", seconds},
                                  {"seconds_per_sample", seconds / e.count},
                                  {"environment", environment_json(device, threads)}};
  write_text_atomically(out / "metrics.json", metrics.dump(2) + "\n");
  std::cout << "sample_prior: " << e.count << " samples, " << e.steps << " DDIM steps, " << seconds
            << " s\nwrote " << (out / "samples.png").string() << " and metrics.json\n";
  return 0;
}

}  // namespace davi::runner
