#pragma once
// Group (group.hpp) on LibTorch's c10d: rendezvous through a TCPStore on MASTER_ADDR:MASTER_PORT (rank 0
// serves it), which alone carries a sharded sweep (StoreGroup), then a process group for the collectives of
// data-parallel work (C10dGroup): ProcessGroupGloo for CPU tensors, ProcessGroupNCCL for CUDA tensors. The
// concrete process group is held and called directly (allreduce(...)->wait()), which both LibTorch 1.13
// (groups derive from ProcessGroup) and 2.x (from c10d::Backend) accept.
//
// Gloo's headers must be the ones the LibTorch was built with: Debian's libgloo-dev for Debian's LibTorch
// (CMake then defines DAVI_WITH_GLOO and USE_C10D_GLOO). PyPI's wheel ships no Gloo headers but does ship
// ProcessGroupNCCL's, and nccl.h comes with its CUDA libraries (CMake then defines DAVI_WITH_NCCL and
// USE_C10D_NCCL). Where a backend is missing, join() refuses data-parallel work on that device with a
// message saying so; sharded sweeps work in every build.
#include <chrono>
#include <cstdlib>
#include <atomic>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "davi/distributed/group.hpp"

#include <torch/version.h>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(DAVI_WITH_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(DAVI_WITH_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace davi::distributed {

/// Whether this build can connect CPU processes (Gloo).
inline constexpr bool kHasGloo =
#if defined(DAVI_WITH_GLOO)
    true;
#else
    false;
#endif

/// Whether this build can connect CUDA processes (NCCL).
inline constexpr bool kHasNccl =
#if defined(DAVI_WITH_NCCL)
    true;
#else
    false;
#endif

/// Seconds a collective or the rendezvous waits for the other processes before failing: DAVI_DIST_TIMEOUT,
/// default 1800 (rank 0 alone measures learning curves and writes checkpoints while the others wait).
inline std::chrono::milliseconds collective_timeout() {
  return std::chrono::seconds(detail::env_int("DAVI_DIST_TIMEOUT", 1800, 1, 7 * 24 * 3600));
}

/// The processes of a job that share only the rendezvous store: enough for a sharded sweep (each run on one
/// process; they wait for each other and report failures through the store), in every build. Collectives
/// need a process group (C10dGroup) and are refused here.
class StoreGroup : public Group {
 public:
  StoreGroup(World world, c10::intrusive_ptr<c10d::Store> store) : Group(std::move(world)), store_(std::move(store)) {}

  void sum_(std::vector<at::Tensor>&) override { no_collectives(); }
  at::Tensor gather(const at::Tensor&) override { no_collectives(); }
  void barrier() override { no_collectives(); }

  void wait_for_all(const std::string& name) override {
    guarded([&] {
      store_->set(key("wait/" + name, rank()), std::vector<std::uint8_t>{1});
      while (!store_->check(keys("wait/" + name))) {
        if (store_->check({kFailed})) {
          const auto message = store_->get(kFailed);
          ::davi::detail::fail(std::string(message.begin(), message.end()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }

  void fail(const std::string& message) override {
    const auto text = "rank " + std::to_string(rank()) + " stopped: " + message;
    try {
      store_->set(kFailed, std::vector<std::uint8_t>(text.begin(), text.end()));
    } catch (const std::exception&) {  // the store (rank 0) is gone already: nobody is left to tell
    }
  }

  /// Leaves the job in order: every other process's last word to the store, then rank 0 (the store's
  /// server) waits for them (at most a minute) before it may exit, so nobody talks to a closed store.
  void leave() override {
    try {
      if (rank() != 0) {
        store_->set(key("left", rank()), std::vector<std::uint8_t>{1});
        return;
      }
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      auto others = keys("left");
      others.erase(others.begin());
      while (!store_->check(others) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } catch (const std::exception&) {
    }
  }

 protected:
  /// Runs a collective or a store operation; a failure (another process died: "Connection closed by peer")
  /// becomes one line.
  template <class F>
  void guarded(F&& operation) {
    try {
      operation();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      ::davi::detail::fail("rank ", rank(), " of ", size(), " lost contact with another process (",
                           first_line(e.what()), "); every process stops; rerun the same command to resume");
    }
  }

 private:
  [[noreturn]] void no_collectives() const {
    ::davi::detail::fail("distributed: this job's processes share no process group (",
                         kHasGloo || kHasNccl ? "a sharded sweep" : "this build has neither Gloo nor NCCL",
                         "); data-parallel work needs davi_run --distribute data in a build with Gloo (CPU) or "
                         "NCCL (CUDA)");
  }
  static std::string key(const std::string& what, int r) { return what + "/" + std::to_string(r); }
  std::vector<std::string> keys(const std::string& what) const {
    std::vector<std::string> all;
    for (int r = 0; r < size(); ++r) all.push_back(key(what, r));
    return all;
  }

  static constexpr const char* kFailed = "failed";
  c10::intrusive_ptr<c10d::Store> store_;
};

#if defined(DAVI_WITH_GLOO) || defined(DAVI_WITH_NCCL)
/// A Group over one c10d process group whose collectives take tensors on `device`.
template <class ProcessGroupT>
class C10dGroup final : public StoreGroup {
 public:
  C10dGroup(World world, c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<ProcessGroupT> group,
            c10::Device device)
      : StoreGroup(std::move(world), std::move(store)), group_(std::move(group)), device_(device) {}

  /// One all-reduce per tensor: NCCL takes one tensor per call (the helpers of group.hpp pass one buffer).
  void sum_(std::vector<at::Tensor>& tensors) override {
    on_device(tensors, [&](std::vector<at::Tensor>& here) {
      for (auto& tensor : here) {
        std::vector<at::Tensor> one{tensor};
        guarded([&] { group_->allreduce(one)->wait(); });
      }
    });
  }
  at::Tensor gather(const at::Tensor& tensor) override {
    std::vector<at::Tensor> input{tensor.to(device_).contiguous()};
    std::vector<std::vector<at::Tensor>> output(1);
    for (int r = 0; r < size(); ++r) output[0].push_back(at::empty_like(input[0]));
    guarded([&] { group_->allgather(output, input)->wait(); });
    return at::cat(output[0]).to(tensor.device());
  }
  /// A one-number all-reduce: unlike c10d's barrier, NCCL's then needs no guess of each rank's device.
  void barrier() override {
    std::vector<at::Tensor> token{at::zeros({1}, at::TensorOptions().device(device_))};
    sum_(token);
    (void)token[0].item<float>();  // NCCL's wait() only orders the device's stream; this waits for the sum
  }

 private:
  /// Runs `collective` on contiguous copies on the group's device where a tensor is elsewhere.
  template <class F>
  void on_device(std::vector<at::Tensor>& tensors, F&& collective) {
    std::vector<at::Tensor> here;
    for (const auto& t : tensors) here.push_back(t.device() == device_ && t.is_contiguous() ? t : t.to(device_).contiguous());
    collective(here);
    for (std::size_t i = 0; i < tensors.size(); ++i)
      if (!here[i].is_same(tensors[i])) tensors[i].copy_(here[i]);
  }

  c10::intrusive_ptr<ProcessGroupT> group_;
  c10::Device device_;
};
#endif

/// The exit code a process has settled on once its work is over (-1 while it works).
inline std::atomic<int>& settled_exit_code() {
  static std::atomic<int> code{-1};
  return code;
}

/// A failure inside a collective's background thread (a peer died: "Connection reset by peer") would end
/// the process with std::terminate's generic text; this makes it one line naming the rank and what to do.
/// Once the process has settled its exit code (its work done, or its error reported), such a failure while
/// the connections close is no news: the process exits quietly with that code.
inline void report_lost_peers(const World& world) {
  static World reported;
  reported = world;
  std::set_terminate([] {
    if (const int code = settled_exit_code().load(); code >= 0) std::_Exit(code);
    std::string what = "unknown error";
    if (const auto e = std::current_exception()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        what = first_line(x.what());
      } catch (...) {
      }
    }
    std::cerr << "davi (rank " << reported.rank << " of " << reported.size
              << "): the job lost contact with another process (" << what
              << "); every process stops; rerun the same command to resume from the last checkpoint\n";
    std::_Exit(1);
  });
}

/// The process group for collectives on `device` (Gloo for the CPU, NCCL for CUDA) over `store`; join() has
/// checked that this build has it.
inline std::shared_ptr<Group> process_group(const World& world, const c10::intrusive_ptr<c10d::Store>& store,
                                            const c10::intrusive_ptr<c10d::Store>& ours, c10::Device device) {
#if defined(DAVI_WITH_NCCL)
  if (device.is_cuda()) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = collective_timeout();
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, world.rank, world.size, options);
    return std::make_shared<C10dGroup<c10d::ProcessGroupNCCL>>(world, ours, std::move(group), device);
  }
#endif
#if defined(DAVI_WITH_GLOO)
  if (device.is_cpu()) {
    auto options = c10d::ProcessGroupGloo::Options::create(collective_timeout());
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    options->devices.push_back(interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                         : c10d::ProcessGroupGloo::createDefaultDevice());
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, world.rank, world.size, options);
    return std::make_shared<C10dGroup<c10d::ProcessGroupGloo>>(world, ours, std::move(group), device);
  }
#endif
  ::davi::detail::fail("distributed: this build has no process group for ", device.str());
}

/// Joins the job described by `world` through the rendezvous at MASTER_ADDR:MASTER_PORT, even a world of
/// one (a test's way to run a backend's collectives in one process): with `collectives` a process group for
/// tensors on `device` (Gloo: the CPU; NCCL: this rank's GPU), without them a StoreGroup (a sharded sweep,
/// in every build). One line on failure.
inline std::shared_ptr<Group> join(const World& world, c10::Device device, bool collectives = true) {
  if (collectives) {
    DAVI_CHECK(device.is_cuda() ? kHasNccl : kHasGloo, "distributed: data-parallel work on ", device.str(), " needs ",
               device.is_cuda() ? "NCCL" : "Gloo", ", and this build of davi has none (",
               device.is_cuda() ? "NCCL needs a CUDA build of LibTorch 2.x: PyPI's wheel, DAVI_TORCH=pip"
                                : "CPU process groups need the Gloo headers LibTorch was built with: Debian's "
                                  "LibTorch with libgloo-dev; PyPI's wheel ships none",
               "); use --distribute runs, or one process");
  }
  // torchrun's agent already serves a store at MASTER_ADDR:MASTER_PORT (and says so); then every rank is
  // its client. Keys are prefixed by torchrun's restart count, so a restarted job never reads the last
  // attempt's keys.
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  const bool agent_store = agent && std::string(agent) == "True";
#if TORCH_VERSION_MAJOR < 2
  // Measured: a LibTorch 1.13 client of the store of PyPI's torchrun 2.x waits forever (another protocol).
  DAVI_CHECK(!agent_store, "distributed: torchrun serves its own rendezvous store (TORCHELASTIC_USE_AGENT_STORE="
             "True) in its own LibTorch's protocol, which this davi_run (LibTorch ", TORCH_VERSION, ") may not "
             "speak; launch with TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 torchrun --standalone ...");
#endif
  report_lost_peers(world);
  try {
    const char* attempt = std::getenv("TORCHELASTIC_RESTART_COUNT");
    const std::string prefix = std::string("davi/attempt_") + (attempt ? attempt : "0");
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(world.master_port);
    store_options.isServer = world.rank == 0 && !agent_store;
    store_options.numWorkers = static_cast<std::size_t>(world.size);
    store_options.timeout = collective_timeout();
    auto store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, store_options);
    auto ours = c10::make_intrusive<c10d::PrefixStore>(prefix + "/run", store);
    if (!collectives) return std::make_shared<StoreGroup>(world, ours);
    return process_group(world, c10::make_intrusive<c10d::PrefixStore>(prefix + "/collectives", store), ours, device);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    ::davi::detail::fail("distributed: rank ", world.rank, " of ", world.size, " could not join the job at ",
                         world.master_addr, ":", world.master_port, ": ", first_line(e.what()));
  }
}

/// Joins the job described by `world`: the Solo group for a world of one, else join() above.
inline std::shared_ptr<Group> connect(const World& world, c10::Device device, bool collectives = true) {
  return world.alone() ? solo() : join(world, device, collectives);
}

}  // namespace davi::distributed
