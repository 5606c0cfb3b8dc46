#pragma once
// The CUDA switches, in one place: TF32 for float32 products and convolutions, cuDNN's autotuner, and
// deterministic algorithms. They change nothing on the CPU. bf16 is not here: it is the `precision`
// option (core/precision.hpp), which the networks' own layers read on every device.
#include <ATen/Context.h>

#include <cstdlib>

namespace davi {

struct CudaOptions {
  bool tf32 = false;             // PyTorch's own default for matmuls since 1.12; faster, ~1e-3 relative error
  bool cudnn_benchmark = false;  // autotune convolution algorithms per shape: faster after warm-up, not bitwise repeatable
  bool deterministic = false;    // deterministic kernels only (an error where an op has none)
  template <class V>
  void visit(V&& v) {
    v("tf32", tf32, "allow TF32 tensor cores for float32 matmuls and convolutions on CUDA");
    v("cudnn_benchmark", cudnn_benchmark, "let cuDNN autotune convolution algorithms (not bitwise repeatable)");
    v("deterministic", deterministic,
      "deterministic algorithms only (torch's use_deterministic_algorithms; sets CUBLAS_WORKSPACE_CONFIG)");
  }
};

/// Sets LibTorch's process-wide CUDA switches to `o` (every switch, so one run's settings never leak into
/// the next run of the same process).
inline void apply_cuda_options(const CudaOptions& o) {
  auto& ctx = at::globalContext();
  ctx.setAllowTF32CuBLAS(o.tf32);
  ctx.setAllowTF32CuDNN(o.tf32);
  ctx.setBenchmarkCuDNN(o.cudnn_benchmark);
  ctx.setDeterministicCuDNN(o.deterministic);
  // cuBLAS is deterministic only with a fixed workspace, chosen before its first handle is made.
  if (o.deterministic) ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  ctx.setDeterministicAlgorithms(o.deterministic, /*warn_only=*/false);
}

}  // namespace davi
