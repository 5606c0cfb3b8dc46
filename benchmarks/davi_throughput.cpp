// DAVI's speed on one device, as one JSON line per batch size: training steps per second and one-step
// inference milliseconds per image, with the prior-sized UNet on 28 x 28 deblurring (random weights:
// the cost does not depend on them). Not a Google Benchmark program, so that tools/cuda_smoke can run it
// on a machine without that library:
//   davi_throughput [DEVICE [PRECISION [MEMORY_FORMAT [BATCH...]]]]   e.g. davi_throughput cuda bf16 auto 32 64 256
// Each timing ends by reading a value back, which waits for the device. The step leaves out the
// adversarial term, as bm_davi.
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

#include "davi/amortized/davi.hpp"
#include "davi/bridges/ppb.hpp"
#include "davi/core/cuda_settings.hpp"
#include "davi/core/device.hpp"
#include "davi/core/precision.hpp"
#include "davi/core/threads.hpp"
#include "davi/core/timer.hpp"
#include "davi/objectives/ikl.hpp"
#include "davi/operators/gaussian_blur.hpp"
#include "davi/schedules/sqrt_linear.hpp"

using namespace davi;
using Deblur = amortized::Davi<operators::GaussianBlur, objectives::Ikl, bridges::Ppb>;

/// Seconds per call of `f`, over enough calls to fill about `budget` seconds after two warm-up calls.
template <class F>
double seconds_per_call(F&& f, double budget = 3.0) {
  f();
  f();
  Timer probe;
  f();
  const int calls = std::max(3, static_cast<int>(budget / std::max(probe.seconds(), 1e-4)));
  Timer timer;
  for (int i = 0; i < calls; ++i) f();
  return timer.seconds() / calls;
}

int main(int argc, char** argv) {
  try {
    const auto device = select_device(argc > 1 ? argv[1] : "auto");
    const auto compute = resolve_compute(argc > 2 ? argv[2] : "fp32", argc > 3 ? argv[3] : "auto", device);
    std::vector<std::int64_t> batches;
    for (int i = 4; i < argc; ++i) batches.push_back(std::stoll(argv[i]));
    if (batches.empty()) batches = {32, 64, 256};
    set_threads(0);
    apply_cuda_options({});
    const ComputeScope scope(compute);
    networks::UNet prior_net(networks::UNetOptions{});
    prior_net->to(device);
    prior::ScorePrior p(prior_net, schedules::SqrtLinear());
    for (const auto batch : batches) {
      auto davi = Deblur::from_prior(p, operators::GaussianBlur({.kernel_size = 11, .sigma = 1.5}, {1, 28, 28}),
                                     operators::GaussianNoise({.sigma_y = 0.05}), {.adversarial = false}, {.t_max = 400}, {.h = 0.1},
                                     0, device);
      Rng rng(1, device);
      const auto x0 = rng.rand({batch, 1, 28, 28}) * 2 - 1;
      const auto y = davi.measure(x0, rng);
      const double step = seconds_per_call([&] { (void)davi.train_step(x0).total.item<double>(); });
      const double infer = seconds_per_call([&] { (void)davi.sample(y, 1, rng).sum().item<double>(); });
      std::printf(
          "{\"device\": \"%s\", \"precision\": \"%s\", \"memory_format\": \"%s\", \"batch\": %lld, "
          "\"train_steps_per_second\": %.4g, \"inference_ms_per_image\": %.4g}\n",
          device.str().c_str(), to_string(compute.precision), to_string(compute.memory_format),
          static_cast<long long>(batch), 1.0 / step, 1e3 * infer / batch);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "davi_throughput: %s\n", e.what());
    return 2;
  }
  return 0;
}
