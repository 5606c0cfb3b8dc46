#pragma once
// The progress of an unfinished evaluation, so that one killed part-way (a lost machine, a 1000-NFE
// baseline cut off by the end of a session) continues where it stopped, to the numbers of an evaluation
// that never stopped. After each batch, rank 0 writes the batch's samples (batch_K.pt), then progress.pt:
// how many batches are done, the random stream after them, the solving seconds and the cost so far. On a
// rerun every rank reads progress.pt, takes up the stream, and rank 0 feeds the saved samples to the
// metrics again (cheap beside solving). Every file is sealed with the run's id and written atomically; a
// kill between a batch file and progress.pt only repeats that batch. The folder goes once metrics.json is
// written.
#include <ATen/ATen.h>
#include <torch/serialize.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "davi/core/archive.hpp"
#include "davi/core/atomic_file.hpp"
#include "davi/core/cost.hpp"
#include "davi/core/remove_tree.hpp"
#include "davi/core/rng.hpp"

namespace davi::runner {

class EvaluationProgress {
 public:
  /// The progress of the evaluation of the run in `run_dir` (its folder name is the run's id); `part`
  /// names a second evaluation of the same run ("train": the train split's, in evaluation_progress_train).
  explicit EvaluationProgress(const std::filesystem::path& run_dir, const std::string& part = "")
      : dir_(run_dir / (part.empty() ? "evaluation_progress" : "evaluation_progress_" + part)),
        tag_((part.empty() ? "evaluation" : part + " evaluation") + " of run " + run_dir.filename().string()) {}

  const std::filesystem::path& folder() const { return dir_; }
  std::int64_t batches_done() const { return batches_done_; }
  double seconds() const { return seconds_; }
  const Cost& cost() const { return cost_; }

  /// Takes up a saved progress, if any: `rng` continues after the saved batches. Returns whether there was one.
  bool resume(Rng& rng) {
    remove_stale_temporaries(dir_);  // of a process killed while it wrote here
    torch::serialize::InputArchive archive;
    if (!read_progress(archive)) return false;
    at::Tensor seconds, evaluations, backprops;
    archive.read("seconds", seconds);
    archive.read("network_evaluations", evaluations);
    archive.read("network_backprops", backprops);
    rng.load(archive, "rng", progress_path().string());
    batches_done_ = batches_in(archive);
    seconds_ = seconds.item<double>();
    cost_ = {evaluations.item<std::int64_t>(), backprops.item<std::int64_t>()};
    return true;
  }

  /// How many solved batches a saved progress holds (0 without one), without taking it up; a damaged or
  /// another run's progress is refused by name (so `davi_run --validate` finds it before any work).
  std::int64_t saved_batches() const {
    torch::serialize::InputArchive archive;
    return read_progress(archive) ? batches_in(archive) : 0;
  }

  /// The samples of saved batch `k` (< batches_done()), on `device`.
  at::Tensor samples(std::int64_t k, const c10::Device& device) const {
    torch::serialize::InputArchive archive;
    read_sealed(archive, batch_path(k), device, tag_, "evaluation batch");
    at::Tensor samples;
    archive.read("samples", samples);
    return samples;
  }

  /// Records batch `k`, solved into `samples`, with the stream, seconds and cost after it (rank 0 only).
  void record(std::int64_t k, const at::Tensor& samples, const Rng& rng, double seconds, const Cost& cost) {
    std::filesystem::create_directories(dir_);
    torch::serialize::OutputArchive batch;
    batch.write("samples", samples.cpu());
    write_sealed(batch, batch_path(k), tag_);
    torch::serialize::OutputArchive progress;
    progress.write("batches_done", at::scalar_tensor(k + 1, at::kLong));
    progress.write("seconds", at::scalar_tensor(seconds, at::kDouble));
    progress.write("network_evaluations", at::scalar_tensor(cost.network_evaluations, at::kLong));
    progress.write("network_backprops", at::scalar_tensor(cost.network_backprops, at::kLong));
    rng.save(progress, "rng");
    write_sealed(progress, progress_path(), tag_);
    batches_done_ = k + 1;
  }

  /// Removes the folder: the evaluation's results are written.
  void remove() const {
    (void)remove_tree(dir_);  // a folder that cannot be removed is only clutter: metrics.json marks the run finished
  }

 private:
  std::filesystem::path progress_path() const { return dir_ / "progress.pt"; }
  /// Reads progress.pt into `archive` (refused by name if damaged or another run's); false without one.
  bool read_progress(torch::serialize::InputArchive& archive) const {
    if (!std::filesystem::exists(progress_path())) return false;
    read_sealed(archive, progress_path(), c10::kCPU, tag_, "evaluation progress");
    return true;
  }
  static std::int64_t batches_in(torch::serialize::InputArchive& archive) {
    at::Tensor batches;
    archive.read("batches_done", batches);
    return batches.item<std::int64_t>();
  }
  std::filesystem::path batch_path(std::int64_t k) const { return dir_ / ("batch_" + std::to_string(k) + ".pt"); }

  std::filesystem::path dir_;
  std::string tag_;
  std::int64_t batches_done_ = 0;
  double seconds_ = 0;
  Cost cost_;
};

}  // namespace davi::runner
