// Networks and priors: UNet shapes, the closed-form Gaussian prior, samplers against its exact
// distribution, DSM against its exact minimum, checkpoints and resumable training.
#include <signal.h>
#include <torch/torch.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "davi/networks/feature_classifier.hpp"
#include "davi/networks/patch_discriminator.hpp"
#include "davi/networks/unet.hpp"
#include "davi/prior/prior.hpp"
#include "davi/schedules/schedules.hpp"
#include "gaussian_toy.hpp"
#include "test_helpers.hpp"

using namespace davi;
using davi::testing::relative_error;

namespace {

networks::UNetOptions tiny_unet(int size = 8) {
  networks::UNetOptions o;
  o.image_size = size;
  o.base_channels = 8;
  o.channel_mult = {1, 2};
  o.num_res_blocks = 1;
  o.attention_resolutions = {size / 2};
  o.norm_groups = 4;
  return o;
}

/// A UNet whose every weight is random (the default starts output layers at zero, which would make
/// every comparison of outputs trivial).
networks::UNet random_unet(const networks::UNetOptions& options, std::uint64_t seed) {
  auto net = with_global_seed(seed, [&] { return networks::UNet(options); });
  torch::NoGradGuard no_grad;
  at::manual_seed(seed);
  for (auto& p : net->parameters()) p.normal_(0.0, 0.2);
  return net;
}

/// Output and parameter gradients of loss = mean(net(x, t) * target) under `compute`.
std::pair<at::Tensor, std::vector<at::Tensor>> output_and_gradients(networks::UNet& net, const Compute& compute,
                                                                    const at::Tensor& x, const at::Tensor& t,
                                                                    const at::Tensor& target) {
  ComputeScope scope(compute);
  net->zero_grad();
  const auto out = net->forward(x, t);
  (out * target).mean().backward();
  std::vector<at::Tensor> grads;
  for (const auto& p : net->parameters()) grads.push_back(p.grad().clone());
  return {out.detach(), grads};
}

double cosine(const at::Tensor& a, const at::Tensor& b) {
  return (a.flatten() * b.flatten()).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
}

TEST(Precision, ScopesNestAndTheJsonSpellingsResolve) {
  EXPECT_EQ(current_compute(), Compute{});
  {
    ComputeScope outer({Precision::bf16, MemoryFormat::channels_last});
    EXPECT_EQ(current_compute().dtype(), at::kBFloat16);
    {
      ComputeScope inner(Compute{});
      EXPECT_EQ(current_compute().precision, Precision::fp32);
    }
    EXPECT_EQ(current_compute().layout(), at::MemoryFormat::ChannelsLast);
  }
  EXPECT_EQ(current_compute(), Compute{});
  const c10::Device cpu(c10::kCPU);
  EXPECT_EQ(resolve_compute("bf16", "nchw", cpu), (Compute{Precision::bf16, MemoryFormat::nchw}));
  EXPECT_EQ(resolve_compute("auto", "auto", cpu), fastest_compute(cpu));
  EXPECT_EQ(fastest_compute(cpu), Compute{});  // measured: docs/performance.md
  EXPECT_EQ(fastest_compute(c10::Device(c10::kCUDA, 0)),  // measured on an H200: results/cuda/report.md
            (Compute{Precision::fp32, MemoryFormat::channels_last}));
  EXPECT_DAVI_ERROR(resolve_compute("half", "auto", cpu), "precision: unknown \"half\"");
  EXPECT_DAVI_ERROR(resolve_compute("fp32", "nhwc", cpu), "memory_format: unknown \"nhwc\"");
}

TEST(Precision, FlopCounterCountsTheLayersThatRan) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 5, 3).padding(1));
  torch::nn::Linear fc(7, 4);
  networks::FlopCounter counter;
  networks::mixed::conv2d(*conv, at::randn({2, 3, 6, 6}));
  networks::mixed::linear(*fc, at::randn({3, 7}));
  networks::mixed::bmm(at::randn({2, 3, 4}), at::randn({2, 4, 5}));
  EXPECT_EQ(counter.flops(), 2 * (2 * 5 * 6 * 6) * (3 * 9) + 2 * (3 * 4) * 7 + 2 * 2 * 3 * 4 * 5);
}

TEST(Precision, ChannelsLastComputesTheSameUNet) {
  auto net = random_unet(tiny_unet(8), 1);
  const auto x = at::randn({3, 1, 8, 8}), target = at::randn({3, 1, 8, 8});
  const auto t = at::tensor({0, 400, 999}, at::kLong);
  const auto [ref, ref_grads] = output_and_gradients(net, {}, x, t, target);
  const auto [out, grads] = output_and_gradients(net, {Precision::fp32, MemoryFormat::channels_last}, x, t, target);
  EXPECT_TRUE(out.is_contiguous());  // networks hand back NCHW whatever they computed in
  EXPECT_LT(relative_error(out, ref), 1e-5);
  for (std::size_t i = 0; i < grads.size(); ++i) EXPECT_LT(relative_error(grads[i], ref_grads[i]), 1e-4) << i;
}

TEST(Precision, Bf16IsMixedPrecisionWithFp32WeightsOutputsAndGradients) {
  auto net = random_unet(tiny_unet(8), 2);
  const auto x = at::randn({4, 1, 8, 8}), target = at::randn({4, 1, 8, 8});
  const auto t = at::tensor({0, 100, 500, 999}, at::kLong);
  const auto [ref, ref_grads] = output_and_gradients(net, {}, x, t, target);
  for (const auto layout : {MemoryFormat::nchw, MemoryFormat::channels_last}) {
    const auto [out, grads] = output_and_gradients(net, {Precision::bf16, layout}, x, t, target);
    EXPECT_EQ(out.scalar_type(), at::kFloat);
    EXPECT_TRUE(out.is_contiguous());
    // bf16 keeps 8 bits of mantissa (relative rounding 2^-9 per operation): the output agrees with fp32
    // to about a percent, and differs from it (so bf16 did run).
    const double error = ((out - ref).norm() / ref.norm()).item<double>();
    EXPECT_LT(error, 0.03) << to_string(layout);
    EXPECT_GT(error, 1e-5) << to_string(layout);
    ASSERT_EQ(grads.size(), ref_grads.size());
    for (std::size_t i = 0; i < grads.size(); ++i) {
      EXPECT_EQ(grads[i].scalar_type(), at::kFloat) << i;  // gradients land in the fp32 master weights
      if (ref_grads[i].norm().item<double>() > 1e-6) {
        EXPECT_GT(cosine(grads[i], ref_grads[i]), 0.99) << i;
      }
    }
  }
  for (const auto& p : net->parameters()) EXPECT_EQ(p.scalar_type(), at::kFloat);
}

TEST(Precision, GroupNormStatisticsAreFp32InBf16) {
  // Channels with a large common offset: summing their squares in bf16 would lose the variance (the
  // offset's square dominates); statistics in fp32 of the bf16 input recover it.
  torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(2, 4));
  const auto x = (300.0 + at::randn({2, 4, 8, 8})).to(at::kBFloat16);
  const auto reference = norm->forward(x.to(at::kFloat));
  ComputeScope scope({Precision::bf16, MemoryFormat::nchw});
  const auto out = networks::mixed::group_norm(*norm, x);
  EXPECT_EQ(out.scalar_type(), at::kBFloat16);
  EXPECT_LT((out.to(at::kFloat) - reference).abs().max().item<double>(), 0.02);  // bf16 rounding of ~|3|
  // The condition is not trivially met: the variance accumulated in bf16 is off by far more than 1.
  const auto groups = x.reshape({2, 2, -1});
  const auto naive_variance = (groups * groups).mean(-1) - groups.mean(-1).square();
  EXPECT_GT((naive_variance.to(at::kFloat) - groups.to(at::kFloat).var(-1, false)).abs().max().item<double>(), 1.0);
}

TEST(Precision, ClassifierAndDiscriminatorRunInBf16) {
  networks::FeatureClassifier classifier(networks::FeatureClassifierOptions{});
  networks::PatchDiscriminator discriminator(networks::PatchDiscriminatorOptions{});
  classifier->eval();
  discriminator->eval();
  const auto x = at::rand({3, 1, 28, 28}) * 2 - 1;
  const auto ref = classifier->features(x);
  const auto ref_d = discriminator->forward(x);
  ComputeScope scope({Precision::bf16, MemoryFormat::channels_last});
  const auto f = classifier->features(x);
  const auto d = discriminator->forward(x);
  EXPECT_EQ(f.embedding.scalar_type(), at::kFloat);
  EXPECT_EQ(d.logits.scalar_type(), at::kFloat);
  EXPECT_LT(((f.logits - ref.logits).norm() / ref.logits.norm()).item<double>(), 0.03);
  EXPECT_LT(((d.logits - ref_d.logits).norm() / ref_d.logits.norm()).item<double>(), 0.05);
  for (std::size_t l = 0; l < d.features.size(); ++l) EXPECT_EQ(d.features[l].scalar_type(), at::kFloat);
}

TEST(FeatureClassifier, DropoutDrawsFromTheGivenSeededStreamOnly) {
  networks::FeatureClassifier classifier(networks::FeatureClassifierOptions{});
  const auto x = at::rand({3, 1, 28, 28}) * 2 - 1;
  classifier->train();
  Rng a(3), b(3), c(4);
  const auto first = classifier->forward(x, &a);
  EXPECT_TRUE(classifier->forward(x, &b).equal(first));
  EXPECT_FALSE(classifier->forward(x, &c).equal(first));
  at::manual_seed(0);  // the global generator plays no part
  EXPECT_TRUE(classifier->forward(x, &a).equal(classifier->forward(x, &b)));
  EXPECT_DAVI_ERROR(classifier->forward(x), "training with dropout needs a seeded Rng");
  classifier->eval();
  EXPECT_TRUE(classifier->forward(x).equal(classifier->forward(x, &c)));  // no dropout at evaluation
}

TEST(Precision, EmaUpdateIsTheConvexCombination) {
  torch::nn::Linear online(5, 3), ema(5, 3);
  const auto before = ema->weight.clone();
  prior::ema_update(*ema, *online, 0.9);
  EXPECT_LT(relative_error(ema->weight, 0.9 * before + 0.1 * online->weight), 1e-6);
}

TEST(UNet, PredictsNoiseOfTheInputShapeIncludingOddSizes) {
  auto options = tiny_unet(7);
  options.channel_mult = {1, 2, 2};  // 7 -> 4 -> 2 and back to 7
  networks::UNet net(options);
  const auto x = at::randn({3, 1, 7, 7});
  const auto eps = net->forward(x, at::tensor({0, 500, 999}, at::kLong));
  EXPECT_EQ(eps.sizes(), x.sizes());
  // The output layer starts at zero (ADM's initialisation).
  EXPECT_EQ(eps.abs().max().item<float>(), 0.0f);
  EXPECT_DAVI_ERROR(net->forward(at::randn({2, 3, 7, 7}), at::zeros({2}, at::kLong)), "expected input N x 1 x H x W");
  EXPECT_DAVI_ERROR(net->forward(x, at::zeros({2}, at::kLong)), "one timestep per image");
}

TEST(UNet, LastLayerWeightIsInsideTheLastOutputBlock) {
  networks::UNet net(tiny_unet());  // up path: 2 res blocks, an upsampler, 2 res blocks
  EXPECT_TRUE(net->last_layer_weight().is_same(net->named_parameters()["up.4.res.conv2.weight"]));
}

TEST(UNet, TimestepEmbeddingIsAdmSinusoid) {
  const auto e = networks::timestep_embedding(at::tensor({0, 10}, at::kLong), 8);
  EXPECT_LT(relative_error(e[0], at::tensor({1., 1., 1., 1., 0., 0., 0., 0.}).to(at::kFloat)), 1e-7);
  // Second frequency: 10000^(-1/4) = 0.1, so cos(10 * 0.1) = cos(1).
  EXPECT_NEAR(e[1][1].item<double>(), std::cos(1.0), 1e-6);
  EXPECT_NEAR(e[1][5].item<double>(), std::sin(1.0), 1e-6);
}

TEST(UNet, GradientsReachEveryParameter) {
  networks::UNet net(tiny_unet());
  // Move the zero-initialised output layer off zero so gradients reach earlier layers.
  { torch::NoGradGuard g; for (auto& p : net->parameters()) p.add_(0.01 * at::randn_like(p)); }
  net->forward(at::randn({2, 1, 8, 8}), at::tensor({3, 900}, at::kLong)).square().sum().backward();
  for (const auto& p : net->named_parameters())
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
}

// ---- the closed-form Gaussian prior ---------------------------------------------------------------

using GaussianCase = davi::testing::GaussianToy;

TEST(GaussianPrior, EpsilonIsTheClosedFormPosteriorMeanOfTheNoise) {
  const GaussianCase c;
  const auto p = c.prior();
  Rng rng(1);
  const auto x = rng.randn({3, 1, 2, 2}, at::kDouble);
  const auto t = at::tensor({0, 300, 999}, at::kLong);
  const auto eps = p.eps(x, t);
  for (int i = 0; i < 3; ++i) {
    const double ab = p.schedule().alpha_bar_at(t[i].item<int>());
    const auto cov_t = ab * c.covariance + (1 - ab) * at::eye(4, at::kDouble);
    const auto expected =
        std::sqrt(1 - ab) * at::linalg_solve(cov_t, x[i].reshape({4}) - std::sqrt(ab) * c.mean.reshape({4}));
    EXPECT_LT(relative_error(eps[i].reshape({4}), expected), 1e-10) << "t = " << t[i].item<int>();
  }
  EXPECT_DAVI_ERROR(prior::GaussianPrior(c.mean, at::eye(3, at::kDouble), schedules::Linear()), "covariance must be 4 x 4");
}

TEST(Sampling, DdpmAndDdimRecoverTheGaussianPrior) {
  const GaussianCase c;
  auto p = c.prior();
  const auto check = [&](const at::Tensor& samples, const char* which) {
    const auto flat = samples.reshape({samples.size(0), 4}).to(at::kDouble);
    const auto mean = flat.mean(0);
    const auto centred = flat - mean;
    const auto cov = centred.t().matmul(centred) / (flat.size(0) - 1);
    // 20000 samples: standard error of the mean <= 0.006, of the covariance entries <= 0.005.
    EXPECT_LT((mean - c.mean.reshape({4})).abs().max().item<double>(), 0.025) << which;
    EXPECT_LT((cov - c.covariance).abs().max().item<double>(), 0.02) << which;
  };
  Rng rng(3, c10::kCPU);
  const prior::SamplingOptions no_clip{.steps = 200, .eta = 0.0, .clip_x0 = false};
  check(prior::ddim_sample(p, {20000, 1, 2, 2}, rng, no_clip), "ddim");
  check(prior::ddpm_sample(p, {20000, 1, 2, 2}, rng, {.clip_x0 = false}), "ddpm");
}

TEST(Dsm, ExactModelReachesTheAnalyticMinimum) {
  // At a fixed t, Cov(eps | x_t) = I - sigma^2 Sigma_t^{-1}, so the DSM loss (mean over the D pixels) of
  // the exact epsilon is 1 - (sigma^2 / D) tr(Sigma_t^{-1}) = 1 - mean_i sigma^2 / (alpha^2 lambda_i + sigma^2).
  const GaussianCase c;
  const auto p = c.prior();
  Rng rng(4);
  const auto lambda = at::linalg_eigvalsh(c.covariance);
  for (int t : {50, 400, 900}) {
    const double ab = p.schedule().alpha_bar_at(t);
    const double expected = 1 - ((1 - ab) / (ab * lambda + (1 - ab))).mean().item<double>();
    const auto x0 = c.draw(200000, rng);
    const double loss =
        prior::dsm_loss([&](const auto& x, const auto& tt) { return p.eps(x, tt); }, p.schedule(), x0, rng, t + 1, t)
            .item<double>();
    EXPECT_NEAR(loss, expected, 0.01 * std::max(expected, 0.05)) << "t = " << t;
  }
}

// ---- checkpoints and training -------------------------------------------------------------------

TEST(Checkpoint, PriorRoundTripsAndRejectsCorruptFiles) {
  const auto dir = davi::testing::temp_dir("checkpoint");
  networks::UNet net(tiny_unet());
  { torch::NoGradGuard g; for (auto& p : net->parameters()) p.add_(0.05 * at::randn_like(p)); }
  const nlohmann::json config = {{"network", options_to_json(tiny_unet())}, {"schedule", {{"name", "cosine"}}}};
  prior::ScorePrior saved(net, schedules::Cosine(), config);
  prior::save_prior(saved, dir / "prior.pt");
  auto loaded = prior::load_prior(dir / "prior.pt");
  const auto x = at::randn({2, 1, 8, 8});
  const auto t = at::tensor({1, 700}, at::kLong);
  EXPECT_TRUE(loaded.eps(x, t).equal(saved.eps(x, t)));
  EXPECT_TRUE(loaded.schedule().betas().equal(schedules::Cosine().betas()));
  EXPECT_EQ(loaded.config()["schedule"]["name"], "cosine");
  std::ofstream(dir / "corrupt.pt") << "not a checkpoint";
  EXPECT_DAVI_ERROR(prior::load_prior(dir / "corrupt.pt"), "not a readable davi prior checkpoint");
  EXPECT_DAVI_ERROR(prior::load_prior(dir / "missing.pt"), "prior checkpoint not found");
}

TEST(PriorTrainer, ResumingGivesTheSameRunAsNotStopping) {
  const auto images = at::rand({32, 1, 8, 8}) * 2 - 1;
  prior::PriorTrainingOptions o;
  o.loop = {.steps = 6, .log_every = 1, .checkpoint_every = 3};
  o.batch_size = 4;
  const auto make = [&] { return prior::PriorTrainer(tiny_unet(), schedules::SqrtLinear(), {}, o, images, 11, c10::kCPU); };
  const auto read = [](const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  // The log agrees on steps and losses (its last column is wall time).
  const auto without_seconds = [](const std::string& csv) {
    std::string out;
    std::istringstream in(csv);
    for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
    return out;
  };

  const auto straight_dir = davi::testing::temp_dir("trainer_straight");
  auto straight = make();
  const auto whole = train_resumably(straight, o.loop, straight_dir, 5, "straight");
  EXPECT_EQ(whole.steps, 6);
  EXPECT_FALSE(whole.resumed);
  EXPECT_TRUE(straight.finished());

  // Stop after 3 steps (a checkpoint), then a fresh trainer continues from the file.
  const auto dir = davi::testing::temp_dir("trainer_resumed");
  auto first = make();
  train_resumably(first, {.steps = 3, .log_every = 1, .checkpoint_every = 3}, dir, 5, "first");
  auto resumed = make();
  const auto rest = train_resumably(resumed, o.loop, dir, 5, "resumed");
  EXPECT_TRUE(rest.resumed);
  EXPECT_EQ(resumed.step(), 6);
  const auto x = at::randn({1, 1, 8, 8});
  const auto t = at::tensor({10}, at::kLong);
  EXPECT_TRUE(resumed.ema_prior().eps(x, t).equal(straight.ema_prior().eps(x, t)));
  const auto log = read(dir / "train_log.csv");
  EXPECT_EQ(log.substr(0, log.find('\n')), "step,dsm_loss,seconds");
  EXPECT_EQ(without_seconds(log), without_seconds(read(straight_dir / "train_log.csv")));

  std::ofstream(dir / "train_state.pt") << "not a checkpoint";
  auto broken = make();
  EXPECT_DAVI_ERROR(train_resumably(broken, o.loop, dir, 5, "broken"), "not a sealed davi training state");
}

/// A trainer whose state is one number fed by the batch stream; it can raise SIGINT or report NaN at a step.
struct CountingTrainer {
  std::int64_t count = 0;
  double value = 0;
  std::int64_t raise_at = -1, nan_from = -1;
  std::int64_t step() const { return count; }
  c10::Device device() const { return c10::kCPU; }
  LossRow train_step(Rng& batches) {
    ++count;
    value += batches.randint(0, 100, {1}).item<double>();
    if (count == raise_at) ::raise(SIGINT);
    const double loss = nan_from > 0 && count >= nan_from ? std::nan("") : value;
    return {{"loss", at::scalar_tensor(loss, at::kDouble)}};
  }
  void save(torch::serialize::OutputArchive& a) {
    a.write("count", at::tensor(count));
    a.write("value", at::tensor(value, at::kDouble));
  }
  void load(torch::serialize::InputArchive& a) {
    at::Tensor c, v;
    a.read("count", c);
    a.read("value", v);
    count = c.item<std::int64_t>();
    value = v.item<double>();
  }
};

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(TrainingLoop, CheckpointsAreSealedAgainstDamageAndAgainstAnotherRunsState) {
  const auto dir = davi::testing::temp_dir("loop_sealed");
  const TrainingLoopOptions o{.steps = 4, .log_every = 1, .checkpoint_every = 2};
  CountingTrainer first;
  train_resumably(first, {.steps = 2, .log_every = 1, .checkpoint_every = 2}, dir, 1, "first", "run_a");
  const auto state = dir / "train_state.pt";
  const auto sealed = file_text(state);
  CountingTrainer other_run;
  EXPECT_DAVI_ERROR(train_resumably(other_run, o, dir, 1, "b", "run_b"), "the training state of another run (run_a, not run_b)");
  auto flipped = sealed;
  for (std::size_t i = sealed.size() / 2; i < sealed.size() / 2 + 64; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  std::ofstream(state, std::ios::binary) << flipped;
  CountingTrainer damaged;
  EXPECT_DAVI_ERROR(train_resumably(damaged, o, dir, 1, "a", "run_a"), "a damaged training state (its CRC-32 does not match)");
  std::ofstream(state, std::ios::binary) << sealed.substr(0, sealed.size() - 100);
  EXPECT_DAVI_ERROR(train_resumably(damaged, o, dir, 1, "a", "run_a"), "a truncated training state");
  std::ofstream(state, std::ios::binary) << sealed;
  CountingTrainer resumed;
  EXPECT_TRUE(train_resumably(resumed, o, dir, 1, "a", "run_a").resumed);
  EXPECT_EQ(resumed.count, 4);
  // A killed write leaves name.tmp.<pid>: removed when no process of that id lives.
  std::ofstream(dir / "train_state.pt.tmp.999999999") << "partial";
  std::ofstream(dir / ("train_state.pt.tmp." + std::to_string(::getpid()))) << "ours";
  EXPECT_EQ(remove_stale_temporaries(dir), 1);
  EXPECT_TRUE(std::filesystem::exists(dir / ("train_state.pt.tmp." + std::to_string(::getpid()))));
}

TEST(TrainingLoop, ANonFiniteLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint) {
  const auto dir = davi::testing::temp_dir("loop_nan");
  CountingTrainer diverging;
  diverging.nan_from = 5;
  EXPECT_DAVI_ERROR(train_resumably(diverging, {.steps = 10, .log_every = 1, .checkpoint_every = 2}, dir, 1, "toy"),
                    "toy: step 5: loss is nan (the mean of steps 5 to 5); stopped; train_state.pt of step 4 is kept");
  CountingTrainer again;
  train_resumably(again, {.steps = 10, .log_every = 1, .checkpoint_every = 2}, dir, 1, "toy");
  EXPECT_EQ(again.count, 10);  // resumed from step 4 and finished
  const auto log = file_text(dir / "train_log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 11);  // header and steps 1 to 10, no row of the NaN step
}

TEST(TrainingLoop, ASignalSavesTheCurrentStepAndTheResumedRunMatchesOneThatNeverStopped) {
  const TrainingLoopOptions o{.steps = 8, .log_every = 2, .checkpoint_every = 4};
  const auto straight_dir = davi::testing::temp_dir("loop_straight");
  CountingTrainer straight;
  train_resumably(straight, o, straight_dir, 3, "straight");

  const auto dir = davi::testing::temp_dir("loop_signal");
  CountingTrainer interrupted;
  interrupted.raise_at = 3;  // between log rows and checkpoints: the partial sums of row 4 must survive
  try {
    train_resumably(interrupted, o, dir, 3, "toy");
    ADD_FAILURE() << "expected Interrupted";
  } catch (const Interrupted& e) {
    EXPECT_EQ(e.signal, SIGINT);
    EXPECT_EQ(std::string(e.what()), "toy: SIGINT at step 3; the state is saved in " + (dir / "train_state.pt").string() +
                                         "; rerun to resume");
  }
  CountingTrainer resumed;
  train_resumably(resumed, o, dir, 3, "toy");
  EXPECT_EQ(resumed.value, straight.value);
  const auto without_seconds = [](const std::string& csv) {
    std::string out;
    std::istringstream in(csv);
    for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
    return out;
  };
  EXPECT_EQ(without_seconds(file_text(dir / "train_log.csv")), without_seconds(file_text(straight_dir / "train_log.csv")));
  // Outside training the signal keeps its usual disposition.
  struct sigaction now {};
  ::sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(TrainingLoop, ChecksItsOptions) {
  EXPECT_DAVI_ERROR(validate(TrainingLoopOptions{.steps = 0}, "training"), "training.steps: expected a value >= 1, got 0");
  EXPECT_DAVI_ERROR(validate(TrainingLoopOptions{.steps = 10, .log_every = 4, .checkpoint_every = 6}, "method.training"),
                    "method.training.checkpoint_every: expected a positive multiple of log_every (4), got 6");
  EXPECT_NO_THROW(validate(TrainingLoopOptions{.steps = 10, .log_every = 2, .checkpoint_every = 6}, "training"));
}

}  // namespace
