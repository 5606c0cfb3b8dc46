#pragma once
// The one place where davi's code depends on the LibTorch version: Debian's 1.13 and PyPI's 2.x are both
// supported and tested (tools/davi, DAVI_TORCH=pip). Everything else uses the API the two share.
#include <ATen/core/Tensor.h>
#include <torch/version.h>

#include <string>
#include <variant>

#if TORCH_VERSION_MAJOR < 2
#include <c10/util/variant.h>
#endif

namespace davi::compat {

/// std::get_if on the variants of torch::nn options (c10::variant before 2.0, std::variant since).
template <class T, class Variant>
auto* get_if(Variant* v) {
#if TORCH_VERSION_MAJOR < 2
  return c10::get_if<T>(v);
#else
  return std::get_if<T>(v);
#endif
}

/// The key of a parameter in torch::optim::Optimizer::state() (its TensorImpl's address, printed before
/// 2.0, as a pointer since).
inline auto optimizer_state_key(const at::Tensor& p) {
#if TORCH_VERSION_MAJOR < 2
  return c10::guts::to_string(p.unsafeGetTensorImpl());
#else
  return static_cast<void*>(p.unsafeGetTensorImpl());
#endif
}

}  // namespace davi::compat
