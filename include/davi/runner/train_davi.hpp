#pragma once
// Runner task "train_davi": trains DAVI from a committed prior on Fashion-MNIST (train split, fresh
// measurement noise every step), resumably, then evaluates the EMA generator on unseen test images:
// PSNR of the one-step sample and of the lifted measurement, NFE = 1, seconds per image.
// Writes config.json, train_log.csv, generator_ema.pt, samples.png and metrics.json to `output`.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "davi/amortized/davi.hpp"
#include "davi/core/progress.hpp"
#include "davi/data/data.hpp"
#include "davi/metrics/psnr.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/runner/environment.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct DaviTrainingOptions {
  int steps = 2000;
  int batch_size = 32;
  int log_every = 50;
  int checkpoint_every = 200;
  template <class V>
  void visit(V&& v) {
    v("steps", steps, "alternating steps (psi + phi + EMA) in total");
    v("batch_size", batch_size, "clean training images per step");
    v("log_every", log_every, "steps between log rows");
    v("checkpoint_every", checkpoint_every, "steps between resumable checkpoints");
  }
};

struct DaviEvaluationOptions {
  int test_images = 500;
  int batch_size = 100;
  int grid_images = 8;
  int grid_samples = 4;
  template <class V>
  void visit(V&& v) {
    v("test_images", test_images, "first N images of the test split (never seen in training)");
    v("batch_size", batch_size, "images per inference batch");
    v("grid_images", grid_images, "measurements shown in samples.png");
    v("grid_samples", grid_samples, "posterior samples per measurement shown in samples.png");
  }
};

struct TrainDaviExperiment {
  RunOptions run{.task = "train_davi", .output = "results/davi_deblur"};
  std::string prior = "results/priors/fashion_mnist/prior.pt";
  nlohmann::json operator_spec = {{"name", "gaussian_blur"}};
  operators::GaussianNoise::Options noise;
  nlohmann::json divergence = {{"name", "ikl"}};
  nlohmann::json bridge = {{"name", "ppb"}};
  amortized::DaviOptions method;
  DaviTrainingOptions training;
  DaviEvaluationOptions evaluation;
  template <class V>
  void visit(V&& v) {
    run.visit(v);
    v("prior", prior, "prior checkpoint (written by a train_prior run; its schedule must be sqrt_linear)");
    v("operator", operator_spec, "forward operator {name, options}");
    v("noise", noise, "measurement noise");
    v("divergence", divergence, "divergence {name, options}: ikl or kl");
    v("bridge", bridge, "bridge {name, options}: ppb or none");
    v("method", method, "DAVI optimisation options");
    v("training", training, "training length and logging");
    v("evaluation", evaluation, "evaluation on the test split");
  }
};

/// Fashion-MNIST images: 1 x 28 x 28.
inline const Shape kFashionMnistShape = {1, 28, 28};

using OperatorVariant = std::variant<operators::Identity, operators::GaussianBlur, operators::SuperResolution,
                                     operators::BoxInpainting, operators::RandomInpainting, operators::Colorization>;

inline OperatorVariant make_operator(const nlohmann::json& spec, const std::string& path, const Shape& image_shape) {
  return make_policy<OperatorTypes, OperatorVariant>(spec, path, [&]<class T>(const typename T::Options& o) {
    try {
      return OperatorVariant(T(o, image_shape));
    } catch (const Error& e) {
      detail::fail(path, ": ", e.what());
    }
  });
}

inline void validate(const TrainDaviExperiment& e) {
  select_device(e.run.device);
  DAVI_CHECK(std::filesystem::exists(e.prior), "prior: file not found: ", e.prior);
  make_operator(e.operator_spec, "operator", kFashionMnistShape);
  DAVI_CHECK(e.noise.sigma_y >= 0, "noise.sigma_y: expected a value >= 0, got ", e.noise.sigma_y);
  const schedules::SqrtLinear schedule;
  std::visit([&](const auto& c) { typename std::decay_t<decltype(c)>::Type(c.options, schedule); },
             choose<DivergenceTypes>(e.divergence, "divergence"));
  std::visit([&](const auto& c) { typename std::decay_t<decltype(c)>::Type(c.options, schedule); },
             choose<BridgeTypes>(e.bridge, "bridge"));
  DAVI_CHECK(e.training.steps > 0 && e.training.batch_size > 0, "training: steps and batch_size must be positive");
  DAVI_CHECK(e.training.log_every > 0 && e.training.checkpoint_every > 0,
             "training: log_every and checkpoint_every must be positive");
  DAVI_CHECK(e.evaluation.test_images > 0 && e.evaluation.test_images <= 10000,
             "evaluation.test_images: expected a value in [1, 10000], got ", e.evaluation.test_images);
  DAVI_CHECK(e.evaluation.batch_size > 0, "evaluation.batch_size: expected a positive integer");
}

/// Trains and evaluates one composed Davi; the policy types come from the registry's choices.
template <class Op, class Div, class Br>
int train_and_evaluate(const TrainDaviExperiment& e, Op op, const typename Div::Options& div_options,
                       const typename Br::Options& bridge_options, const nlohmann::json& config_json,
                       const std::string& config_path) {
  using Method = amortized::Davi<Op, schedules::SqrtLinear, Div, Br>;
  const auto [device, threads] = enter(e.run);
  const std::filesystem::path out = e.run.output;
  auto p = prior::load_prior(e.prior, device);
  DAVI_CHECK(p.schedule().betas().allclose(schedules::SqrtLinear().betas(), 0, 1e-12),
             "prior: ", e.prior, " was not trained with the default sqrt_linear schedule, which train_davi uses");
  const auto seed = static_cast<std::uint64_t>(e.run.seed);
  auto davi = Method::from_prior(p, std::move(op), operators::GaussianNoise(e.noise), e.method, {}, div_options,
                                 bridge_options, seed, device);

  // ---- training (resumable) ----
  const auto state_path = out / "train_state.pt";
  const auto train = data::load_fashion_mnist("train").images.to(device);
  Rng batches(seed + 1, c10::kCPU);
  std::string log = "step,score_loss,divergence,fidelity,regression,total,seconds\n";
  double seconds = 0;
  if (davi.resume(state_path)) {
    torch::serialize::InputArchive archive;
    archive.load_from((out / "train_log.pt").string());
    c10::IValue saved_log, saved_seconds, saved_batches;
    archive.read("log", saved_log);
    archive.read("seconds", saved_seconds);
    archive.read("batch_rng", saved_batches);
    log = saved_log.toStringRef();
    seconds = saved_seconds.toDouble();
    batches.set_state(saved_batches.toTensor());
    std::cerr << "resumed " << state_path.string() << " at step " << davi.step() << "\n";
  }
  const auto save_state = [&] {
    davi.save(state_path);
    write_atomically(out / "train_log.pt", [&](const std::filesystem::path& tmp) {
      torch::serialize::OutputArchive archive;
      archive.write("log", c10::IValue(log));
      archive.write("seconds", c10::IValue(seconds));
      archive.write("batch_rng", c10::IValue(batches.state()));
      archive.save_to(tmp.string());
    });
    write_text_atomically(out / "train_log.csv", log);
  };
  Progress progress("train_davi", e.training.steps, davi.step());
  amortized::DaviLosses sum;
  int in_sum = 0;
  while (davi.step() < e.training.steps) {
    Timer timer;
    const auto idx = batches.randint(0, train.size(0), {e.training.batch_size}).to(device);
    const auto l = davi.train_step(train.index_select(0, idx));
    seconds += timer.seconds();
    sum.score += l.score;
    sum.divergence += l.divergence;
    sum.fidelity += l.fidelity;
    sum.regression += l.regression;
    sum.total += l.total;
    ++in_sum;
    progress.update(davi.step(), "total " + std::to_string(l.total));
    if (davi.step() % e.training.log_every == 0 || davi.step() == e.training.steps) {
      std::ostringstream row;
      row << davi.step() << ',' << sum.score / in_sum << ',' << sum.divergence / in_sum << ','
          << sum.fidelity / in_sum << ',' << sum.regression / in_sum << ',' << sum.total / in_sum << ','
          << seconds << '\n';
      log += row.str();
      sum = {};
      in_sum = 0;
    }
    if (davi.step() % e.training.checkpoint_every == 0 || davi.step() == e.training.steps) save_state();
  }
  prior::save_module(*davi.ema_generator(), out / "generator_ema.pt");

  // ---- evaluation on unseen test images ----
  const auto test = data::load_fashion_mnist("test", e.evaluation.test_images).images.to(device);
  Rng eval(seed + 2, device);
  std::vector<at::Tensor> sample_psnr, lift_psnr;
  double inference_seconds = 0;
  for (std::int64_t i = 0; i < test.size(0); i += e.evaluation.batch_size) {
    const auto x0 = test.slice(0, i, std::min(test.size(0), i + e.evaluation.batch_size));
    const auto y = davi.measure(x0, eval);
    Timer timer;
    const at::Tensor x_hat = davi.sample(y, 1, eval).select(1, 0);
    (void)x_hat.sum().item<double>();  // waits for the device, so the timer measures the work
    inference_seconds += timer.seconds();
    sample_psnr.push_back(metrics::psnr(x_hat, x0));
    lift_psnr.push_back(metrics::psnr(davi.op().lift(y), x0));
  }
  const double psnr_sample = at::cat(sample_psnr).mean().item<double>();
  const double psnr_lift = at::cat(lift_psnr).mean().item<double>();

  // Grid: each row is truth, lifted measurement, then samples.
  {
    Rng grid_rng(seed + 3, device);
    const auto x0 = test.slice(0, 0, e.evaluation.grid_images);
    const auto y = davi.measure(x0, grid_rng);
    const auto samples = davi.sample(y, e.evaluation.grid_samples, grid_rng);
    std::vector<at::Tensor> rows;
    for (int i = 0; i < x0.size(0); ++i)
      rows.push_back(at::cat({x0.narrow(0, i, 1), davi.op().lift(y).narrow(0, i, 1).clamp(-1, 1), samples[i]}));
    data::save_image_grid(out / "samples.png", at::cat(rows), 2 + e.evaluation.grid_samples);
  }

  const nlohmann::json metrics = {
      {"task", "train_davi"},
      {"config_file", config_path},
      {"method", "davi"},
      {"operator", e.operator_spec},
      {"sigma_y", e.noise.sigma_y},
      {"sigma_y_units", operators::GaussianNoise::units},
      {"divergence", e.divergence},
      {"bridge", e.bridge},
      {"seed", e.run.seed},
      {"training_steps", davi.step()},
      {"training_seconds", seconds},
      {"test_images", test.size(0)},
      {"psnr_sample", psnr_sample},
      {"psnr_lifted_measurement", psnr_lift},
      {"psnr_units", "dB, images mapped to [0, 1], data range 1, mean over images"},
      {"nfe", 1},
      {"network_backprops", 0},
      {"seconds_per_image", inference_seconds / test.size(0)},
      {"environment", environment_json(device, threads)},
  };
  write_text_atomically(out / "config.json", config_json.dump(2) + "\n");
  write_text_atomically(out / "metrics.json", metrics.dump(2) + "\n");
  std::cout << "train_davi: " << davi.step() << " steps in " << seconds << " s; on " << test.size(0)
            << " test images PSNR " << psnr_sample << " dB (one step, NFE 1) vs " << psnr_lift
            << " dB for the lifted measurement; " << inference_seconds / test.size(0) * 1e3 << " ms per image\n"
            << "wrote " << out.string() << "/{metrics.json, samples.png, train_log.csv, generator_ema.pt}\n";
  return 0;
}

inline int run_train_davi(const nlohmann::json& config, const std::string& config_path) {
  const auto e = options_from_json<TrainDaviExperiment>(config, "");
  validate(e);
  const auto config_json = options_to_json(e);
  return std::visit(
      [&](auto op, const auto& div, const auto& bridge) {
        using Div = typename std::decay_t<decltype(div)>::Type;
        using Br = typename std::decay_t<decltype(bridge)>::Type;
        return train_and_evaluate<decltype(op), Div, Br>(e, std::move(op), div.options, bridge.options, config_json,
                                                         config_path);
      },
      make_operator(e.operator_spec, "operator", kFashionMnistShape), choose<DivergenceTypes>(e.divergence, "divergence"),
      choose<BridgeTypes>(e.bridge, "bridge"));
}

}  // namespace davi::runner
