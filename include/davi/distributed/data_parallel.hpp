#pragma once
// A trainer's share of data-parallel training. Every process holds the same weights, optimiser state and
// random streams; each draws the global batch's random numbers and keeps its own rows (Rng::shard), computes
// its gradients on them, and the gradients are averaged with one collective per optimiser before clipping
// and the step. A run's numbers are therefore those of one process at the global batch, whatever the world
// size, up to floating-point rounding (the order of the batch's reductions differs), and one checkpoint
// written by rank 0 serves every rank.
#include <initializer_list>
#include <memory>
#include <vector>

#include "davi/core/check.hpp"
#include "davi/core/rng.hpp"
#include "davi/distributed/group.hpp"

namespace davi::distributed {

/// The rows of a global batch of `global` that one process of `group` holds; `what` names the option.
inline std::int64_t local_batch(const Group& group, std::int64_t global, const char* what = "batch_size") {
  DAVI_CHECK(global % group.size() == 0, what, ": ", global, " images do not split evenly over WORLD_SIZE ",
             group.size(), " processes; use a multiple of ", group.size());
  return global / group.size();
}

class DataParallel {
 public:
  /// Trains with `group`; `streams` (the trainer's per-row random streams) are sharded by rank.
  void join(std::shared_ptr<Group> group, std::initializer_list<Rng*> streams) {
    group_ = std::move(group);
    for (Rng* stream : streams) stream->shard(group_->rank(), group_->size());
  }

  Group& group() const { return *group_; }

  /// The rows of a global batch of `global` this process holds; `what` names the option in the error.
  std::int64_t local_batch(std::int64_t global, const char* what = "batch_size") const {
    return distributed::local_batch(*group_, global, what);
  }

  /// Averages the gradients of `parameters` over the processes (one collective); call it between the
  /// backward pass and gradient clipping or the optimiser's step.
  void average_gradients(const std::vector<at::Tensor>& parameters) const {
    distributed::average_gradients(*group_, parameters);
  }

 private:
  std::shared_ptr<Group> group_ = solo();
};

}  // namespace davi::distributed
