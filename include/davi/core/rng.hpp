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

/// Where an Rng draws its numbers. `device`: with the device's own generator (fast; CPU and CUDA
/// generators give different streams from the same seed). `cpu`: on the CPU, then moved to the device,
/// so the same seed gives the same numbers on every device (slower on a GPU: a copy per draw).
enum class StreamOn { device, cpu };

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0, c10::Device device = c10::kCPU, StreamOn stream = StreamOn::device)
      : device_(device),
        draw_on_(stream == StreamOn::cpu ? c10::Device(c10::kCPU) : device),
        gen_(at::globalContext().defaultGenerator(draw_on_).clone()) {
    gen_.set_current_seed(seed);
  }

  /// Where the numbers it returns live.
  c10::Device device() const { return device_; }
  /// The generator itself, for LibTorch calls that take one (they must run on generator_device()).
  at::Generator& generator() { return gen_; }
  c10::Device generator_device() const { return draw_on_; }

  /// Makes the stream draw part `part` of `parts` of a batch split by rows among data-parallel processes:
  /// each draw is made with `parts` times its first dimension and this part's rows are returned, so `parts`
  /// processes holding one part each draw exactly the numbers of one process drawing the whole batch. Every
  /// draw of a sharded stream is then per row (first dimension = the rows this process holds).
  void shard(int part, int parts) {
    DAVI_CHECK(parts >= 1 && part >= 0 && part < parts, "Rng::shard: part ", part, " of ", parts);
    part_ = part, parts_ = parts;
  }
  int parts() const { return parts_; }

  at::Tensor randn(at::IntArrayRef shape, at::ScalarType dtype = at::kFloat) {
    return rows(shape, [&](at::IntArrayRef all) { return at::randn(all, gen_, opts(dtype)); });
  }
  /// Uniform on [0, 1).
  at::Tensor rand(at::IntArrayRef shape, at::ScalarType dtype = at::kFloat) {
    return rows(shape, [&](at::IntArrayRef all) { return at::rand(all, gen_, opts(dtype)); });
  }
  /// Integers uniform on {low, ..., high - 1}.
  at::Tensor randint(std::int64_t low, std::int64_t high, at::IntArrayRef shape) {
    return rows(shape, [&](at::IntArrayRef all) { return at::randint(low, high, all, gen_, opts(at::kLong)); });
  }
  at::Tensor randperm(std::int64_t n) {
    DAVI_CHECK(parts_ == 1, "Rng::randperm: a permutation is not a per-row draw; not available on a sharded stream");
    return here(at::randperm(n, gen_, opts(at::kLong)));
  }

  /// Generator state as a CPU byte tensor, for checkpoints.
  at::Tensor state() const { return gen_.get_state(); }
  void set_state(const at::Tensor& state) { gen_.set_state(state.cpu()); }

  /// Writes the state under `key` and the device type it belongs to under `key`_device.
  void save(torch::serialize::OutputArchive& archive, const std::string& key) const {
    archive.write(key, state());
    archive.write(key + "_device", c10::IValue(device_type_name(draw_on_)));
  }
  /// Restores what save() wrote. CPU and CUDA generators keep different states (Mersenne twister vs
  /// Philox), so a stream saved on one device type cannot continue on the other: that is refused with a
  /// message naming `where` (or none: the caller prefixes it). A state without a device (checkpoints of
  /// davi 0.1) is a CPU state.
  void load(torch::serialize::InputArchive& archive, const std::string& key, const std::string& where) {
    at::Tensor saved;
    archive.read(key, saved);
    c10::IValue saved_device;
    const std::string from = archive.try_read(key + "_device", saved_device) ? saved_device.toStringRef() : "cpu";
    const std::string ours = device_type_name(draw_on_);
    DAVI_CHECK(from == ours, where, where.empty() ? "" : ": ", "its random stream (", key, ") was saved on ", from,
               " and cannot continue on ", ours, "; resume it on ", from, ", or delete it to start this run over on ",
               ours);
    set_state(saved);
  }

 private:
  at::TensorOptions opts(at::ScalarType dtype) const { return at::TensorOptions().dtype(dtype).device(draw_on_); }
  at::Tensor here(at::Tensor t) const { return draw_on_ == device_ ? t : t.to(device_); }
  /// draw(shape), or this part's rows of draw(shape with parts_ times the rows) on a sharded stream.
  template <class Draw>
  at::Tensor rows(at::IntArrayRef shape, Draw&& draw) {
    if (parts_ == 1) return here(draw(shape));
    DAVI_CHECK(!shape.empty(), "Rng: a sharded stream draws per row; got a 0-dimensional draw");
    auto all = shape.vec();
    all[0] *= parts_;
    return here(draw(all).narrow(0, part_ * shape[0], shape[0]).contiguous());
  }
  c10::Device device_;
  c10::Device draw_on_;
  at::Generator gen_;
  int part_ = 0, parts_ = 1;
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
