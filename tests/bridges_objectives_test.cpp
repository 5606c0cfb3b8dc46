// Bridges and divergences against the values tabulated in reference/davi-method.md (computed there
// from the sqrt_linear schedule), and their sampling distributions.
#include <torch/torch.h>

#include <cmath>

#include "davi/bridges/bridges.hpp"
#include "davi/objectives/objectives.hpp"
#include "davi/schedules/schedules.hpp"
#include "test_helpers.hpp"

using namespace davi;

namespace {

at::Tensor at_time(int64_t t) { return at::tensor({t}, at::kLong); }

TEST(BridgeCoefficients, ReproduceTheReferenceTable) {
  const bridges::BridgeCoefficients c{schedules::SqrtLinear()};
  EXPECT_NEAR(c.sigma_f(at_time(999)).item<double>(), 1.4813, 0.00005);
  // t', mu0, sigma_f, 1 - alpha_bar (section 3.5), printed there with three decimals; we compute
  // mu0(750) = 0.0895 where the table prints 0.090, so the tolerance is one unit of the last digit.
  const double table[][4] = {{0, 1.000, 0.010, 0.0001}, {250, 0.910, 0.445, 0.180}, {500, 0.499, 1.050, 0.669},
                             {600, 0.281, 1.257, 0.833}, {750, 0.090, 1.414, 0.962}, {900, 0.013, 1.472, 0.995}};
  for (const auto& row : table) {
    const auto t = at_time(static_cast<int64_t>(row[0]));
    EXPECT_NEAR(c.mu0(t).item<double>(), row[1], 0.001) << "mu0 at " << row[0];
    EXPECT_NEAR(c.sigma_f(t).item<double>(), row[2], 0.001) << "sigma_f at " << row[0];
    EXPECT_NEAR(c.one_minus_alpha_bar(t).item<double>(), row[3], 0.001) << "1 - alpha_bar at " << row[0];
  }
  EXPECT_NEAR(c.mu0(at_time(999)).item<double>(), 0.00005, 0.000005);
  EXPECT_NEAR(c.one_minus_alpha_bar(at_time(999)).item<double>(), 0.99927, 0.000005);
  // mu0 + mu1 = 1 everywhere.
  const auto all = at::arange(1000, at::kLong);
  EXPECT_LT((c.mu0(all) + c.mu1(all) - 1).abs().max().item<double>(), 1e-6);
}

TEST(Ppb, BridgeTimesFollowBetaThreeOne) {
  const bridges::Ppb ppb({}, schedules::SqrtLinear());
  Rng rng(1);
  const auto t = ppb.sample_times(400000, rng).to(at::kDouble);
  // P(t' <= k) = ((k + 1.5) / 1000)^3 (section 3.4); 4e5 draws give a standard error below 8e-4.
  for (int k : {99, 249, 499, 749, 899, 989}) {
    const double expected = std::pow((k + 1.5) / 1000.0, 3);
    EXPECT_NEAR((t <= k).to(at::kDouble).mean().item<double>(), expected, 0.003) << "k = " << k;
  }
  EXPECT_GE(t.min().item<double>(), 0);
  EXPECT_EQ(t.max().item<double>(), 999);
  // t' = 999 exactly when a >= 0.9995: probability 1 - 0.9995^3 = 0.0015 (standard error 6e-5 here).
  EXPECT_NEAR((t == 999).to(at::kDouble).mean().item<double>(), 1 - std::pow(0.9995, 3), 0.0003);
}

TEST(Ppb, TrainInputMixesCleanImageMeasurementAndNoise) {
  const bridges::Ppb ppb({.h = 0.5}, schedules::SqrtLinear());
  const bridges::BridgeCoefficients& c = ppb.coefficients();
  Rng rng(2), replay(2);
  const auto x0 = at::full({5000, 1, 2, 2}, 1.0), y = at::full({5000, 1, 2, 2}, -1.0);
  const auto input = ppb.train_input(x0, y, rng);
  // Replaying the same stream gives the same times and noise.
  const auto t = ppb.sample_times(5000, replay);
  EXPECT_TRUE(t.equal(input.t));
  const auto z = replay.randn({5000, 1, 2, 2});
  const auto expected = bridges::per_sample(c.mu0(t) - c.mu1(t)) + 0.5 * bridges::per_sample(c.one_minus_alpha_bar(t)) * z;
  EXPECT_LT((input.x_in - expected).abs().max().item<double>(), 1e-6);
}

TEST(Bridges, InferenceInputIsTheMeasurementEndForBoth) {
  const auto schedule = schedules::SqrtLinear();
  const bridges::Ppb ppb({.h = 0.1}, schedule);
  const bridges::None none({.h = 0.1}, schedule);
  const auto y = at::zeros({20000, 1, 2, 2});
  Rng a(3), b(3);
  const auto from_ppb = ppb.test_input(y, a), from_none = none.test_input(y, b);
  EXPECT_TRUE(from_ppb.x_in.equal(from_none.x_in));
  EXPECT_TRUE((from_ppb.t == 999).all().item<bool>());
  EXPECT_NEAR(from_ppb.x_in.std().item<double>(), 0.1 * 0.99927, 0.001);
  // No bridge in training: always t' = T-1 and y + h z.
  Rng c(4);
  const auto train = none.train_input(at::ones({20000, 1, 2, 2}), y, c);
  EXPECT_TRUE((train.t == 999).all().item<bool>());
  EXPECT_NEAR(train.x_in.mean().item<double>(), 0.0, 0.003);
  EXPECT_NEAR(train.x_in.std().item<double>(), 0.1, 0.001);
  EXPECT_DAVI_ERROR(bridges::Ppb({.h = -1}, schedule), "ppb.h: expected a value >= 0, got -1");
}

TEST(Divergences, IklDrawsUniformTimesAndKlOneTime) {
  const auto schedule = schedules::SqrtLinear();
  const objectives::Ikl ikl({.t_max = 400}, schedule);
  Rng rng(5);
  const auto t = ikl.sample_times(100000, rng);
  EXPECT_EQ(t.min().item<int64_t>(), 0);
  EXPECT_EQ(t.max().item<int64_t>(), 399);
  EXPECT_NEAR(t.to(at::kDouble).mean().item<double>(), 199.5, 1.0);  // sd of the mean: 0.37
  EXPECT_TRUE((ikl.weight(t) == 1).all().item<bool>());
  const objectives::Ikl sigma_weighted({.t_max = 400, .weighting = "sigma"}, schedule);
  EXPECT_NEAR(sigma_weighted.weight(at_time(399)).item<double>(), std::sqrt(1 - 0.539), 0.001);
  const objectives::Kl kl({}, schedule);
  EXPECT_TRUE((kl.sample_times(10, rng) == 0).all().item<bool>());
  EXPECT_DAVI_ERROR(objectives::Ikl({.t_max = 0}, schedule), "ikl.t_max: expected a value >= 1, got 0");
  // A bound only the schedule knows: an OptionError naming the option, which the runner puts under its path.
  try {
    objectives::Ikl({.t_max = 1001}, schedule);
    ADD_FAILURE() << "t_max beyond the schedule was accepted";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.key, "t_max");
    EXPECT_STREQ(e.what(), "t_max: expected a value in [1, 1000] (the schedule's steps), got 1001");
  }
  EXPECT_DAVI_ERROR(objectives::Ikl({.weighting = "snr"}, schedule), "expected one of: one, sigma");
  static_assert(Divergence<objectives::Ikl> && Divergence<objectives::Kl>);
  static_assert(Bridge<bridges::Ppb> && Bridge<bridges::None>);
}

}  // namespace
