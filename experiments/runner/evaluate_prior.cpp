// Kind "evaluate_prior" (include/davi/runner/evaluate_prior.hpp).
#include "davi/runner/evaluate_prior.hpp"

#include <filesystem>
#include <iostream>

#include "davi/core/core.hpp"
#include "davi/core/timer.hpp"
#include "davi/data/data.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/runner/train_prior.hpp"

namespace davi::runner {

void EvaluatePrior::validate(const Config& e) {
  const auto dataset = make_dataset(e.data.dataset);
  check_prior(e.prior, dataset);
  check_count_in_split(e.test_images, dataset, "test", "test_images", false);
}

void EvaluatePrior::run(const Config& e, const RunContext& ctx) {
  const auto place = enter(e.run);
  const ComputeScope compute(place.compute);
  auto p = prior::load_prior(e.prior, place.device);
  const auto test = std::visit([&](const auto& d) { return d.load("test", e.test_images); },
                               make_dataset(e.data.dataset));
  Timer timer;
  const double loss = held_out_dsm_loss(p, test.images.to(place.device), static_cast<std::uint64_t>(e.run.seed) + 7,
                                        e.batch_size);
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

}  // namespace davi::runner
