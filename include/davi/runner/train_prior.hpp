#pragma once
// Kind "train_prior": trains a ScorePrior on the data set's train split, resumably, and writes prior.pt (EMA weights),
// train_log.csv, samples.png, config.json and metrics.json (held-out DSM loss) to the output folder.
// The run itself is compiled into davi_runner (experiments/runner/train_prior.cpp).
#include <nlohmann/json.hpp>

#include "davi/core/options.hpp"
#include "davi/networks/unet.hpp"
#include "davi/prior/prior_trainer.hpp"
#include "davi/prior/score_prior.hpp"
#include "davi/runner/data_options.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct PriorDataOptions {
  Policy<DatasetTypes> dataset{"fashion_mnist"};
  std::int64_t train_limit = 0;    // 0 = the whole train split
  std::int64_t test_limit = 2000;  // test images for the held-out DSM loss
  template <class V>
  void visit(V&& v) {
    v("dataset", dataset, kDatasetHelp);
    v("train_limit", train_limit, "train images used (0 = the whole train split; at most its size)", at_least(0));
    v("test_limit", test_limit, "test images for the held-out DSM loss (0 = the whole test split; at most its size)",
      at_least(0));
  }
};

struct PriorSampleOptions {
  int count = 64;
  int steps = 100;
  double eta = 0.0;
  template <class V>
  void visit(V&& v) {
    v("count", count, "unconditional samples drawn at the end", in_range(1, 4096));
    v("steps", steps, "DDIM steps per sample", at_least(1));
    v("eta", eta, "DDIM eta (0 deterministic, 1 ancestral-like)", in_range(0, 1));
  }
};

struct TrainPrior {
  static constexpr std::string_view name = "train_prior";
  static constexpr bool kRunFolders = false;  // writes one artifact to `output`, referenced by path
  static constexpr bool kDataParallel = true;

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

  static void validate(const Config& e);
  static void run(const Config& e, const RunContext& ctx);
};

/// Mean DSM loss of the prior on held-out images, with fixed draws (seeded) so reruns agree.
double held_out_dsm_loss(prior::ScorePrior& p, const at::Tensor& images, std::uint64_t seed, int batch = 250);

}  // namespace davi::runner
