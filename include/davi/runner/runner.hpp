#pragma once
// davi_run's entry point:
//   davi_run FILE.json             plan the experiment, run what is not finished, write the summary
//   davi_run --validate FILE.json  plan only: check the file and list its runs with their ids and status
//   davi_run --summary FILE.json   run nothing: write the summary and figure of the runs finished so far
//   davi_run --migrate-ids FILE.json  one-off: move results made before the device entered run ids
//   davi_run --list                every kind, policy and method with its options and defaults
//   davi_run --only ID[,ID...] [--validate | --time] FILE.json  only these runs (ids from --validate); the
//                                  summary still covers every finished run of the file
//   davi_run --distribute data --validate FILE.json  also checks that every batch splits over WORLD_SIZE
// Under torchrun (RANK, WORLD_SIZE, ... set; docs/distributed.md), `davi_run [--distribute runs|data] FILE.json`
// shares the work among the processes: each run to one process (runs, the default), or every run
// data-parallel over all of them (data).
// A bad file stops before any work with one line naming the JSON path, exit code 2, nothing written.
// Compiled into davi_runner (experiments/runner/cli.cpp); link davi_runner to use these.
#include <memory>
#include <ostream>
#include <set>
#include <string>

#include "davi/distributed/group.hpp"

#include "davi/runner/experiment.hpp"
#include "davi/runner/sweep.hpp"

namespace davi::runner {

/// Human-readable listing: each kind, each policy, each option with its default and meaning.
void print_list(std::ostream& out);

/// How the processes of a job share an experiment: each unfinished run executed by one of them (round
/// robin, in stages of consecutive runs of one kind, so a prior trained by the file exists before the runs
/// that use it), or every run executed by all of them together, data-parallel.
enum class Distribute { runs, data };

/// Run ids chosen on the command line (--only); empty = every run of the plan.
using RunSelection = std::set<std::string>;

/// Refuses an id of `only` that names no run of `plan`, listing the plan's ids.
void check_selection(const Plan& plan, const RunSelection& only);

/// Runs what is not finished in the plan (of it, the runs in `only` when it is not empty), then writes the
/// summary tables and figure over every finished run; returns the exit code.
int execute(const Plan& plan, const RunSelection& only = {});
/// The same, shared among the processes of `world` (rank 0 writes the summary once every process is done).
int execute(const Plan& plan, const std::shared_ptr<distributed::Group>& world, Distribute mode,
            const RunSelection& only = {});

/// Refuses, before any work, a plan that cannot run data-parallel over the processes of `world`: a batch
/// (training or evaluation, including an evaluation's last, partial batch) that does not split evenly; a
/// device this build has no process group for (Gloo: CPU, NCCL: CUDA); CPU and CUDA runs in one file; one
/// GPU named for every process, or more processes on a machine than GPUs.
void check_data_parallel(const Plan& plan, const distributed::World& world);

/// The experiment's summary tables and figure, over the runs finished so far (inverse problems only).
void write_summary_and_figure(const Plan& plan);

/// davi_run's command line (above); returns its exit code.
int main(int argc, char** argv);

}  // namespace davi::runner
