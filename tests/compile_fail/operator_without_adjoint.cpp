// Compile-fail check: an operator without adjoint() handed to code that needs the adjoint tier.
// Built twice by tests/CMakeLists.txt: without DAVI_TEST_ADD_ADJOINT it must fail with a message that
// names adjoint; with it, it must compile (so the failure comes from the missing member alone).
#include <davi/concepts.hpp>

struct ForwardOnly {
  davi::Shape measurement_shape(const davi::Shape& s) const { return s; }
  at::Tensor forward(const at::Tensor& x) const { return x; }
  at::Tensor lift(const at::Tensor& y) const { return y; }
#ifdef DAVI_TEST_ADD_ADJOINT
  at::Tensor adjoint(const at::Tensor& y) const { return y; }
#endif
};

template <class Op>
at::Tensor normal_operator(const Op& op, const at::Tensor& x) {
  static_assert(davi::require_adjoint_operator<Op>());
  return op.adjoint(op.forward(x));
}

int main() { return normal_operator(ForwardOnly{}, at::zeros({1})).numel() == 1 ? 0 : 1; }
