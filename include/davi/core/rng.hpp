#pragma once
// Seeded random streams. Every random draw in davi goes through an explicit Rng, never the global
// generator, so a run is reproducible from its seed and its state can be checkpointed.
#include <ATen/ATen.h>
#include <ATen/core/Generator.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <string>

#include "davi/core/check.hpp"
#include "davi/core/device.hpp"

namespace davi {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0, c10::Device device = c10::kCPU)
      : device_(device), gen_(at::globalContext().defaultGenerator(device).clone()) {
    gen_.set_current_seed(seed);
  }

  c10::Device device() const { return device_; }
  at::Generator& generator() { return gen_; }

  at::Tensor randn(at::IntArrayRef shape, at::ScalarType dtype = at::kFloat) {
    return at::randn(shape, gen_, opts(dtype));
  }
  /// Uniform on [0, 1).
  at::Tensor rand(at::IntArrayRef shape, at::ScalarType dtype = at::kFloat) {
    return at::rand(shape, gen_, opts(dtype));
  }
  /// Integers uniform on {low, ..., high - 1}.
  at::Tensor randint(std::int64_t low, std::int64_t high, at::IntArrayRef shape) {
    return at::randint(low, high, shape, gen_, opts(at::kLong));
  }
  at::Tensor randperm(std::int64_t n) { return at::randperm(n, gen_, opts(at::kLong)); }

  /// Generator state as a CPU byte tensor, for checkpoints.
  at::Tensor state() const { return gen_.get_state(); }
  void set_state(const at::Tensor& state) { gen_.set_state(state.cpu()); }

  /// Writes the state under `key` and the device type it belongs to under `key`_device.
  void save(torch::serialize::OutputArchive& archive, const std::string& key) const {
    archive.write(key, state());
    archive.write(key + "_device", c10::IValue(device_type_name(device_)));
  }
  /// Restores what save() wrote. CPU and CUDA generators keep different states (Mersenne twister vs
  /// Philox), so a stream saved on one device type cannot continue on the other: that is refused with a
  /// message naming `where` (or none: the caller prefixes it). States without a device (older checkpoints) are CPU states.
  void load(torch::serialize::InputArchive& archive, const std::string& key, const std::string& where) {
    at::Tensor saved;
    archive.read(key, saved);
    c10::IValue saved_device;
    const std::string from = archive.try_read(key + "_device", saved_device) ? saved_device.toStringRef() : "cpu";
    const std::string here = device_type_name(device_);
    DAVI_CHECK(from == here, where, where.empty() ? "" : ": ", "its random stream (", key, ") was saved on ", from, " and cannot continue on ",
               here, "; resume it on ", from, ", or delete it to start this run over on ", here);
    set_state(saved);
  }

 private:
  at::TensorOptions opts(at::ScalarType dtype) const { return at::TensorOptions().dtype(dtype).device(device_); }
  c10::Device device_;
  at::Generator gen_;
};

/// Runs make() with LibTorch's global CPU generator seeded to `seed`, then restores the generator.
/// torch::nn layers draw their initial weights from the global generator; this makes them reproducible
/// without changing the random stream of the caller.
template <class Make>
auto with_global_seed(std::uint64_t seed, Make&& make) {
  auto global = at::globalContext().defaultGenerator(c10::kCPU);
  const at::Tensor saved = global.get_state();
  global.set_current_seed(seed);
  struct Restore {
    at::Generator& gen;
    const at::Tensor& state;
    ~Restore() { gen.set_state(state); }
  } restore{global, saved};
  return make();
}

}  // namespace davi
