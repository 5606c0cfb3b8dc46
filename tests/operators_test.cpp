// Operators: one typed suite over every operator (adjointness, SVD, pseudo-inverse, shapes, batch
// independence, float32), then exact references per operator.
#include <torch/torch.h>

#include "davi/operators/operators.hpp"
#include "test_helpers.hpp"

using namespace davi;
using namespace davi::operators;
using davi::testing::relative_error;

namespace {

// Non-square images catch row/column mix-ups.
template <class Op>
struct Case;
template <>
struct Case<Identity> {
  static Identity make() { return Identity({2, 8, 6}); }
};
template <>
struct Case<GaussianBlur> {
  static GaussianBlur make() { return GaussianBlur({.kernel_size = 5, .sigma = 1.2, .sv_threshold = 0.03}, {2, 8, 6}); }
};
template <>
struct Case<SuperResolution> {
  static SuperResolution make() { return SuperResolution({.factor = 2}, {2, 8, 6}); }
};
template <>
struct Case<BoxInpainting> {
  static BoxInpainting make() { return BoxInpainting({.box_size = 4, .placement = "center"}, {2, 8, 6}); }
};
template <>
struct Case<RandomInpainting> {
  static RandomInpainting make() { return RandomInpainting({.missing_fraction = 0.4, .seed = 3}, {2, 8, 6}); }
};
template <>
struct Case<Colorization> {
  static Colorization make() { return Colorization({3, 8, 6}); }
};

Shape batch_of(std::int64_t n, const Shape& s) {
  Shape out = {n};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

template <class Op>
class OperatorContract : public ::testing::Test {
 protected:
  Op op = Case<Op>::make();
  Rng rng{42};
  at::Tensor image(std::int64_t n = 3) { return rng.randn(batch_of(n, op.image_shape()), at::kDouble); }
  at::Tensor measurement(std::int64_t n = 3) {
    return rng.randn(batch_of(n, op.measurement_shape(op.image_shape())), at::kDouble);
  }
};

using AllOperators =
    ::testing::Types<Identity, GaussianBlur, SuperResolution, BoxInpainting, RandomInpainting, Colorization>;
TYPED_TEST_SUITE(OperatorContract, AllOperators);

TYPED_TEST(OperatorContract, SatisfiesTheSvdTier) {
  static_assert(SvdOperator<TypeParam>);
  static_assert(NamedPolicy<TypeParam>);
}

TYPED_TEST(OperatorContract, AdjointIsExactInDoublePrecision) {
  EXPECT_LT(adjointness_error(this->op, 4, this->rng), 1e-12);
}

TYPED_TEST(OperatorContract, SvdReconstructsTheOperator) {
  const auto x = this->image(), y = this->measurement();
  const auto s = this->op.singular_values().to(at::kDouble);
  EXPECT_LT(relative_error(this->op.U(s * this->op.Vt(x)), this->op.forward(x)), 1e-12);
  EXPECT_LT(relative_error(this->op.V(s * this->op.Ut(y)), this->op.adjoint(y)), 1e-12);
  // V and U are orthogonal: V(Vt(x)) = x and U(Ut(y)) = y.
  EXPECT_LT(relative_error(this->op.V(this->op.Vt(x)), x), 1e-12);
  EXPECT_LT(relative_error(this->op.U(this->op.Ut(y)), y), 1e-12);
  EXPECT_EQ(this->op.Vt(x).size(1), this->op.image_dim());
  EXPECT_EQ(s.size(-1), this->op.image_dim());
}

TYPED_TEST(OperatorContract, PseudoInverseSatisfiesPenroseConditions) {
  const auto x = this->image(), y = this->measurement();
  const auto& op = this->op;
  EXPECT_LT(relative_error(op.forward(op.pinv(op.forward(x))), op.forward(x)), 1e-10);  // A A+ A = A
  EXPECT_LT(relative_error(op.pinv(op.forward(op.pinv(y))), op.pinv(y)), 1e-10);        // A+ A A+ = A+
}

TYPED_TEST(OperatorContract, ShapesFollowMeasurementShape) {
  const auto x = this->image(2);
  const auto m = this->op.measurement_shape(this->op.image_shape());
  EXPECT_EQ(this->op.forward(x).sizes().vec(), batch_of(2, m));
  EXPECT_EQ(this->op.lift(this->op.forward(x)).sizes().vec(), x.sizes().vec());
  EXPECT_EQ(this->op.adjoint(this->op.forward(x)).sizes().vec(), x.sizes().vec());
  EXPECT_DAVI_ERROR(this->op.forward(at::zeros({2, 5, 5, 5}, at::kDouble)), "expected N x ");
  EXPECT_DAVI_ERROR(this->op.measurement_shape({1, 2, 3}), "built for images");
}

TYPED_TEST(OperatorContract, BatchItemsAreIndependent) {
  const auto x = this->image(3), y = this->measurement(3);
  const auto ax = this->op.forward(x), aty = this->op.adjoint(y), lifted = this->op.lift(y);
  for (std::int64_t i = 0; i < 3; ++i) {
    EXPECT_LT(relative_error(ax[i], this->op.forward(x.narrow(0, i, 1))[0]), 1e-14);
    EXPECT_LT(relative_error(aty[i], this->op.adjoint(y.narrow(0, i, 1))[0]), 1e-14);
    EXPECT_LT(relative_error(lifted[i], this->op.lift(y.narrow(0, i, 1))[0]), 1e-14);
  }
}

TYPED_TEST(OperatorContract, WorksInFloat32) {
  const auto x = this->image(2);
  const auto y32 = this->op.forward(x.to(at::kFloat));
  EXPECT_EQ(y32.scalar_type(), at::kFloat);
  EXPECT_LT(relative_error(y32.to(at::kDouble), this->op.forward(x)), 1e-5);
}

// ---- exact references per operator ----------------------------------------------------------------

TEST(GaussianBlur, UntruncatedEqualsZeroPaddedSeparableConvolution) {
  const GaussianBlur op({.kernel_size = 7, .sigma = 1.5, .sv_threshold = 0.0}, {1, 12, 10});
  // The 2-D kernel is the outer product of the normalised 1-D kernel.
  auto taps = at::exp(-0.5 * (at::arange(-3, 4, at::kDouble) / 1.5).square());
  taps = taps / taps.sum();
  const auto kernel = at::outer(taps, taps).reshape({1, 1, 7, 7});
  Rng rng(1);
  const auto x = rng.randn({2, 1, 12, 10}, at::kDouble);
  const auto reference = at::conv2d(x, kernel, {}, 1, 3);  // zero padding
  EXPECT_LT(relative_error(op.forward(x), reference), 1e-12);
}

TEST(GaussianBlur, TruncatesSmallSingularValues) {
  const GaussianBlur exact({.kernel_size = 9, .sigma = 2.0, .sv_threshold = 0.0}, {1, 16, 16});
  const GaussianBlur truncated({.kernel_size = 9, .sigma = 2.0, .sv_threshold = 0.03}, {1, 16, 16});
  const auto s = exact.singular_values(), st = truncated.singular_values();
  ASSERT_GT((s < 0.03 * 0.03).sum().item<int64_t>(), 0) << "the test needs some small singular values";
  // 1-D values below the threshold are zeroed, so every nonzero 2-D value is a product of two kept ones.
  EXPECT_EQ((st == 0).sum().item<int64_t>() > 0, true);
  EXPECT_GE(st.masked_select(st > 0).min().item<double>(), 0.03 * 0.03 - 1e-15);
  // Kept directions are unchanged.
  const auto kept = st > 0;
  EXPECT_LT(relative_error(std::get<0>(s.masked_select(kept).sort()), std::get<0>(st.masked_select(kept).sort())), 1e-12);
}

TEST(SuperResolution, ForwardIsBlockAverageAndLiftIsBilinear) {
  const SuperResolution op({.factor = 4}, {1, 28, 28});
  Rng rng(2);
  const auto x = rng.randn({2, 1, 28, 28}, at::kDouble);
  EXPECT_LT(relative_error(op.forward(x), at::avg_pool2d(x, {4, 4})), 1e-14);
  EXPECT_EQ(op.measurement_shape({1, 28, 28}), (Shape{1, 7, 7}));
  // Bilinear interpolation reproduces affine images away from the border.
  const auto ramp = at::arange(7, at::kDouble).reshape({1, 1, 1, 7}).expand({1, 1, 7, 7}).contiguous();
  const auto up = op.lift(ramp);
  const auto expected = (at::arange(28, at::kDouble) + 0.5) / 4 - 0.5;
  EXPECT_LT(relative_error(up[0][0][10].narrow(0, 2, 24), expected.narrow(0, 2, 24)), 1e-12);
  // The pseudo-inverse replicates each pixel over its block.
  EXPECT_LT(relative_error(op.pinv(ramp), at::upsample_nearest2d(ramp, {28, 28})), 1e-14);
  EXPECT_DAVI_ERROR(SuperResolution({.factor = 3}, {1, 28, 28}), "does not divide");
}

TEST(Colorization, GrayIsChannelMeanAndLiftRepeatsIt) {
  const Colorization op({3, 4, 5});
  Rng rng(3);
  const auto x = rng.randn({2, 3, 4, 5}, at::kDouble);
  EXPECT_LT(relative_error(op.forward(x), x.mean(1, true)), 1e-14);
  const auto y = op.forward(x);
  EXPECT_LT(relative_error(op.lift(y), y.expand({2, 3, 4, 5})), 1e-14);
  EXPECT_DAVI_ERROR(Colorization({1, 4, 5}), "needs 3-channel images");
}

TEST(BoxInpainting, CentredBoxRemovesExactlyTheBox) {
  const BoxInpainting op({.box_size = 14, .placement = "center"}, {1, 28, 28});
  const auto y = op.forward(at::ones({1, 1, 28, 28}, at::kDouble));
  EXPECT_EQ(y.sum().item<double>(), 28 * 28 - 14 * 14);
  EXPECT_EQ(y.narrow(2, 7, 14).narrow(3, 7, 14).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(op.positions()[0][0].item<int64_t>(), 7);
  EXPECT_DAVI_ERROR(BoxInpainting({.box_size = 30}, {1, 28, 28}), "does not fit");
  EXPECT_DAVI_ERROR(BoxInpainting({.box_size = 4, .placement = "corner"}, {1, 28, 28}), "expected one of: center, random");
}

TEST(BoxInpainting, RandomPlacementIsSeededAndPerImage) {
  BoxInpainting a({.box_size = 6, .placement = "random"}, {2, 16, 16});
  BoxInpainting b({.box_size = 6, .placement = "random"}, {2, 16, 16});
  Rng ra(5), rb(5);
  a.resample(8, ra);
  b.resample(8, rb);
  EXPECT_TRUE(a.positions().equal(b.positions()));
  EXPECT_GT(std::get<0>(at::_unique(a.positions().select(1, 0))).numel(), 1) << "positions should vary";
  Rng rng(6);
  const auto x = rng.randn({8, 2, 16, 16}, at::kDouble);
  const auto y = a.forward(x);
  for (int i = 0; i < 8; ++i) {
    const auto top = a.positions()[i][0].item<int64_t>(), left = a.positions()[i][1].item<int64_t>();
    EXPECT_EQ(y[i].narrow(1, top, 6).narrow(2, left, 6).abs().sum().item<double>(), 0.0);
    EXPECT_EQ((y[i] == 0).sum().item<int64_t>(), 2 * 36);
  }
  EXPECT_LT(adjointness_error(a, 8, rng), 1e-12);
  EXPECT_DAVI_ERROR(a.forward(x.narrow(0, 0, 3)), "holds masks for 8 images");
  BoxInpainting centred({.box_size = 6}, {2, 16, 16});
  EXPECT_DAVI_ERROR(centred.resample(2, rng), "never moves");
}

TEST(RandomInpainting, RemovesExactlyTheFractionFromTheSeed) {
  const RandomInpainting a({.missing_fraction = 0.25, .seed = 1}, {3, 10, 10});
  const RandomInpainting b({.missing_fraction = 0.25, .seed = 1}, {3, 10, 10});
  const RandomInpainting c({.missing_fraction = 0.25, .seed = 2}, {3, 10, 10});
  EXPECT_EQ((a.mask() == 0).sum().item<int64_t>(), 25);
  EXPECT_TRUE(a.mask().equal(b.mask()));
  EXPECT_FALSE(a.mask().equal(c.mask()));
  EXPECT_DAVI_ERROR(RandomInpainting({.missing_fraction = 1.5}, {1, 4, 4}), "missing_fraction");
}

TEST(GaussianNoise, HasTheRequestedStandardDeviation) {
  const GaussianNoise noise({.sigma_y = 0.05});
  Rng rng(9);
  const auto y = at::zeros({1000, 1000});
  const double std = noise.apply(y, rng).std().item<double>();
  EXPECT_NEAR(std, 0.05, 0.05 * 0.005);  // 1e6 draws: relative std error 7e-4
  EXPECT_TRUE(GaussianNoise({.sigma_y = 0.0}).apply(y, rng).equal(y));
  EXPECT_DAVI_ERROR(GaussianNoise({.sigma_y = -1}), "sigma_y");
}

}  // namespace
