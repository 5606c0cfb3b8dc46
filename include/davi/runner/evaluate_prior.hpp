#pragma once
// Kind "evaluate_prior": the held-out DSM loss of a trained prior on test images, with fixed draws of
// times and noise (seeded), in the run's precision and layout. Sweeping "precision" compares the same
// weights in fp32 and bf16 (docs/performance.md). Writes config.json and metrics.json to <output>/<run_id>.
#include <iostream>
#include <nlohmann/json.hpp>

#include "davi/core/core.hpp"
#include "davi/core/timer.hpp"
#include "davi/data/data.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/run_options.hpp"
#include "davi/runner/train_prior.hpp"

namespace davi::runner {

struct EvaluatePrior {
  static constexpr std::string_view name = "evaluate_prior";
  static constexpr bool kRunFolders = true;

  struct Config {
    RunOptions run = run_options_of("evaluate_prior");
    std::string prior = "results/priors/fashion_mnist/prior.pt";
    std::int64_t test_images = 2000;
    int batch_size = 250;
    template <class V>
    void visit(V&& v) {
      run.visit(v);
      v("prior", prior, "prior checkpoint (prior.pt of a train_prior run)");
      v("test_images", test_images, "first test images of Fashion-MNIST to evaluate on (1 to 10000)");
      v("batch_size", batch_size, "images per network evaluation");
    }
  };

  static void validate(const Config& e) {
    DAVI_CHECK(std::filesystem::is_regular_file(e.prior), "prior: file not found: ", e.prior);
    DAVI_CHECK(e.test_images >= 1 && e.test_images <= 10000, "test_images: expected a value in [1, 10000], got ",
               e.test_images);
    DAVI_CHECK(e.batch_size >= 1 && e.batch_size <= 10000, "batch_size: expected a value in [1, 10000], got ",
               e.batch_size);
  }

  static void run(const Config& e, const RunContext& ctx) {
    const auto place = enter(e.run);
    const ComputeScope compute(place.compute);
    auto p = prior::load_prior(e.prior, place.device);
    const auto test = data::load_fashion_mnist("test", e.test_images);
    Timer timer;
    const double loss = TrainPrior::held_out_dsm_loss(p, test.images.to(place.device),
                                                      static_cast<std::uint64_t>(e.run.seed) + 7, e.batch_size);
    finish_run(ctx,
               {{"kind", name},
                {"prior", e.prior},
                {"test_dsm_loss", loss},
                {"test_images", test.images.size(0)},
                {"seconds", timer.seconds()}},
               place);
    std::cout << "evaluate_prior: held-out DSM loss " << loss << " on " << test.images.size(0) << " test images ("
              << to_string(place.compute.precision) << ", " << to_string(place.compute.memory_format) << ")\n";
  }
};

}  // namespace davi::runner
