#pragma once
// Kind "evaluate_prior": the held-out DSM loss of a trained prior on test images, with fixed draws of
// times and noise (seeded), in the run's precision and layout. Sweeping "precision" compares the same
// weights in fp32 and bf16 (docs/performance.md). Writes config.json and metrics.json to <output>/<run_id>.
// The run itself is compiled into davi_runner (experiments/runner/evaluate_prior.cpp).
#include <nlohmann/json.hpp>

#include "davi/core/options.hpp"
#include "davi/runner/data_options.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct EvaluatePrior {
  static constexpr std::string_view name = "evaluate_prior";
  static constexpr bool kRunFolders = true;
  static constexpr bool kDataParallel = false;  // rank 0 alone runs it

  struct Config {
    RunOptions run = run_options_of("evaluate_prior");
    DatasetOptions data;
    std::string prior = "results/priors/fashion_mnist/prior.pt";
    std::int64_t test_images = 2000;
    int batch_size = 250;
    template <class V>
    void visit(V&& v) {
      run.visit(v);
      v("data", data, "the data set whose test images the loss is measured on");
      v("prior", prior, "prior checkpoint (prior.pt of a train_prior run)");
      v("test_images", test_images, "first test images of the data set to evaluate on (at most its test split)",
        at_least(1));
      v("batch_size", batch_size, "images per network evaluation", in_range(1, 10000));
    }
  };

  static void validate(const Config& e);
  static void run(const Config& e, const RunContext& ctx);
};

}  // namespace davi::runner
