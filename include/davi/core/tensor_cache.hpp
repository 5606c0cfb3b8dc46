#pragma once
// A constant tensor (an operator matrix, a mask) kept in float64 on the CPU, with copies made on
// demand in the dtype and device of whatever it is applied to, so operators work in float32 on CUDA
// and in float64 for exact tests without converting on every call.
#include <ATen/ATen.h>

#include <map>
#include <string>

namespace davi {

class TensorCache {
 public:
  TensorCache() = default;
  explicit TensorCache(at::Tensor source) : source_(source.to(at::kDouble).contiguous()) {}

  const at::Tensor& source() const { return source_; }
  /// The tensor in the dtype and on the device of `like`.
  const at::Tensor& like(const at::Tensor& like) const { return on(like.device(), like.scalar_type()); }
  /// The tensor in `dtype` on `device`.
  const at::Tensor& on(const c10::Device& device, at::ScalarType dtype) const {
    if (dtype == at::kDouble && device.is_cpu()) return source_;
    auto& copy = copies_[device.str() + "/" + std::string(c10::toString(dtype))];
    if (!copy.defined()) copy = source_.to(device, dtype);
    return copy;
  }

 private:
  at::Tensor source_;
  mutable std::map<std::string, at::Tensor> copies_;
};

}  // namespace davi
