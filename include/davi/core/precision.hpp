#pragma once
// Numeric precision and memory layout of network evaluations, one switch for every network path.
//
// Precision::bf16 is mixed precision: parameters, gradients, optimiser state and EMA stay fp32 (the
// "master weights"); convolutions, linear layers and matrix products run in bf16 on bf16 copies made
// per call (differentiable casts, so gradients reach the fp32 parameters); normalisation statistics,
// softmax, network outputs and every loss stay fp32. davi does this in its own network modules
// (networks/mixed_precision.hpp) instead of relying on LibTorch's autocast, whose CPU path in 1.13
// fails on GroupNorm; a CUDA build can later route the same switch through at::autocast.
//
// The setting is scoped per thread, like autocast: a ComputeScope sets it for everything the thread
// runs until the scope ends. Backward passes need no scope: the casts are recorded in the graph.
#include <ATen/Context.h>
#include <c10/core/Device.h>
#include <c10/core/MemoryFormat.h>
#include <c10/core/ScalarType.h>

#include <string>

#include "davi/core/check.hpp"

namespace davi {

enum class Precision { fp32, bf16 };
enum class MemoryFormat { nchw, channels_last };

inline const char* to_string(Precision p) { return p == Precision::bf16 ? "bf16" : "fp32"; }
inline const char* to_string(MemoryFormat m) { return m == MemoryFormat::channels_last ? "channels_last" : "nchw"; }

/// How networks compute: precision of the heavy operations and layout of 4-D activations.
struct Compute {
  Precision precision = Precision::fp32;
  MemoryFormat memory_format = MemoryFormat::nchw;

  /// dtype of convolutions, linear layers and matrix products.
  c10::ScalarType dtype() const { return precision == Precision::bf16 ? c10::kBFloat16 : c10::kFloat; }
  c10::MemoryFormat layout() const {
    return memory_format == MemoryFormat::channels_last ? c10::MemoryFormat::ChannelsLast
                                                        : c10::MemoryFormat::Contiguous;
  }
  bool operator==(const Compute&) const = default;
};

namespace detail {
inline Compute& thread_compute() {
  thread_local Compute compute;
  return compute;
}
}  // namespace detail

/// The setting in force on this thread (fp32 NCHW unless a ComputeScope says otherwise).
inline Compute current_compute() { return detail::thread_compute(); }

/// Sets the compute setting for the rest of the scope on this thread; restores the previous one after.
class ComputeScope {
 public:
  explicit ComputeScope(Compute compute) : previous_(detail::thread_compute()) { detail::thread_compute() = compute; }
  ~ComputeScope() { detail::thread_compute() = previous_; }
  ComputeScope(const ComputeScope&) = delete;
  ComputeScope& operator=(const ComputeScope&) = delete;

 private:
  Compute previous_;
};

/// Whether this CPU has native bf16 arithmetic (AVX-512 BF16 or AMX); recorded in metrics.json, since
/// without it bf16 is emulated.
inline bool cpu_has_native_bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
#if defined(__clang__) && __clang_major__ < 16  // clang 14 and 15 do not know the feature name "amx-bf16"
  return __builtin_cpu_supports("avx512bf16");
#else
  return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
#endif
#else
  return false;
#endif
}

/// The fastest setting on `device`, as measured (docs/performance.md): on CPU with LibTorch 1.13 (oneDNN
/// 2.6) fp32 NCHW, because its bf16 convolutions run slower than fp32 even on CPUs with AVX-512 BF16 and
/// GroupNorm is slower in channels_last; on CUDA fp32 with channels_last: at DAVI's batch sizes (32, 64) the
/// 28x28 networks are launch-bound on an H200, and bf16's casts made a training step slower (16.8 against
/// 19.7 steps/s at batch 32, results/cuda/report.md); bf16 wins only from batch 256.
inline Compute fastest_compute(const c10::Device& device) {
  if (device.is_cuda()) return {Precision::fp32, MemoryFormat::channels_last};
  return {};
}

/// Reads the JSON spellings ("fp32" | "bf16" | "auto", "nchw" | "channels_last" | "auto"); "auto" takes
/// the part of fastest_compute(device). Errors name the keys `precision` and `memory_format`.
inline Compute resolve_compute(const std::string& precision, const std::string& memory_format,
                               const c10::Device& device) {
  const Compute fastest = fastest_compute(device);
  Compute c;
  if (precision == "auto") c.precision = fastest.precision;
  else if (precision == "fp32") c.precision = Precision::fp32;
  else if (precision == "bf16") c.precision = Precision::bf16;
  else detail::fail("precision: unknown \"", precision, "\"; expected one of: auto, fp32, bf16");
  if (memory_format == "auto") c.memory_format = fastest.memory_format;
  else if (memory_format == "nchw") c.memory_format = MemoryFormat::nchw;
  else if (memory_format == "channels_last") c.memory_format = MemoryFormat::channels_last;
  else detail::fail("memory_format: unknown \"", memory_format, "\"; expected one of: auto, nchw, channels_last");
  return c;
}

}  // namespace davi
