// A user's own operator, written outside davi, satisfying davi's operator concepts and used with a
// davi schedule and davi's adjointness self-check; and davi's process groups, whose headers need what the
// installed package found (Gloo's or NCCL's headers). Exits non-zero on any mismatch.
#include <davi/concepts.hpp>
#include <davi/core/rng.hpp>
#include <davi/distributed/distributed.hpp>
#include <davi/operators/self_check.hpp>
#include <davi/schedules/sqrt_linear.hpp>

#include <cmath>
#include <cstdio>

namespace lab {

/// Keeps the left half of every image row: y = x[..., :W/2].
class LeftHalf {
 public:
  static constexpr std::string_view name = "left_half";
  struct Options {};
  explicit LeftHalf(davi::Shape image) : image_(std::move(image)) {}
  const davi::Shape& image_shape() const { return image_; }
  davi::Shape measurement_shape(const davi::Shape& s) const { return {s[0], s[1], s[2] / 2}; }
  at::Tensor forward(const at::Tensor& x) const { return x.narrow(3, 0, image_[2] / 2); }
  at::Tensor adjoint(const at::Tensor& y) const { return at::constant_pad_nd(y, {0, image_[2] - image_[2] / 2}); }
  at::Tensor lift(const at::Tensor& y) const { return adjoint(y); }

 private:
  davi::Shape image_;
};

}  // namespace lab

static_assert(davi::AdjointOperator<lab::LeftHalf>);
static_assert(!davi::SvdOperator<lab::LeftHalf>);

int main() {
  const lab::LeftHalf op({1, 4, 6});
  davi::Rng rng(7);
  const double error = davi::operators::adjointness_error(op, 3, rng);
  const davi::schedules::SqrtLinear schedule;
  const double alpha_bar_last = schedule.alpha_bar(at::tensor({999}, at::kLong)).item<double>();
  std::printf("consumer: adjointness error %.3g, sqrt_linear alpha_bar(999) = %.4g\n", error, alpha_bar_last);
  if (error > 1e-12 || std::abs(alpha_bar_last - 7.33e-4) > 0.01e-4) return 1;
  // One process: the no-op group, whatever backends this build has.
  const auto group = davi::distributed::connect(davi::distributed::World{}, c10::kCPU);
  std::printf("consumer: %d process, Gloo %s, NCCL %s\n", group->size(), davi::distributed::kHasGloo ? "yes" : "no",
              davi::distributed::kHasNccl ? "yes" : "no");
  if (!group->is_solo()) return 1;
  std::printf("consumer: ok\n");
  return 0;
}
