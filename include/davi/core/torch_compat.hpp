#pragma once
// The one place where davi's code depends on the LibTorch version: Debian's 1.13 and PyPI's 2.x are both
// supported and tested (tools/davi, DAVI_TORCH=pip). Everything else uses the API the two share.
#include <torch/version.h>

#include <variant>

#if TORCH_VERSION_MAJOR < 2
#include <c10/util/variant.h>
#endif

#define DAVI_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

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

}  // namespace davi::compat
