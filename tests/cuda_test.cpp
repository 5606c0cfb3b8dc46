// CUDA: every operator, schedule and metric computes on the device of its input as it does on the CPU;
// a DAVI train step and its samples on CUDA equal the CPU's within float tolerance (with the portable
// random stream); a training state written on one device resumes on the other or is refused by name;
// a whole experiment (DAVI and every baseline) runs with "device": "cuda" and agrees with its CPU run.
// Where no CUDA device is visible, each test is skipped (GTEST_SKIP: "Skipped" in ctest's output).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <map>

#include "davi/davi.hpp"
#include "davi/runner/runner.hpp"
#include "test_helpers.hpp"
#include "tiny_models.hpp"

namespace {

using namespace davi;
using nlohmann::json;

#define DAVI_REQUIRE_CUDA()                                                                         \
  do {                                                                                              \
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible to LibTorch " TORCH_VERSION; \
    apply_cuda_options({}); /* TF32 off: CPU and CUDA then agree to float32 rounding */            \
  } while (false)

const c10::Device kCuda(c10::kCUDA, 0);

TEST(Cuda, EveryOperatorComputesOnTheDeviceOfItsInputAsOnTheCpu) {
  DAVI_REQUIRE_CUDA();
  Rng rng(1);
  const auto x = rng.randn({2, 3, 28, 28});  // RGB: every operator takes it, and colorization needs it
  runner::for_each_type<runner::OperatorTypes>([&]<class T>() {
    auto op = runner::make_operator(runner::Policy<runner::OperatorTypes>(T::name), {3, 28, 28});
    std::visit(
        [&](auto& a) {
          const auto y = a.forward(x);
          const auto y_cuda = a.forward(x.to(kCuda));
          EXPECT_TRUE(y_cuda.is_cuda()) << T::name;
          EXPECT_LT(davi::testing::relative_error(y_cuda.cpu(), y), 1e-5) << T::name << " forward";
          EXPECT_LT(davi::testing::relative_error(a.adjoint(y.to(kCuda)).cpu(), a.adjoint(y)), 1e-5) << T::name << " adjoint";
          EXPECT_LT(davi::testing::relative_error(a.lift(y.to(kCuda)).cpu(), a.lift(y)), 1e-5) << T::name << " lift";
        },
        op);
  });
}

TEST(Cuda, EveryScheduleAndMetricComputesOnTheDevice) {
  DAVI_REQUIRE_CUDA();
  const auto t = at::arange(0, 1000, 37, at::kLong);
  runner::for_each_type<runner::ScheduleTypes>([&]<class T>() {
    const auto s = runner::make_schedule(runner::Policy<runner::ScheduleTypes>(T::name));
    const auto on_cuda = s.alpha_bar(t.to(kCuda));
    EXPECT_TRUE(on_cuda.is_cuda()) << T::name;
    EXPECT_LT(davi::testing::relative_error(on_cuda.cpu(), s.alpha_bar(t)), 1e-6) << T::name;
  });
  Rng rng(2);
  const auto a = rng.rand({4, 1, 28, 28}) * 2 - 1, b = (a + 0.1 * rng.randn({4, 1, 28, 28})).clamp(-1, 1);
  EXPECT_LT(davi::testing::relative_error(metrics::psnr(a.to(kCuda), b.to(kCuda)).cpu(), metrics::psnr(a, b)), 1e-9);
  EXPECT_LT(davi::testing::relative_error(metrics::ssim(a.to(kCuda), b.to(kCuda)).cpu(), metrics::ssim(a, b)), 1e-5);
}

/// A small DAVI (tiny UNet prior) on `device`, drawing its random numbers on the CPU (StreamOn::cpu), so
/// that the same seed gives the same numbers on both devices.
using SmallDeblur = amortized::Davi<operators::GaussianBlur, objectives::Ikl, bridges::Ppb>;

using davi::testing::tiny_prior;

SmallDeblur small_deblur(prior::ScorePrior& p, const c10::Device& device, StreamOn stream) {
  return SmallDeblur::from_prior(p, operators::GaussianBlur({.kernel_size = 9, .sigma = 1.5}, {1, 28, 28}),
                                 operators::GaussianNoise({.sigma_y = 0.05}), {.adversarial = false}, {.t_max = 400}, {.h = 0.1},
                                 /*seed=*/5, device, stream);
}

TEST(Cuda, DaviTrainStepsAndSamplesEqualTheCpusWithThePortableStream) {
  DAVI_REQUIRE_CUDA();
  auto cpu_prior = tiny_prior();
  auto cuda_prior = tiny_prior();
  cuda_prior.net()->to(kCuda);
  auto on_cpu = small_deblur(cpu_prior, c10::kCPU, StreamOn::cpu);
  auto on_cuda = small_deblur(cuda_prior, kCuda, StreamOn::cpu);
  Rng data(3);
  for (int step = 0; step < 3; ++step) {
    const auto x0 = data.rand({4, 1, 28, 28}) * 2 - 1;
    const double cpu_total = on_cpu.train_step(x0).total.item<double>();
    const double cuda_total = on_cuda.train_step(x0.to(kCuda)).total.item<double>();
    EXPECT_NEAR(cuda_total, cpu_total, 1e-3 * std::max(1.0, std::abs(cpu_total))) << "step " << step;
  }
  Rng a(7, c10::kCPU), b(7, kCuda, StreamOn::cpu);
  const auto y = data.rand({2, 1, 28, 28}) * 2 - 1;
  const auto cpu_samples = on_cpu.sample(y, 3, a);
  const auto cuda_samples = on_cuda.sample(y.to(kCuda), 3, b);
  EXPECT_TRUE(cuda_samples.is_cuda());
  EXPECT_LT(davi::testing::relative_error(cuda_samples.cpu(), cpu_samples), 1e-3);
}

TEST(Cuda, ATrainingStateResumesAcrossDevicesOrIsRefusedByName) {
  DAVI_REQUIRE_CUDA();
  const auto dir = davi::testing::temp_dir("cuda_resume");
  auto cpu_prior = tiny_prior();
  auto cuda_prior = tiny_prior();
  cuda_prior.net()->to(kCuda);
  Rng data(3);
  const auto x0 = data.rand({4, 1, 28, 28}) * 2 - 1;
  // Saved on the CPU with the portable stream: a CUDA trainer with the portable stream continues it, its
  // weights and optimiser state loaded onto the GPU.
  auto first = small_deblur(cpu_prior, c10::kCPU, StreamOn::cpu);
  first.train_step(x0);
  first.save(dir / "portable.pt");
  auto resumed = small_deblur(cuda_prior, kCuda, StreamOn::cpu);
  ASSERT_TRUE(resumed.resume(dir / "portable.pt"));
  for (const auto& p : resumed.generator()->parameters()) ASSERT_TRUE(p.is_cuda());
  const double next_cpu = first.train_step(x0).total.item<double>();
  const double next_cuda = resumed.train_step(x0.to(kCuda)).total.item<double>();
  EXPECT_NEAR(next_cuda, next_cpu, 1e-3 * std::max(1.0, std::abs(next_cpu)));
  // A CUDA generator's stream cannot continue on the CPU, and the other way round: refused by name.
  auto device_stream = small_deblur(cuda_prior, kCuda, StreamOn::device);
  device_stream.train_step(x0.to(kCuda));
  device_stream.save(dir / "cuda.pt");
  auto cpu_trainer = small_deblur(cpu_prior, c10::kCPU, StreamOn::device);
  EXPECT_DAVI_ERROR(cpu_trainer.resume(dir / "cuda.pt"), "was saved on cuda and cannot continue on cpu");
}

TEST(Cuda, AnExperimentRunsOnCudaBesideItsCpuRunAndAgreesWithIt) {
  DAVI_REQUIRE_CUDA();
  const auto dir = davi::testing::temp_dir("cuda_experiment");
  davi::testing::write_tiny_models(dir);
  json experiment = {
      {"seed", 3},
      {"threads", 1},
      {"output", (dir / "out").string()},
      {"prior", (dir / "prior.pt").string()},
      {"data", {{"validation_images", 100}}},
      {"task", {{"operator", {{"name", "gaussian_blur"}, {"sigma", 1.5}}}, {"noise", {{"sigma_y", 0.05}}}}},
      {"method",
       {{{"name", "davi"}, {"batch_size", 4}, {"training", {{"steps", 4}, {"log_every", 2}, {"checkpoint_every", 2}}}},
        "lift", "pinv", "tikhonov", "ddrm", "ddnm", "pigdm", "dps", "reddiff"}},
      {"evaluation",
       {{"images", 8}, {"samples", 2}, {"batch_size", 4}, {"grid_images", 2}, {"grid_samples", 2},
        {"classifier", (dir / "classifier.pt").string()}}},
      {"sweep", {{"device", {"cpu", "cuda"}}}},
  };
  const auto plan = runner::plan_experiment(experiment, (dir / "exp.json").string());
  ASSERT_EQ(plan.runs.size(), 18u);
  ASSERT_EQ(runner::execute(plan), 0);
  std::map<std::string, std::map<std::string, json>> metrics;  // method -> device type -> metrics.json
  for (const auto& run : plan.runs) {
    std::ifstream in(run.context.dir / "metrics.json");
    const auto device = device_type_name(run.context.resolved["device"].get<std::string>());
    metrics[run.context.resolved["method"]["name"].get<std::string>()][device] = json::parse(in);
  }
  ASSERT_EQ(metrics.size(), 9u);
  for (const auto& [method, by_device] : metrics) {
    const auto& cpu = by_device.at("cpu");
    const auto& cuda = by_device.at("cuda");
    EXPECT_NE(cpu["run_id"], cuda["run_id"]) << method;
    EXPECT_EQ(cuda["environment"]["device"], "cuda:0") << method;
    EXPECT_TRUE(cuda["environment"].contains("gpu")) << method;
    // Different random streams (CPU vs CUDA generators): agreement within sampling noise, not bitwise.
    EXPECT_NEAR(cuda["metrics"]["psnr"].get<double>(), cpu["metrics"]["psnr"].get<double>(), 1.0) << method;
  }
}

}  // namespace
