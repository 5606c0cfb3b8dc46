#pragma once
// The collectives davi's data-parallel code needs, behind one small interface: a Group of processes that
// sum tensors, gather them and wait for each other. A world of one (Solo) makes every call a
// no-op, so the library's code is the same with one process or many; c10d_group.hpp implements it on
// LibTorch's own c10d process groups (Gloo on the CPU, NCCL on CUDA).
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "davi/distributed/world.hpp"

namespace davi::distributed {

class Group {
 public:
  explicit Group(World world) : world_(std::move(world)) {}
  virtual ~Group() = default;
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  const World& world() const { return world_; }
  int rank() const { return world_.rank; }
  int size() const { return world_.size; }
  bool alone() const { return world_.size == 1; }
  /// Whether every collective is a no-op (Solo): the helpers below then skip even their copies. A process
  /// group of one rank is not, so a test can run a backend's collectives in one process.
  virtual bool is_solo() const { return false; }

  /// Sums each tensor over the processes, in place (every process gets the sum).
  virtual void sum_(std::vector<at::Tensor>& tensors) = 0;
  /// Every process's `tensor` (same shape on all), concatenated along dimension 0 in rank order.
  virtual at::Tensor gather(const at::Tensor& tensor) = 0;
  /// Returns once every process has called it (within the collectives' time limit).
  virtual void barrier() = 0;
  /// Returns once every process has called it with the same `name`, however long that takes (it polls the
  /// rendezvous, never a collective): for waits of unknown length, such as ranks finishing their share of a
  /// sweep. Stops with the message of a process that called fail() meanwhile.
  virtual void wait_for_all(const std::string& name) = 0;
  /// Tells the other processes this one stopped with `message` (their wait_for_all ends with it).
  virtual void fail(const std::string& message) = 0;
  /// The last call of a process that is done with the job (see C10dGroup::leave).
  virtual void leave() = 0;

 private:
  World world_;
};

/// The world of one process: every collective leaves its tensors as they are.
class Solo final : public Group {
 public:
  Solo() : Group(World{}) {}
  bool is_solo() const override { return true; }
  void sum_(std::vector<at::Tensor>&) override {}
  at::Tensor gather(const at::Tensor& tensor) override { return tensor; }
  void barrier() override {}
  void wait_for_all(const std::string&) override {}
  void fail(const std::string&) override {}
  void leave() override {}
};

inline std::shared_ptr<Group> solo() {
  static const auto group = std::make_shared<Solo>();
  return group;
}

/// Averages `tensors` over the processes with ONE collective: they are flattened into one buffer (per
/// dtype and device, in practice one), summed, divided by the world size and copied back. This is how the
/// gradients of an optimiser are averaged before clipping and the step.
inline void average_(Group& group, const std::vector<at::Tensor>& tensors) {
  if (group.is_solo() || tensors.empty()) return;
  std::vector<at::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& t : tensors) flat.push_back(t.reshape({-1}));
  std::vector<at::Tensor> buffer{at::cat(flat)};
  group.sum_(buffer);
  buffer[0].div_(static_cast<double>(group.size()));
  std::int64_t offset = 0;
  for (const auto& t : tensors) {
    const auto n = t.numel();
    t.copy_(buffer[0].narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

/// The defined gradients of `parameters`, averaged over the processes (a parameter without a gradient on
/// one process must have none on all: the same code runs everywhere).
inline void average_gradients(Group& group, const std::vector<at::Tensor>& parameters) {
  if (group.is_solo()) return;
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters)
    if (p.grad().defined()) grads.push_back(p.grad());
  average_(group, grads);
}

/// Whether `flag` is true on any process (one tiny collective).
inline bool any(Group& group, bool flag) {
  if (group.is_solo()) return flag;
  std::vector<at::Tensor> t{at::full({1}, flag ? 1.0 : 0.0, at::kDouble)};
  group.sum_(t);
  return t[0].item<double>() > 0;
}

}  // namespace davi::distributed
