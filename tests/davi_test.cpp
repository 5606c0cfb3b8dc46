// DAVI on the Gaussian toy problem, where the true posterior is known in closed form; the EMA schedule;
// save and resume of the whole training state.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "davi/amortized/davi.hpp"
#include "davi/bridges/bridges.hpp"
#include "davi/metrics/frechet_distance.hpp"
#include "davi/networks/time_mlp.hpp"
#include "davi/objectives/objectives.hpp"
#include "davi/operators/box_inpainting.hpp"
#include "davi/schedules/sqrt_linear.hpp"
#include "gaussian_toy.hpp"
#include "test_helpers.hpp"

using namespace davi;
using davi::testing::GaussianToy;

namespace {

constexpr double kSigmaY = 0.1;

/// The toy's "pretrained prior network": a TimeMlp fitted by DSM to the closed-form prior, so the
/// generator and the fake score start from a network that already knows the prior (as DAVI's do).
networks::TimeMlp fit_prior_network(const GaussianToy& toy, int steps) {
  auto net = with_global_seed(1, [] { return networks::TimeMlp(networks::TimeMlpOptions{}); });
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(2e-3));
  const auto schedule = schedules::SqrtLinear();
  Rng rng(2);
  for (int i = 0; i < steps; ++i) {
    const auto x0 = toy.draw(512, rng).to(at::kFloat);
    auto loss = prior::dsm_loss([&](const auto& x, const auto& t) { return net->forward(x, t); }, schedule, x0, rng);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  return net;
}

struct ToyResult {
  double mean_error;       // RMS over held-out y of |sample mean - posterior mean|
  double lift_error;       // the same for the lifted measurement y, for scale
  double variance_ratio;   // mean sample variance / mean posterior variance (per pixel)
};

/// Compares n samples per measurement (N x n x 4) with the closed-form posterior.
ToyResult compare(const at::Tensor& samples, const at::Tensor& lifted, const GaussianToy::Posterior& posterior) {
  const auto rms = [&](const at::Tensor& estimate) {
    return (estimate - posterior.mean).square().sum(1).mean().sqrt().item<double>();
  };
  return {rms(samples.mean(1)), rms(lifted),
          samples.var(1).mean().item<double>() / at::diagonal(posterior.covariance).mean().item<double>()};
}

/// Fitted once per process (1500 steps): every toy DAVI clones it, so all start from the same weights.
networks::TimeMlp& pretrained_prior_network(const GaussianToy& toy) {
  static networks::TimeMlp net = fit_prior_network(toy, 1500);
  return net;
}

/// The toy's optimisation: learning rates 1e-3, a fast EMA, and the given weights of the data terms.
amortized::DaviOptions toy_options(double lambda_con, double lambda_reg) {
  amortized::DaviOptions options;
  options.adversarial = false;  // the MLP generator has no last output layer for the adaptive weight
  options.lr = 1e-3;
  options.score_lr = 1e-3;
  options.lambda_con = lambda_con;
  options.lambda_reg = lambda_reg;
  options.ema = {.beta = 0.99, .update_every = 1, .update_after_step = 100};
  return options;
}

/// DAVI for one-pixel box inpainting of the toy at sigma_y = kSigmaY, its teacher the closed-form prior,
/// its generator and fake score starting from the pretrained prior network; trained `steps` steps of
/// batch 256 on prior draws.
template <class Divergence, class Bridge>
auto train_toy_davi(const GaussianToy& toy, const amortized::DaviOptions& options,
                    const typename Divergence::Options& divergence_options,
                    const typename Bridge::Options& bridge_options, int steps) {
  const auto teacher = toy.prior();
  const operators::BoxInpainting op({.box_size = 1}, {1, 2, 2});
  using Toy = amortized::Davi<operators::BoxInpainting, Divergence, Bridge, networks::TimeMlp>;
  Toy davi(op, operators::GaussianNoise({.sigma_y = kSigmaY}),
           [teacher](const at::Tensor& x, const at::Tensor& t) { return teacher.eps(x, t); }, teacher.schedule(),
           pretrained_prior_network(toy), options, divergence_options, bridge_options, 3);
  Rng data(4);
  for (int i = 0; i < steps; ++i) davi.train_step(toy.draw(256, data).to(at::kFloat));
  return davi;
}

template <class Divergence>
ToyResult run_toy(const typename Divergence::Options& divergence_options, int steps) {
  const GaussianToy toy;
  // The official FFHQ box-inpainting weights (reference/davi-method.md, section 4.5).
  const auto options = toy_options(0.5, 1.0);
  auto davi = train_toy_davi<Divergence, bridges::Ppb>(toy, options, divergence_options, {.h = 0.1}, steps);
  const operators::BoxInpainting op({.box_size = 1}, {1, 2, 2});

  // Held-out measurements from a separate stream.
  Rng eval(5);
  const auto x0 = toy.draw(200, eval).to(at::kFloat);
  const at::Tensor y = davi.measure(x0, eval);
  const auto posterior = toy.posterior(y, op.mask().reshape({4}), kSigmaY);
  const at::Tensor samples = davi.sample(y, 256, eval).to(at::kDouble).reshape({200, 256, 4});
  return compare(samples, op.lift(y).to(at::kDouble).reshape({200, 4}), posterior);
}

// Box inpainting of one pixel of a 2 x 2 Gaussian image, sigma_y = 0.1, official FFHQ inpainting
// weights, 3000 steps of batch 256. Measured on this project's CPU machine: IKL mean error 0.061,
// KL 0.064 (the lifted measurement: 0.460; the hole's posterior sd: 0.480); sample variance 0.11 of
// the posterior's. DAVI under-disperses: its only randomness is h z with h = 0.1, and the fake score
// models the aggregate of q over all y, so nothing asks for the per-y spread.
TEST(DaviGaussianToy, IklRecoversThePosteriorMean) {
  const int steps = 3000;
  const auto ikl = run_toy<objectives::Ikl>({.t_max = 1000}, steps);
  const auto kl = run_toy<objectives::Kl>({.time = 0}, steps);
  std::printf("toy: RMS error of the sample mean vs the true posterior mean: IKL %.4f, KL %.4f, lifted y %.4f; "
              "sample variance / posterior variance: IKL %.3f, KL %.3f\n",
              ikl.mean_error, kl.mean_error, ikl.lift_error, ikl.variance_ratio, kl.variance_ratio);
  RecordProperty("ikl_mean_error", std::to_string(ikl.mean_error));
  RecordProperty("kl_mean_error", std::to_string(kl.mean_error));
  // Stated tolerance: within 0.1 RMS of the posterior mean, and 4x closer than the lifted measurement.
  EXPECT_LT(ikl.mean_error, 0.1);
  EXPECT_LT(ikl.mean_error, 0.25 * ikl.lift_error);
  // Stated factor: the sample variance lies between 1/20 and 1/2 of the posterior's.
  EXPECT_GT(ikl.variance_ratio, 0.05);
  EXPECT_LT(ikl.variance_ratio, 0.5);
  // KL (one time, t = 0) on the same problem, for comparison: here it does about as well.
  EXPECT_LT(kl.mean_error, 0.1);
}

/// The negative control of the divergence test: IKL with its surrogate's sign flipped, so phi ascends the
/// divergence the real IKL descends.
struct AscendingIkl : objectives::Ikl {
  static constexpr std::string_view name = "ascending_ikl";
  using objectives::Ikl::Ikl;
  at::Tensor surrogate(const at::Tensor& x_hat, const EpsilonFunction& teacher, const EpsilonFunction& fake_score,
                       const schedules::DiscreteSchedule& schedule, Rng& rng) const {
    return -objectives::Ikl::surrogate(x_hat, teacher, fake_score, schedule, rng);
  }
};

/// How far the generator's aggregate q(x) = E_y q(x | y) is from the prior N(mu, Sigma): the aggregate is a
/// Gaussian fit to one sample for each of 4000 held-out measurements.
struct AggregateGap {
  double mean;        // |mean_q - mu|
  double covariance;  // |Cov_q - Sigma| (Frobenius)
  double frechet;     // squared Frechet distance between the fit and the prior, in closed form
};

template <class Generator>
AggregateGap aggregate_gap_to_prior(Generator& davi, const GaussianToy& toy) {
  Rng eval(5);
  const auto y = davi.measure(toy.draw(4000, eval).to(at::kFloat), eval);
  const auto fit = metrics::fit_gaussian(davi.sample(y, 1, eval).reshape({4000, 4}));
  const auto mean = toy.mean.reshape({4}).contiguous();
  const auto cov = toy.covariance.contiguous();
  const Eigen::Map<const Eigen::VectorXd> mu(mean.data_ptr<double>(), 4);
  const metrics::Matrix sigma = Eigen::Map<const Eigen::Matrix<double, 4, 4, Eigen::RowMajor>>(cov.data_ptr<double>());
  return {(fit.mean - mu).norm(), (fit.covariance - sigma).norm(),
          metrics::frechet_distance(fit.mean, fit.covariance, mu, sigma)};
}

// The divergence term alone (lambda_con = lambda_reg = 0, no bridge, h = 0.5): nothing but IKL ties the
// generator to anything, and IKL's fixed point is an aggregate equal to the prior. The untrained generator
// (the prior's network applied once to y_lift + 0.5 z) has an aggregate far from the prior. IKL must
// bring the aggregate's Gaussian fit closer to the prior; the same training with the surrogate's sign
// flipped must move it away. Measured here (1000 steps): see the printed line.
TEST(DaviGaussianToy, IklAloneMovesTheAggregateTowardThePriorAndItsNegationAway) {
  const GaussianToy toy;
  const auto options = toy_options(0, 0);
  const bridges::None::Options no_bridge{.h = 0.5};
  auto untrained = train_toy_davi<objectives::Ikl, bridges::None>(toy, options, {.t_max = 1000}, no_bridge, 0);
  auto descending = train_toy_davi<objectives::Ikl, bridges::None>(toy, options, {.t_max = 1000}, no_bridge, 1000);
  auto ascending = train_toy_davi<AscendingIkl, bridges::None>(toy, options, {.t_max = 1000}, no_bridge, 1000);
  const auto before = aggregate_gap_to_prior(untrained, toy);
  const auto ikl = aggregate_gap_to_prior(descending, toy);
  const auto flipped = aggregate_gap_to_prior(ascending, toy);
  std::printf("toy, IKL alone: the aggregate's distance to the prior (mean | covariance | squared Frechet): "
              "untrained %.4f | %.4f | %.4f; IKL %.4f | %.4f | %.4f; sign-flipped IKL %.4f | %.4f | %.4f\n",
              before.mean, before.covariance, before.frechet, ikl.mean, ikl.covariance, ikl.frechet, flipped.mean,
              flipped.covariance, flipped.frechet);
  // Stated tolerances: IKL at least halves each distance (measured: divides them by 50, 10 and 280); the
  // flipped surrogate at least doubles the mean's and the Frechet distance (measured: x6, x17) and widens
  // the covariance's (measured: 0.36 -> 0.42, the same at 500 steps: the samples pile up at one edge of
  // tanh's range).
  EXPECT_LT(ikl.mean, 0.5 * before.mean);
  EXPECT_LT(ikl.covariance, 0.5 * before.covariance);
  EXPECT_LT(ikl.frechet, 0.5 * before.frechet);
  EXPECT_GT(flipped.mean, 2.0 * before.mean);
  EXPECT_GT(flipped.frechet, 2.0 * before.frechet);
  EXPECT_GT(flipped.covariance, before.covariance);
}

}  // namespace

namespace {

TEST(Ema, FollowsTheEmaPytorchSchedule) {
  const amortized::Ema ema({.beta = 0.9999, .update_every = 5, .update_after_step = 100});
  EXPECT_EQ(ema.decay_at(50), 0.0);
  EXPECT_EQ(ema.decay_at(101), 0.0);
  EXPECT_NEAR(ema.decay_at(102), 1 - std::pow(2.0, -2.0 / 3.0), 1e-12);
  EXPECT_NEAR(ema.decay_at(100 + 1 + 999), 1 - std::pow(1000.0, -2.0 / 3.0), 1e-12);  // 0.99
  EXPECT_EQ(ema.decay_at(100000000), 0.9999);

  // Copies until update_after_step, then moves a fraction (1 - decay) of the way, every update_every calls.
  torch::nn::Linear online(1, 1), averaged(1, 1);
  amortized::Ema copying({.beta = 0.5, .update_every = 2, .update_after_step = 2});
  const auto set = [](torch::nn::Linear& l, double v) {
    torch::NoGradGuard g;
    for (auto& p : l->parameters()) p.fill_(v);
  };
  set(averaged, 0.0);
  set(online, 1.0);
  copying.update(*averaged, *online);  // call 0: 0 % 2 == 0 and 0 <= 2: copy
  EXPECT_EQ(averaged->weight.item<float>(), 1.0f);
  set(online, 3.0);
  copying.update(*averaged, *online);  // call 1: skipped
  EXPECT_EQ(averaged->weight.item<float>(), 1.0f);
  copying.update(*averaged, *online);  // call 2: still a copy
  EXPECT_EQ(averaged->weight.item<float>(), 3.0f);
  set(online, 5.0);
  copying.update(*averaged, *online);  // call 3: skipped
  copying.update(*averaged, *online);  // call 4: n = 1, decay min(0.5, 1 - 2^(-2/3)) = 0.37
  const double decay = 1 - std::pow(2.0, -2.0 / 3.0);
  EXPECT_NEAR(averaged->weight.item<float>(), decay * 3 + (1 - decay) * 5, 1e-6);
}

using SmallDavi = amortized::Davi<operators::BoxInpainting, objectives::Ikl, bridges::Ppb, networks::TimeMlp>;

SmallDavi small_davi(const GaussianToy& toy, const prior::GaussianPrior& teacher) {
  auto options = toy_options(/*lambda_con=*/1.0, /*lambda_reg=*/0.1);  // DaviOptions' own weights
  options.ema = {.beta = 0.9, .update_every = 1, .update_after_step = 1};
  return SmallDavi(operators::BoxInpainting({.box_size = 1}, {1, 2, 2}), operators::GaussianNoise({.sigma_y = kSigmaY}),
                   [&](const at::Tensor& x, const at::Tensor& t) { return teacher.eps(x, t); }, teacher.schedule(),
                   fit_prior_network(toy, 5), options, {.t_max = 1000}, {.h = 0.1}, 8);
}

TEST(Davi, SamplesAreOnePassPerSampleAndBounded) {
  const GaussianToy toy;
  const auto teacher = toy.prior();
  auto davi = small_davi(toy, teacher);
  Rng rng(1);
  const auto y = davi.measure(toy.draw(3, rng).to(at::kFloat), rng);
  const auto samples = davi.sample(y, 5, rng);
  EXPECT_EQ(samples.sizes().vec(), (std::vector<int64_t>{3, 5, 1, 2, 2}));
  EXPECT_LT(samples.abs().max().item<float>(), 1.0f);  // tanh output
  EXPECT_GT(samples.select(1, 0).sub(samples.select(1, 1)).abs().max().item<float>(), 0.0f) << "z must matter";
  Rng again(1);
  const auto y_again = davi.measure(toy.draw(3, again).to(at::kFloat), again);
  EXPECT_TRUE(davi.sample(y_again, 5, again).equal(samples)) << "same stream, same samples";
}

TEST(Davi, ResumingGivesTheSameRunAsNotStopping) {
  const GaussianToy toy;
  const auto teacher = toy.prior();
  const auto dir = davi::testing::temp_dir("davi_resume");
  Rng data(3);
  std::vector<at::Tensor> batches;
  for (int i = 0; i < 6; ++i) batches.push_back(toy.draw(16, data).to(at::kFloat));

  auto straight = small_davi(toy, teacher);
  std::vector<double> straight_totals;
  for (const auto& b : batches) straight_totals.push_back(straight.train_step(b).total.item<double>());

  auto first = small_davi(toy, teacher);
  for (int i = 0; i < 3; ++i) first.train_step(batches[i]);
  first.save(dir / "state.pt");
  auto resumed = small_davi(toy, teacher);
  ASSERT_TRUE(resumed.resume(dir / "state.pt"));
  EXPECT_EQ(resumed.step(), 3);
  for (int i = 3; i < 6; ++i) EXPECT_DOUBLE_EQ(resumed.train_step(batches[i]).total.item<double>(), straight_totals[i]) << i;
  Rng c(10), a(9), b(9);
  const auto y = straight.measure(batches[0], c);
  EXPECT_TRUE(resumed.sample(y, 4, b).equal(straight.sample(y, 4, a)));

  std::ofstream(dir / "corrupt.pt") << "garbage";
  EXPECT_DAVI_ERROR(resumed.resume(dir / "corrupt.pt"), "not a readable DAVI training state");
  EXPECT_FALSE(resumed.resume(dir / "absent.pt"));
}

}  // namespace

#include "davi/networks/patch_discriminator.hpp"

namespace {

TEST(PatchDiscriminator, HasTheOfficialLayoutAndInitialisation) {
  networks::PatchDiscriminator d(networks::PatchDiscriminatorOptions{.image_channels = 1, .base_channels = 8});
  const auto out = d->forward(at::randn({2, 1, 28, 28}));
  ASSERT_EQ(out.features.size(), 4u);
  // kernel 4, padding 2: 28 -> 15 -> 8 -> 5 (stride 2) -> 6 -> 7 (stride 1).
  EXPECT_EQ(out.features[0].sizes().vec(), (std::vector<int64_t>{2, 8, 15, 15}));
  EXPECT_EQ(out.features[3].sizes().vec(), (std::vector<int64_t>{2, 64, 6, 6}));
  EXPECT_EQ(out.logits.sizes().vec(), (std::vector<int64_t>{2, 1, 7, 7}));
  const auto first = d->named_parameters()["layer1.0.weight"];
  EXPECT_NEAR(first.std().item<double>(), 0.02, 0.004);
}

TEST(Davi, AdaptiveAdversarialWeightIsClipped) {
  const auto weight = [](double gt, double adv) {
    return amortized::adaptive_adversarial_weight(at::scalar_tensor(gt, at::kDouble), at::scalar_tensor(adv, at::kDouble))
        .item<double>();
  };
  EXPECT_DOUBLE_EQ(weight(1.0, 1.0 - 1e-4), 1.0);
  EXPECT_DOUBLE_EQ(weight(1e3, 1.0), 10.0);
  EXPECT_DOUBLE_EQ(weight(0.0, 1.0), 0.01);
}

TEST(Davi, AdversarialTermTrainsAndResumes) {
  const GaussianToy toy;
  const auto teacher = toy.prior();
  const auto dir = davi::testing::temp_dir("davi_adversarial");
  amortized::DaviOptions options;
  options.adversarial = true;
  options.discriminator = {.image_channels = 1, .base_channels = 4};
  const auto make = [&] {
    return SmallDavi(operators::BoxInpainting({.box_size = 1}, {1, 2, 2}), operators::GaussianNoise({.sigma_y = kSigmaY}),
                     [&](const at::Tensor& x, const at::Tensor& t) { return teacher.eps(x, t); }, teacher.schedule(),
                     fit_prior_network(toy, 5), options, {.t_max = 1000}, {.h = 0.1}, 8);
  };
  Rng data(3);
  std::vector<at::Tensor> batches;
  for (int i = 0; i < 4; ++i) batches.push_back(toy.draw(16, data).to(at::kFloat));
  auto straight = make();
  std::vector<amortized::DaviLosses> losses;
  for (const auto& b : batches) losses.push_back(straight.train_step(b));
  for (const auto& l : losses) {
    EXPECT_GT(l.discriminator.item<double>(), 0.0);
    EXPECT_GE(l.adversarial_weight.item<double>(), 0.01);
    EXPECT_LE(l.adversarial_weight.item<double>(), 10.0);
    EXPECT_TRUE(std::isfinite(l.adversarial.item<double>()) && std::isfinite(l.total.item<double>()));
  }
  auto first = make();
  first.train_step(batches[0]);
  first.train_step(batches[1]);
  first.save(dir / "state.pt");
  auto resumed = make();
  ASSERT_TRUE(resumed.resume(dir / "state.pt"));
  for (int i = 2; i < 4; ++i) EXPECT_DOUBLE_EQ(resumed.train_step(batches[i]).total.item<double>(), losses[i].total.item<double>()) << i;
  // A state without a discriminator cannot resume an adversarial run.
  auto plain = small_davi(toy, teacher);
  plain.save(dir / "plain.pt");
  EXPECT_DAVI_ERROR(make().resume(dir / "plain.pt"), "has no discriminator");
}

}  // namespace

namespace {

TEST(Davi, InpaintingRegressionWeighsObservedEntries) {
  const GaussianToy toy;
  const auto teacher = toy.prior();
  amortized::DaviOptions options;
  options.adversarial = false;  // as toy_options
  options.regression = "inpainting";
  options.lambda_reg = 1.0;
  options.lambda_con = 0.0;
  auto davi = SmallDavi(operators::BoxInpainting({.box_size = 1}, {1, 2, 2}), operators::GaussianNoise({.sigma_y = kSigmaY}),
                        [&](const at::Tensor& x, const at::Tensor& t) { return teacher.eps(x, t); }, teacher.schedule(),
                        fit_prior_network(toy, 5), options, {.t_max = 1000}, {.h = 0.1}, 8);
  // The hole is pixel (0, 0). Errors everywhere: 0.1 * 1 + (3 observed entries of 1) / 3 = 1.1.
  const auto x0 = at::ones({1, 1, 2, 2});
  EXPECT_NEAR(davi.regression_term(x0, at::zeros({1, 1, 2, 2})).item<double>(), 1.1, 1e-6);
  // An error in the hole only: 0.1 * 1/4 and nothing from the observed entries.
  auto x_hat = x0.clone();
  x_hat[0][0][0][0] = 0.0;
  EXPECT_NEAR(davi.regression_term(x0, x_hat).item<double>(), 0.025, 1e-6);
  Rng data(3);
  EXPECT_TRUE(std::isfinite(davi.train_step(toy.draw(16, data).to(at::kFloat)).regression.item<double>()));
  options.regression = "partial";
  EXPECT_DAVI_ERROR(SmallDavi(operators::BoxInpainting({.box_size = 1}, {1, 2, 2}), operators::GaussianNoise(),
                              [&](const at::Tensor& x, const at::Tensor& t) { return teacher.eps(x, t); }, teacher.schedule(),
                              fit_prior_network(toy, 1), options, {}, {}, 8),
                    "expected one of: full, inpainting");
}

}  // namespace

#include "davi/davi.hpp"

namespace {

// The README's DAVI example, line for line, with 2 training steps instead of 2000.
TEST(ReadmeExample, DaviFromTheCommittedPrior) {
  const auto root = std::filesystem::path(DAVI_SOURCE_DIR);
  const auto out = davi::testing::temp_dir("readme");
  auto p = prior::load_prior(root / "results/priors/fashion_mnist/prior.pt");
  using Deblur = amortized::Davi<operators::GaussianBlur, objectives::Ikl, bridges::Ppb>;
  auto method = Deblur::from_prior(p, operators::GaussianBlur({.kernel_size = 11, .sigma = 1.5}, {1, 28, 28}),
                                   operators::GaussianNoise({.sigma_y = 0.05}), /*options=*/{},  // + the adversarial term
                                   /*divergence=*/{.t_max = 400}, /*bridge=*/{.h = 0.01}, /*seed=*/0);
  const auto train = data::load_fashion_mnist("train").images;
  for (int step = 0; step < 2; ++step) method.train_step(train.narrow(0, 32 * (step % 1875), 32));
  Rng rng(1);
  const auto y = method.measure(data::load_fashion_mnist("test", 8).images, rng);
  const at::Tensor x_hat = method.sample(y, 4, rng);  // 8 x 4 x 1 x 28 x 28: one network evaluation each
  data::save_image_grid(out / "samples.png", x_hat.reshape({32, 1, 28, 28}), 4);
  EXPECT_EQ(x_hat.sizes().vec(), (std::vector<int64_t>{8, 4, 1, 28, 28}));
  EXPECT_TRUE(std::filesystem::exists(out / "samples.png"));
  EXPECT_LT(x_hat.abs().max().item<float>(), 1.0f);
}

}  // namespace
