// Compile-fail check: DDRM (SVD tier) given an operator without an SVD view. Built twice by
// tests/CMakeLists.txt: without DAVI_TEST_USE_SVD_OPERATOR it must fail naming the SvdOperator concept;
// with it (the same call on gaussian_blur), it must compile.
#include <davi/operators/gaussian_blur.hpp>
#include <davi/prior/gaussian_prior.hpp>
#include <davi/schedules/sqrt_linear.hpp>
#include <davi/solvers/ddrm.hpp>

struct ForwardOnly {
  davi::Shape measurement_shape(const davi::Shape& s) const { return s; }
  at::Tensor forward(const at::Tensor& x) const { return x; }
  at::Tensor lift(const at::Tensor& y) const { return y; }
};

int main() {
#ifdef DAVI_TEST_USE_SVD_OPERATOR
  const davi::operators::GaussianBlur op({.kernel_size = 3, .sigma = 1.0}, {1, 2, 2});
#else
  const ForwardOnly op;
#endif
  davi::prior::GaussianPrior prior(at::zeros({1, 2, 2}), at::eye(4), davi::schedules::SqrtLinear());
  davi::Rng rng;
  davi::Cost cost;
  const auto x = davi::solvers::Ddrm().solve(at::zeros({1, 1, 2, 2}), op, davi::operators::GaussianNoise(), prior,
                                             rng, cost);
  return x.numel() == 4 ? 0 : 1;
}
