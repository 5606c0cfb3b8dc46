#pragma once
// The one resumable training loop every trained thing in davi runs through (the prior, the feature
// classifier, DAVI's generator). It owns what a trainer should not have to: the batch stream, a log of
// the trainer's losses averaged over `log_every` steps, wall time, the progress display, and one
// checkpoint file, written atomically, that holds the trainer's state and the loop's together, so a run
// killed at any moment resumes from its last checkpoint and continues exactly as if never stopped.
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize.h>

#include <concepts>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "davi/core/options.hpp"
#include "davi/core/archive.hpp"
#include "davi/core/interrupt.hpp"
#include "davi/core/atomic_file.hpp"
#include "davi/core/check.hpp"
#include "davi/core/progress.hpp"
#include "davi/core/rng.hpp"
#include "davi/core/timer.hpp"
#include "davi/distributed/group.hpp"

namespace davi {

struct TrainingLoopOptions {
  int steps = 1000;
  int log_every = 50;
  int checkpoint_every = 250;
  template <class V>
  void visit(V&& v) {
    v("steps", steps, "optimiser steps in total", at_least(1));
    v("log_every", log_every, "steps between rows of train_log.csv", at_least(1));
    v("checkpoint_every", checkpoint_every, "steps between resumable checkpoints (train_state.pt)", at_least(1));
  }
};

/// Checks the loop options, naming them under `path` ("method.training").
inline void validate(const TrainingLoopOptions& o, const std::string& path) {
  check_options(o, path);  // the ranges declared in visit (options read from JSON were checked on reading)
  DAVI_CHECK(o.checkpoint_every % o.log_every == 0, path,
             ".checkpoint_every: expected a positive multiple of log_every (", o.log_every, "), got ",
             o.checkpoint_every, "; a checkpoint between log rows would lose the partial averages");
}

/// Named values one training step reports (losses, as 0-dimensional tensors); the names become the log's
/// columns. They stay tensors so that a step never waits for the device: the loop reads them only when
/// it writes a log row.
using LossRow = std::vector<std::pair<std::string, at::Tensor>>;

/// What train_resumably needs of a trainer: its step count, the device its state lives on (a checkpoint
/// is loaded onto it), one step drawing its batch from the loop's stream, and its whole state in and out
/// of an archive.
template <class T>
concept ResumableTrainer = requires(T& t, Rng& batches, torch::serialize::OutputArchive& out,
                                    torch::serialize::InputArchive& in) {
  { t.step() } -> std::convertible_to<std::int64_t>;
  { t.device() } -> std::convertible_to<c10::Device>;
  { t.train_step(batches) } -> std::same_as<LossRow>;
  t.save(out);
  t.load(in);
};

/// The process group a trainer trains with (data-parallel trainers expose theirs as `group()`), or Solo.
template <class T>
distributed::Group& training_group(T& trainer) {
  if constexpr (requires { { trainer.group() } -> std::convertible_to<distributed::Group&>; })
    return trainer.group();
  else
    return *distributed::solo();
}

/// A network, its optimiser, the step count and the trainer's random stream, under the keys net,
/// optimizer, step and rng (what most trainers' save/load hold, beside their own extras).
inline void save_network_state(torch::serialize::OutputArchive& archive, torch::nn::Module& net,
                               torch::optim::Optimizer& optimizer, std::int64_t step, const Rng& rng) {
  write_part(archive, "net", net);
  write_part(archive, "optimizer", optimizer);
  archive.write("step", at::tensor(step));
  rng.save(archive, "rng");
}

/// Restores what save_network_state wrote; returns the step count.
inline std::int64_t load_network_state(torch::serialize::InputArchive& archive, torch::nn::Module& net,
                                       torch::optim::Optimizer& optimizer, Rng& rng) {
  DAVI_CHECK(read_part(archive, "net", net) && read_part(archive, "optimizer", optimizer),
             "training state: no network or optimiser state");
  at::Tensor step;
  archive.read("step", step);
  rng.load(archive, "rng", "");
  return step.item<std::int64_t>();
}

/// Values measured on the model while it trains (a learning curve): `measure` every `every` steps, at step 0
/// and at the last step; 0 = none. `measure` must not draw from the trainer's streams, so that a run with a
/// curve trains exactly as one without.
struct CurveHook {
  int every = 0;
  std::function<std::vector<std::pair<std::string, double>>()> measure;
};

struct TrainingRecord {
  std::int64_t steps = 0;
  double seconds = 0;  // training wall time, summed over every resumption
  bool resumed = false;
};

/// Trains until `o.steps`, resuming from `dir`/train_state.pt when it exists.
/// - The checkpoint (core/archive.hpp, sealed with `tag`, the run id) holds the trainer's whole state, the
///   batch stream, the log so far and the partial sums of the next log row, so a run resumed from any step
///   ends with the numbers and the train_log.csv of a run that never stopped. train_log.csv (step, the
///   trainer's values, cumulative seconds) is derived from it: written with each checkpoint, and again on
///   resume, so a kill between the two writes loses nothing.
/// - A log row whose mean loss is not finite stops training with one line naming the step and the value;
///   the last checkpoint (before the divergence) is kept.
/// - SIGINT or SIGTERM (InterruptScope) write a checkpoint at the current step and stop with Interrupted.
/// - With a curve, curve.csv (step, training seconds, the measured values, seconds the measuring took) is
///   kept like train_log.csv: in the checkpoint, written with it and on resume.
/// - Data-parallel (the trainer's group() has several processes): the batch stream is sharded by rank; the
///   log's means are over every process's rows; all processes stop at the same step when any is signalled;
///   rank 0 alone measures the curve and writes the files, after a barrier. Every rank resumes from the
///   same checkpoint (a shared folder across machines).
template <ResumableTrainer T>
TrainingRecord train_resumably(T& trainer, const TrainingLoopOptions& o, const std::filesystem::path& dir,
                               std::uint64_t batch_seed, const std::string& label, const std::string& tag = "",
                               const CurveHook& curve = {}) {
  const auto state_path = dir / "train_state.pt";
  const auto curve_path = dir / "curve.csv";
  distributed::Group& group = training_group(trainer);
  const bool leader = group.rank() == 0;
  Rng batches(batch_seed, c10::kCPU);
  batches.shard(group.rank(), group.size());
  TrainingRecord record;
  std::string log, curve_text;
  LossRow sums;  // double accumulators of the next log row, on the trainer's device
  std::int64_t in_sums = 0, last_checkpoint = -1;
  if (std::filesystem::exists(state_path)) {
    torch::serialize::InputArchive archive, trainer_archive;
    read_sealed(archive, state_path, trainer.device(), tag, "training state");
    c10::IValue saved_log, saved_seconds, saved_names, saved_count;
    at::Tensor saved_sums;
    DAVI_CHECK(archive.try_read("trainer", trainer_archive) && archive.try_read("log", saved_log) &&
                   archive.try_read("seconds", saved_seconds) && archive.try_read("sum_names", saved_names) &&
                   archive.try_read("sums", saved_sums) && archive.try_read("in_sums", saved_count),
               state_path.string(), ": not a davi training state (missing trainer, log, seconds or sums)");
    try {
      trainer.load(trainer_archive);
      batches.load(archive, "batch_rng", "");
    } catch (const Error& e) {
      detail::fail(state_path.string(), ": ", e.what());
    } catch (const std::exception&) {
      detail::fail(state_path.string(), ": does not match this run's networks or optimiser; delete it to start over");
    }
    log = saved_log.toStringRef();
    if (c10::IValue saved_curve; archive.try_read("curve", saved_curve)) curve_text = saved_curve.toStringRef();
    record.seconds = saved_seconds.toDouble();
    in_sums = saved_count.toInt();
    std::istringstream names(saved_names.toStringRef());
    std::string name;
    for (std::int64_t i = 0; std::getline(names, name); ++i)
      sums.emplace_back(name, saved_sums[i].to(trainer.device()).clone());
    record.resumed = true;
    last_checkpoint = trainer.step();
    if (leader) {
      write_text_atomically(dir / "train_log.csv", log);
      if (curve.every > 0) write_text_atomically(curve_path, curve_text);
      std::fprintf(stderr, "%s: resumed %s at step %lld\n", label.c_str(), state_path.string().c_str(),
                   static_cast<long long>(trainer.step()));
    }
  }
  const auto checkpoint = [&] {
    group.barrier();
    last_checkpoint = trainer.step();
    if (!leader) return;
    torch::serialize::OutputArchive archive, trainer_archive;
    trainer.save(trainer_archive);
    archive.write("trainer", trainer_archive);
    archive.write("log", c10::IValue(log));
    archive.write("curve", c10::IValue(curve_text));
    archive.write("seconds", c10::IValue(record.seconds));
    std::string names;
    std::vector<at::Tensor> values;
    for (const auto& [n, sum] : sums) names += n + "\n", values.push_back(sum.cpu());
    archive.write("sum_names", c10::IValue(names));
    archive.write("sums", values.empty() ? at::zeros({0}, at::kDouble) : at::stack(values));
    archive.write("in_sums", c10::IValue(in_sums));
    batches.save(archive, "batch_rng");
    write_sealed(archive, state_path, tag);
    write_text_atomically(dir / "train_log.csv", log);
    if (curve.every > 0) write_text_atomically(curve_path, curve_text);
  };
  const auto measure_curve = [&] {
    Timer timer;
    const auto values = curve.measure();
    std::ostringstream line;
    if (curve_text.empty()) {
      line << "step,seconds";
      for (const auto& [name, value] : values) line << ',' << name;
      line << ",measure_seconds\n";
    }
    line << trainer.step() << ',' << record.seconds;
    for (const auto& [name, value] : values) line << ',' << value;
    line << ',' << timer.seconds() << '\n';
    curve_text += line.str();
  };
  const bool curve_here = curve.every > 0 && leader;
  if (curve_here && trainer.step() == 0 && curve_text.empty()) measure_curve();  // the starting point

  const InterruptScope interrupts;
  Progress progress(leader ? label : "", o.steps, trainer.step());
  std::string note;  // the first column's last logged mean, shown by the progress display
  while (trainer.step() < o.steps) {
    const int pending = InterruptScope::pending();
    if (const int signal = distributed::any(group, pending != 0) ? (pending != 0 ? pending : SIGTERM) : 0) {
      checkpoint();
      throw Interrupted(signal, detail::concat(label, ": ", signal_name(signal), " at step ", trainer.step(),
                                               "; the state is saved in ", state_path.string(), "; rerun to resume"));
    }
    Timer timer;
    const LossRow row = trainer.train_step(batches);
    if (sums.empty()) {
      for (const auto& [name, value] : row) sums.emplace_back(name, at::zeros({}, value.options().dtype(at::kDouble)));
    }
    for (std::size_t i = 0; i < row.size(); ++i) sums[i].second.add_(row[i].second.detach());
    ++in_sums;
    const std::int64_t step = trainer.step();
    const bool log_row = step % o.log_every == 0 || step == o.steps;
    std::vector<double> means;
    if (log_row) {  // the only place the loop waits for the device (and, data-parallel, for the others)
      std::vector<at::Tensor> totals;
      for (const auto& [name, sum] : sums) totals.push_back(sum);
      distributed::average_(group, totals);  // in place: the sums are zeroed once the row is written
      for (const auto& total : totals) means.push_back(total.template item<double>() / static_cast<double>(in_sums));
      for (std::size_t i = 0; i < means.size(); ++i) {
        if (std::isfinite(means[i])) continue;
        detail::fail(label, ": step ", step, ": ", sums[i].first, " is ", means[i], " (the mean of steps ",
                     step - in_sums + 1, " to ", step, "); stopped; ",
                     last_checkpoint < 0 ? std::string("no checkpoint was written")
                                         : "train_state.pt of step " + std::to_string(last_checkpoint) + " is kept",
                     "; no results are written (lower the learning rate, or clip gradients)");
      }
    }
    record.seconds += timer.seconds();
    if (log_row) {
      std::ostringstream line;
      if (log.empty()) {
        line << "step";
        for (const auto& [name, value] : sums) line << ',' << name;
        line << ",seconds\n";
      }
      line << step;
      for (const double mean : means) line << ',' << mean;
      line << ',' << record.seconds << '\n';
      log += line.str();
      for (auto& [name, sum] : sums) sum.zero_();
      in_sums = 0;
      if (!means.empty()) note = sums.front().first + " " + std::to_string(means.front());
    }
    if (curve_here && (step % curve.every == 0 || step == o.steps)) measure_curve();
    progress.update(step, note);
    if (step % o.checkpoint_every == 0 || step == o.steps) checkpoint();
  }
  record.steps = trainer.step();
  return record;
}

}  // namespace davi
