#pragma once
// A quantity tabulated over the discrete times {0..T-1} (alpha_bar, beta, bridge coefficients), kept in
// float64 and looked up with integer time tensors on any device; values come back in float32 on that
// device, with the shape of the index tensor.
#include <ATen/ATen.h>

#include "davi/core/check.hpp"
#include "davi/core/tensor_cache.hpp"

namespace davi {

class TimeTable {
 public:
  TimeTable() = default;
  explicit TimeTable(const at::Tensor& values) : values_(values.reshape({-1})) {}

  std::int64_t size() const { return values_.source().numel(); }
  /// The whole table, float64 on the CPU.
  const at::Tensor& values() const { return values_.source(); }
  double at_step(std::int64_t t) const { return values_.source()[t].item<double>(); }

  at::Tensor operator()(const at::Tensor& t) const {
    DAVI_CHECK(!at::isFloatingType(t.scalar_type()), "time table: time indices must be integers, got ",
               t.scalar_type());
    // The range check reads values, so it runs only where that costs no device synchronisation.
    if (t.device().is_cpu() && t.numel() > 0) {
      DAVI_CHECK(t.min().item<std::int64_t>() >= 0 && t.max().item<std::int64_t>() < size(),
                 "time table: time index out of range [0, ", size() - 1, "]");
    }
    return values_.on(t.device(), at::kFloat).index_select(0, t.reshape({-1}).to(at::kLong)).reshape(t.sizes());
  }

 private:
  TensorCache values_;
};

}  // namespace davi
