// Metrics against exact references: SSIM against a direct evaluation of its definition and against its
// closed form on constant images, the Frechet distance against closed forms for Gaussians, the sample
// statistics on hand-made samples, and the classifier's features and checkpoints.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "davi/core/rng.hpp"
#include "davi/metrics/metrics.hpp"
#include "davi/networks/feature_classifier.hpp"
#include "test_helpers.hpp"

namespace {

using namespace davi;

/// SSIM written out from its definition, one window at a time, in double precision.
double ssim_by_definition(const at::Tensor& a, const at::Tensor& b) {
  const int k = 11;
  const double sigma = 1.5, c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  std::vector<double> w(k * k);
  double total_w = 0;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) total_w += w[i * k + j] = std::exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * sigma * sigma));
  for (auto& v : w) v /= total_w;
  const auto x = ((a.to(at::kDouble) + 1) / 2).contiguous(), y = ((b.to(at::kDouble) + 1) / 2).contiguous();
  const auto X = x.accessor<double, 4>(), Y = y.accessor<double, 4>();
  const int h = static_cast<int>(x.size(2)), wd = static_cast<int>(x.size(3));
  double sum = 0;
  int count = 0;
  for (int r = 0; r + k <= h; ++r) {
    for (int c = 0; c + k <= wd; ++c) {
      double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
      for (int i = 0; i < k; ++i) {
        for (int j = 0; j < k; ++j) {
          const double g = w[i * k + j], p = X[0][0][r + i][c + j], q = Y[0][0][r + i][c + j];
          mx += g * p;
          my += g * q;
          sxx += g * p * p;
          syy += g * q * q;
          sxy += g * p * q;
        }
      }
      const double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
      sum += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      ++count;
    }
  }
  return sum / count;
}

TEST(Ssim, EqualsItsDefinitionWindowByWindow) {
  at::manual_seed(3);
  const auto a = at::rand({1, 1, 16, 19}) * 2 - 1;
  const auto b = (a + 0.6 * at::randn({1, 1, 16, 19})).clamp(-1, 1);
  const double reference = ssim_by_definition(a, b);
  EXPECT_NEAR(metrics::ssim(a, b).item<double>(), reference, 1e-12);
  EXPECT_LT(reference, 0.9);  // the pair is far from identical: the comparison is not trivial
}

TEST(Ssim, KnownValues) {
  const auto x = at::rand({3, 2, 12, 12}) * 2 - 1;
  const auto same = metrics::ssim(x, x);
  ASSERT_EQ(same.sizes(), (at::IntArrayRef{3}));
  EXPECT_TRUE(same.allclose(at::ones({3}, same.options()), 0, 1e-12));
  // Constant images a and b (in [0, 1]): no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1).
  const double a = 0.2, b = 0.7, c1 = 1e-4;
  const auto ca = at::full({1, 1, 11, 11}, 2 * a - 1, at::kDouble), cb = at::full({1, 1, 11, 11}, 2 * b - 1, at::kDouble);
  EXPECT_NEAR(metrics::ssim(ca, cb).item<double>(), (2 * a * b + c1) / (a * a + b * b + c1), 1e-12);
  EXPECT_DAVI_ERROR(metrics::ssim(at::zeros({1, 1, 8, 8}), at::zeros({1, 1, 8, 8})), "smaller than the 11 x 11 window");
  EXPECT_DAVI_ERROR(metrics::ssim(at::zeros({1, 1, 12, 12}), at::zeros({1, 1, 12, 13})), "ssim: expected two");
}

TEST(FrechetDistance, MatchesClosedFormsForGaussians) {
  using metrics::Matrix;
  using metrics::Vector;
  // Commuting (diagonal) covariances: |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
  Vector m1(3), m2(3);
  m1 << 1, 0, -2;
  m2 << 0, 0.5, -2;
  const Matrix d1 = Eigen::Vector3d(4, 1, 9).asDiagonal();
  const Matrix d2 = Eigen::Vector3d(1, 1, 16).asDiagonal();
  EXPECT_NEAR(metrics::frechet_distance(m1, d1, m2, d2), 1.25 + 1 + 0 + 1, 1e-12);
  // Non-commuting 2 x 2: tr sqrt(C1^1/2 C2 C1^1/2) = sqrt(tr(C1 C2) + 2 sqrt(det C1 det C2)).
  Matrix c1(2, 2), c2(2, 2);
  c1 << 2, 0.7, 0.7, 1;
  c2 << 1, -0.4, -0.4, 3;
  const double cross = std::sqrt((c1 * c2).trace() + 2 * std::sqrt(c1.determinant() * c2.determinant()));
  Vector z = Vector::Zero(2);
  EXPECT_NEAR(metrics::frechet_distance(z, c1, z, c2), c1.trace() + c2.trace() - 2 * cross, 1e-12);
  EXPECT_NEAR(metrics::frechet_distance(z, c1, z, c1), 0, 1e-12);
  EXPECT_DAVI_ERROR(metrics::frechet_distance(z, c1, m1, d1), "frechet_distance: dimensions differ");
}

TEST(FrechetDistance, FromFeatureSamples) {
  // Feature sets drawn from N(0, I) and N(m, 4 I) in 4 dimensions: d^2 = |m|^2 + 4 (2 - 1)^2 = |m|^2 + 4.
  at::manual_seed(0);
  const auto a = at::randn({40000, 4}, at::kDouble);
  const auto m = at::tensor({0.5, -1.0, 0.0, 2.0}, at::kDouble);
  const auto b = at::randn({40000, 4}, at::kDouble) * 2 + m;
  EXPECT_NEAR(metrics::frechet_distance(a, b), m.square().sum().item<double>() + 4.0, 0.1);
  EXPECT_NEAR(metrics::frechet_distance(a, a), 0.0, 1e-9);
  const auto fit = metrics::fit_gaussian(at::tensor({1.0, 3.0}, at::kDouble).reshape({2, 1}));
  EXPECT_DOUBLE_EQ(fit.mean(0), 2.0);
  EXPECT_DOUBLE_EQ(fit.covariance(0, 0), 2.0);  // unbiased: ((1-2)^2 + (3-2)^2) / 1
  EXPECT_DAVI_ERROR(metrics::fit_gaussian(at::zeros({1, 3})), "with N >= 2");
}

TEST(SampleStatistics, DiversityAndConsistencyOnHandMadeSamples) {
  // Two samples per measurement differing by d everywhere: unbiased std = d / sqrt(2).
  auto samples = at::zeros({2, 2, 1, 3, 3}, at::kDouble);
  samples.select(1, 1).fill_(0.4);
  samples[1].select(0, 1).fill_(-0.2);
  const auto d = metrics::diversity(samples);
  EXPECT_NEAR(d[0].item<double>(), 0.4 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(d[1].item<double>(), 0.2 / std::sqrt(2.0), 1e-12);
  EXPECT_DAVI_ERROR(metrics::diversity(at::zeros({2, 1, 1, 3, 3})), "S >= 2");
  // Residual 0.05 on 3 of 4 entries and 0 on one: sqrt(3 * 0.0025 / 4).
  const auto y = at::zeros({1, 4}, at::kDouble);
  const auto ax = at::tensor({0.05, -0.05, 0.05, 0.0}, at::kDouble).reshape({1, 4});
  EXPECT_NEAR(metrics::consistency(y, ax).item<double>(), std::sqrt(0.0075 / 4), 1e-15);
  EXPECT_DAVI_ERROR(metrics::consistency(y, at::zeros({1, 3})), "consistency: shapes differ");
}

networks::FeatureClassifier tiny_classifier() {
  return with_global_seed(4, [] {
    networks::FeatureClassifierOptions o;
    o.channels = 4;
    o.embedding = 8;
    return networks::FeatureClassifier(o);
  });
}

TEST(FeatureClassifier, FeaturesShapesAndCheckpoints) {
  auto net = tiny_classifier();
  net->eval();
  const auto x = at::rand({3, 1, 28, 28}) * 2 - 1;
  const auto f = net->features(x);
  ASSERT_EQ(f.blocks.size(), 2u);
  EXPECT_EQ(f.blocks[0].sizes(), (at::IntArrayRef{3, 4, 28, 28}));
  EXPECT_EQ(f.blocks[1].sizes(), (at::IntArrayRef{3, 8, 14, 14}));
  EXPECT_EQ(f.embedding.sizes(), (at::IntArrayRef{3, 8}));
  EXPECT_EQ(f.logits.sizes(), (at::IntArrayRef{3, 10}));
  const auto dir = davi::testing::temp_dir("classifier");
  networks::save_feature_classifier(net, dir / "c.pt");
  auto loaded = networks::load_feature_classifier(dir / "c.pt", c10::kCPU);
  EXPECT_EQ(loaded->options().channels, 4);
  EXPECT_TRUE(loaded->forward(x).equal(net->forward(x)));
  EXPECT_DAVI_ERROR(networks::load_feature_classifier(dir / "absent.pt", c10::kCPU), "feature classifier not found");
  std::ofstream(dir / "bad.pt") << "not a checkpoint";
  EXPECT_DAVI_ERROR(networks::load_feature_classifier(dir / "bad.pt", c10::kCPU), "not a readable davi feature classifier");
}

TEST(ClassifierFeatureDistance, IsZeroForEqualImagesSymmetricAndBounded) {
  auto net = tiny_classifier();
  net->eval();
  const auto a = at::rand({4, 1, 28, 28}) * 2 - 1, b = at::rand({4, 1, 28, 28}) * 2 - 1;
  const auto same = metrics::classifier_feature_distance(net, a, a);
  EXPECT_LT(same.abs().max().item<double>(), 1e-12);
  const auto ab = metrics::classifier_feature_distance(net, a, b), ba = metrics::classifier_feature_distance(net, b, a);
  EXPECT_TRUE(ab.allclose(ba, 1e-6, 1e-9));
  EXPECT_GT(ab.min().item<double>(), 0.0);
  EXPECT_LE(ab.max().item<double>(), 4.0);
  // Closer images are closer in features: a slightly perturbed copy beats an unrelated image.
  const auto near = metrics::classifier_feature_distance(net, (a + 0.05 * at::randn_like(a)).clamp(-1, 1), a);
  EXPECT_TRUE((near < ab).all().item<bool>());
}

TEST(Bootstrap, PercentileIntervalsAndTheirCoverage) {
  // Order statistics of 0..100: the central 90% is [5, 95]; between order statistics, linear interpolation.
  std::vector<double> hundred(101);
  for (int i = 0; i <= 100; ++i) hundred[static_cast<std::size_t>(i)] = 100 - i;
  const auto ninety = metrics::percentile_interval(hundred, 0.9);
  EXPECT_DOUBLE_EQ(ninety.low, 5.0);
  EXPECT_DOUBLE_EQ(ninety.high, 95.0);
  const auto half = metrics::percentile_interval({0.0, 1.0}, 0.5);
  EXPECT_DOUBLE_EQ(half.low, 0.25);
  EXPECT_DOUBLE_EQ(half.high, 0.75);
  EXPECT_TRUE(std::isnan(metrics::percentile_interval({1.0, NAN}, 0.9).low));

  // The mean of 400 draws of N(0, 1): the 95% interval has about the normal theory's width
  // 2 x 1.96 / sqrt(400) = 0.196 (stated tolerance 15%) and holds the sample mean.
  Rng rng(7);
  const auto values = rng.randn({400}, at::kDouble);
  const auto resamples = metrics::bootstrap_indices(400, 2000, 8);
  const auto interval = metrics::bootstrap_mean_interval(values, resamples, 0.95);
  const double mean = values.mean().item<double>();
  EXPECT_LT(interval.low, mean);
  EXPECT_GT(interval.high, mean);
  const double sd = values.std().item<double>();
  EXPECT_NEAR(interval.high - interval.low, 2 * 1.96 * sd / 20, 0.15 * 2 * 1.96 * sd / 20);
  // A statistic whose every resample is biased by +1 gets the same interval as the unbiased mean's
  // resamples, centred on the estimate: the bias of resampling is removed, the spread kept.
  const auto mean_of = [&](const at::Tensor& rows) { return values.index_select(0, rows).mean().item<double>(); };
  const auto biased = metrics::bootstrap_interval([&](const at::Tensor& rows) { return mean_of(rows) + 1; },
                                                  resamples, 0.95, mean);
  const auto plain = metrics::bootstrap_interval(mean_of, resamples, 0.95, mean);
  EXPECT_NEAR(biased.low, plain.low, 1e-12);
  EXPECT_NEAR(biased.high, plain.high, 1e-12);
  EXPECT_NEAR(plain.high - plain.low, interval.high - interval.low, 1e-12);
  EXPECT_LT(biased.low, mean);
  EXPECT_GT(biased.high, mean);
  // Same seed, same resamples: intervals are reproducible.
  EXPECT_TRUE(metrics::bootstrap_indices(400, 2000, 8).equal(resamples));

  // Coverage: over 200 independent data sets, the 90% interval holds the true mean 0 about 90% of the time
  // (stated band: 80% to 97%, a binomial 200 x 0.9 is within it with probability > 0.999).
  int covered = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const auto draws = rng.randn({100}, at::kDouble);
    const auto iv = metrics::bootstrap_mean_interval(draws, metrics::bootstrap_indices(100, 500, 100 + trial), 0.9);
    covered += iv.low <= 0.0 && 0.0 <= iv.high;
  }
  EXPECT_GE(covered, 160);
  EXPECT_LE(covered, 194);
}

TEST(Bootstrap, TheFrechetDistanceOnAResampleIsTheDistanceOfTheResampledFeatures) {
  auto net = tiny_classifier();
  net->eval();
  Rng rng(9);
  const auto truth = rng.rand({12, 1, 28, 28}) * 2 - 1, samples = rng.rand({12, 1, 1, 28, 28}) * 2 - 1;
  metrics::ClassifierFrechetDistance frechet;
  frechet.add({samples.narrow(0, 0, 5), truth.narrow(0, 0, 5), {}, nullptr, net});
  frechet.add({samples.narrow(0, 5, 7), truth.narrow(0, 5, 7), {}, nullptr, net});
  EXPECT_DOUBLE_EQ(frechet.value(at::arange(12)), frechet.value());
  const auto rows = at::tensor({0, 0, 3, 7, 11, 11, 11, 2}, at::kLong);
  torch::NoGradGuard no_grad;
  const auto features_of = [&](const at::Tensor& x) { return net->features(x).embedding; };
  EXPECT_NEAR(frechet.value(rows),
              metrics::frechet_distance(features_of(samples.select(1, 0).index_select(0, rows)),
                                        features_of(truth.index_select(0, rows))),
              1e-6 * frechet.value(rows));  // batches of 5 and 7 vs 8: float rounding of the features only
}

}  // namespace
