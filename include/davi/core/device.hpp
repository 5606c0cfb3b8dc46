#pragma once
// Device selection by name: "cpu", "cuda", "cuda:N" or "auto" (CUDA when a device is visible, else CPU).
// A run resolves its name once, before its id is computed, so the id and metrics.json name the device
// type actually used; asking for CUDA where there is none is an error, never a silent fall-back.
#include <ATen/Context.h>
#include <c10/core/Device.h>
#include <torch/version.h>

#include <string>

#include "davi/core/check.hpp"

namespace davi {

/// Number of CUDA devices this process sees (0 with a CPU-only LibTorch or without a GPU).
inline int cuda_device_count() { return at::hasCUDA() ? static_cast<int>(at::getNumGPUs()) : 0; }

/// "cpu" or "cuda": what a run id records (the index does not change what is computed).
inline std::string device_type_name(const c10::Device& device) { return device.is_cuda() ? "cuda" : "cpu"; }

/// The same for a device name as a resolved config or metrics.json records it ("cpu", "cuda:0").
inline std::string device_type_name(const std::string& name) { return name.rfind("cuda", 0) == 0 ? "cuda" : "cpu"; }

/// This process's index among the processes of a multi-process job on this machine (LOCAL_RANK; 0 alone):
/// "cuda" and "auto" then mean its own GPU, cuda:(LOCAL_RANK mod the number of devices).
inline int& local_process_index() {
  static int index = 0;
  return index;
}

inline c10::Device select_device(const std::string& name) {
  const auto own_gpu = [] { return static_cast<c10::DeviceIndex>(local_process_index() % cuda_device_count()); };
  if (name == "auto") return cuda_device_count() > 0 ? c10::Device(c10::kCUDA, own_gpu()) : c10::Device(c10::kCPU);
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    int index = cuda_device_count() > 0 ? own_gpu() : 0;
    if (name != "cuda") {
      const auto digits = name.substr(5);
      DAVI_CHECK(!digits.empty() && digits.size() < 6 && digits.find_first_not_of("0123456789") == std::string::npos,
                 "device: \"", name, "\" is not cuda:N with N a device index");
      index = std::stoi(digits);
    }
    const int count = cuda_device_count();
    DAVI_CHECK(count > 0, "device: \"", name, "\" requested but this machine has no CUDA device visible to LibTorch ",
               TORCH_VERSION, at::hasCUDA() ? "" : " (a CPU-only build)", "; use \"cpu\" or \"auto\"");
    DAVI_CHECK(index < count, "device: \"", name, "\" requested but only ", count, " CUDA device",
               count == 1 ? " is" : "s are", " visible (cuda:0", count > 1 ? "..cuda:" + std::to_string(count - 1) : "",
               ")");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  detail::fail("device: unknown \"", name, "\"; expected one of: cpu, cuda, cuda:N, auto");
}

}  // namespace davi
