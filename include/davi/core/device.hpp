#pragma once
// Device selection by name: "cpu", "cuda", "cuda:N" or "auto" (CUDA when available).
#include <ATen/Context.h>
#include <c10/core/Device.h>
#include <string>

#include "davi/core/check.hpp"

namespace davi {

inline c10::Device select_device(const std::string& name) {
  if (name == "auto") return at::hasCUDA() ? c10::Device(c10::kCUDA) : c10::Device(c10::kCPU);
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    DAVI_CHECK(at::hasCUDA(), "device \"", name, "\" requested but this LibTorch build sees no CUDA device");
    return c10::Device(name);
  }
  detail::fail("device: unknown \"", name, "\"; expected one of: cpu, cuda, cuda:N, auto");
}

}  // namespace davi
