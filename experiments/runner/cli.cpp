// davi_run's entry point (include/davi/runner/runner.hpp): the command line, the listing, execution of a
// plan and its summary.
#include "davi/runner/runner.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "davi/core/interrupt.hpp"
#include "davi/core/threads.hpp"
#include "davi/distributed/c10d_group.hpp"
#include "davi/runner/migrate.hpp"
#include "davi/runner/seed_summary.hpp"
#include "davi/runner/summary.hpp"
#include "evaluation_progress.hpp"

extern char** environ;  // POSIX: the process environment, handed to the plotting script

namespace davi::runner {


/// Human-readable listing: each kind, each policy, each option with its default and meaning.
void print_list(std::ostream& out) {
  const auto sections = registry_listing();
  const auto print_options = [&](const auto& self, const nlohmann::json& doc, const std::string& prefix) -> void {
    for (const auto& field : doc) {
      const auto key = prefix + field["key"].get<std::string>();
      if (field.contains("fields")) {
        out << "    " << key << ":    # " << field["description"].get<std::string>() << "\n";
        self(self, field["fields"], key + ".");
      } else {
        out << "    " << key << " = " << field["default"].dump() << "    # " << field["description"].get<std::string>();
        if (field.contains("constraint")) out << " (" << field["constraint"].get<std::string>() << ")";
        out << "\n";
      }
    }
  };
  for (const auto& [section, policies] : sections.items()) {
    out << section << ":\n";
    for (const auto& [name, doc] : policies.items()) {
      out << "  " << name << "\n";
      print_options(print_options, doc, "");
    }
  }
}

/// Runs tools/plot_summary.py on the experiment's summary.csv (and the summaries of the experiments it is compared
/// with) when the script is reachable from here.
static void make_figure(const Plan& plan) {
  const char* script_env = std::getenv("DAVI_PLOT_SCRIPT");
  const std::string script = script_env ? script_env : "tools/plot_summary.py";
  if (!std::filesystem::exists(script)) {
    std::cout << "figure: skipped (" << script << " not found from here)\n";
    return;
  }
  // The paths go to the script as arguments, never through a shell: an output folder may hold any character.
  // $DAVI_PYTHON names another interpreter than the script's own (Debian's python3 with matplotlib).
  const char* python = std::getenv("DAVI_PYTHON");
  const std::string summary = (plan.output / "summary.csv").string();
  std::vector<std::string> words = {script, summary};
  if (python && *python) words.insert(words.begin(), python);
  for (const auto& compared : plan.compared)
    words.insert(words.end(), {"--compare", (compared.output / "summary.csv").string()});
  std::vector<char*> args;
  for (auto& word : words) args.push_back(word.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  int status = 0;
  const bool ran = posix_spawnp(&pid, words[0].c_str(), nullptr, nullptr, args.data(), environ) == 0 &&
                   waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ran) std::cout << "figure: " << script << " " << summary << " failed; the tables are written\n";
}

/// The experiment's summary tables and figure, over the runs finished so far (inverse problems only).
void write_summary_and_figure(const Plan& plan) {
  bool has_table = false;
  for (const auto& run : plan.runs) has_table = has_table || run.kind == InverseProblem::name;
  if (!has_table) return;
  const auto table = write_summary(plan);
  write_seed_summary(plan, table);
  std::cout << "summary: " << (plan.output / "summary.md").string() << " (" << table.rows.size() << " of "
            << plan.runs.size() << " runs finished)\n";
  make_figure(plan);
}

/// "[k/n] kind id key=value ... -> dir" and what happens to the run (`what`: "", " (finished, skipped)", ...),
/// the line each run starts with.
static void print_run_line(const PlannedRun& run, std::size_t index, std::size_t count, const std::string& label,
                           const std::string& what, const std::string& prefix = "") {
  std::cout << prefix << "[" << index << "/" << count << "] " << run.kind << " " << run.context.run_id << label
            << " -> " << run.context.dir.string() << what << "\n"
            << std::flush;
}

void check_selection(const Plan& plan, const RunSelection& only) {
  std::set<std::string> ids;
  std::string listing;
  for (const auto& run : plan.runs) {
    if (ids.insert(run.context.run_id).second) listing += (listing.empty() ? "" : ", ") + run.context.run_id;
  }
  for (const auto& id : only)
    DAVI_CHECK(ids.count(id), "--only: no run \"", echo(id, 40), "\" in this file; its runs: ", listing);
}

static bool selected(const RunSelection& only, const PlannedRun& run) {
  return only.empty() || only.count(run.context.run_id) > 0;
}

int execute(const Plan& plan, const RunSelection& only) {
  return execute(plan, distributed::solo(), Distribute::runs, only);
}

int execute(const Plan& plan, const std::shared_ptr<distributed::Group>& world, Distribute mode,
            const RunSelection& only) {
  const int rank = world->rank(), size = world->size();
  const std::string prefix = world->alone() ? "" : "rank " + std::to_string(rank) + ": ";
  // Every process plans the same work from the same statuses, read once before any of it starts.
  std::vector<std::string> statuses;
  for (const auto& run : plan.runs) statuses.push_back(run.status());
  const auto labels = assignment_labels(plan.runs);
  std::size_t unfinished = 0;  // round-robin counter over the unfinished runs of the current stage
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& run = plan.runs[i];
    if (i > 0 && run.kind != plan.runs[i - 1].kind) {  // a new stage: wait for the last one's artifacts
      world->wait_for_all("stage-" + std::to_string(i));
      unfinished = 0;
    }
    if (statuses[i] == "finished") {
      if (world->rank() == 0) print_run_line(run, i + 1, plan.runs.size(), labels[i], " (finished, skipped)", prefix);
      continue;
    }
    if (!selected(only, run)) {  // every process skips it alike, so the round robin stays in step
      if (world->rank() == 0) print_run_line(run, i + 1, plan.runs.size(), labels[i], " (not selected)", prefix);
      continue;
    }
    RunContext context = run.context;
    if (mode == Distribute::runs) {
      if (static_cast<int>(unfinished++ % static_cast<std::size_t>(size)) != rank) continue;
    } else if (run.data_parallel) {
      context.group = world;
    } else if (rank != 0) {  // a kind that runs on one process: rank 0's, the others wait for it
      world->wait_for_all("run-" + std::to_string(i));
      continue;
    }
    if (context.writes()) print_run_line(run, i + 1, plan.runs.size(), labels[i], "", prefix);
    begin_run(context);
    run.execute(context);
    if (mode == Distribute::data && !run.data_parallel) world->wait_for_all("run-" + std::to_string(i));
  }
  world->wait_for_all("summary");
  if (rank == 0) write_summary_and_figure(plan);
  world->wait_for_all("end");  // nobody closes its connections while rank 0 still writes
  return 0;
}

/// davi_run --time: each finished inverse_problem run's method timed alone, untrained, into its timing.json
/// (InverseProblem: time_method); then the summary, whose seconds_per_image_alone column and Pareto figure use
/// it. Unfinished runs are listed and left alone: what they would be drawn beside is not there yet.
static int time_finished_runs(const Plan& plan, const RunSelection& only) {
  const auto labels = assignment_labels(plan.runs);
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& run = plan.runs[i];
    if (run.kind != InverseProblem::name || !selected(only, run)) continue;
    const auto status = run.status();
    print_run_line(run, i + 1, plan.runs.size(), labels[i], status == "finished" ? " (timing)" : " (" + status + ", not timed)");
    if (status != "finished") continue;
    RunContext context = run.context;
    context.time_only = true;
    run.execute(context);
  }
  write_summary_and_figure(plan);
  return 0;
}

/// The integer at `pointer` in `run`'s resolved config, 0 where there is none (a kind without that option).
static std::int64_t resolved_integer(const PlannedRun& run, const char* pointer) {
  const auto& c = run.context.resolved;
  const nlohmann::json::json_pointer at(pointer);
  return c.contains(at) && c.at(at).is_number_integer() ? c.at(at).get<std::int64_t>() : 0;
}

/// Refuses a batch of `run` that does not split evenly over `processes`.
static void check_batches_split(const PlannedRun& run, int processes) {
  const auto check = [&](const char* key, std::int64_t rows) {
    DAVI_CHECK(rows % processes == 0, "run ", run.context.run_id, ": ", key, ": ", rows, " images do not split ",
               "evenly over WORLD_SIZE ", processes, " processes (davi_run --distribute data); use a multiple of ",
               processes);
  };
  for (const auto& [key, pointer] : {std::pair{"method.batch_size", "/method/batch_size"},
                                     std::pair{"training.batch_size", "/training/batch_size"}})
    if (const auto rows = resolved_integer(run, pointer); rows > 0) check(key, rows);
  const auto batch = resolved_integer(run, "/evaluation/batch_size");
  for (const auto& [key, pointer] : {std::pair{"evaluation.images", "/evaluation/images"},
                                     std::pair{"evaluation.train_images", "/evaluation/train_images"}}) {
    const auto images = resolved_integer(run, pointer);
    if (batch <= 0 || images <= 0) continue;
    check("evaluation.batch_size", std::min(batch, images));
    if (images % batch != 0) check((std::string(key) + " (its last batch)").c_str(), images % batch);
  }
}

/// Refuses a device of `run` that the job's process group cannot serve: another type than `first_device`
/// (one group serves the file), a backend this build lacks, or a GPU shared by processes (NCCL needs one
/// each).
static void check_process_group(const PlannedRun& run, const distributed::World& world, const std::string& first_device) {
  const auto written = run.context.resolved.value("device", "cpu");
  const auto device = device_type_name(written);
  const auto& id = run.context.run_id;
  DAVI_CHECK(device == first_device, "run ", id, ": device: ", written, ": the data-parallel runs of one file share ",
             "one process group, so one device type (the first is ", first_device, "); split the file, or run it ",
             "with --distribute runs");
  if (device == "cpu") {
    DAVI_CHECK(distributed::kHasGloo, "run ", id, ": data-parallel CPU runs need Gloo, which this build of davi lacks ",
               "(Debian's LibTorch with libgloo-dev has it: tools/davi); use --distribute runs, or one process");
    return;
  }
  DAVI_CHECK(distributed::kHasNccl, "run ", id, ": device: ", written, ": data-parallel CUDA runs need NCCL, which ",
             "this build of davi lacks (a CUDA build of LibTorch 2.x has it: DAVI_TORCH=pip); run them with ",
             "--distribute runs (one run per GPU) or on the CPU");
  DAVI_CHECK(world.local_size == 1 || run.device_as_written == "cuda" || run.device_as_written == "auto", "run ", id,
             ": device: \"", run.device_as_written, "\" names one GPU for every process of this machine, and NCCL ",
             "needs one GPU per process; write \"cuda\" (each process then uses cuda:LOCAL_RANK)");
  const int gpus = cuda_device_count();
  DAVI_CHECK(world.local_size <= gpus, "run ", id, ": ", world.local_size, " processes on this machine ",
             "(LOCAL_WORLD_SIZE) but ", gpus, " CUDA device", gpus == 1 ? "" : "s", " visible, and NCCL needs one GPU ",
             "per process; start at most ", gpus, " per machine");
}

void check_data_parallel(const Plan& plan, const distributed::World& world) {
  if (world.size == 1) return;
  std::string first_device;  // the device type of the first data-parallel run: one process group serves all
  for (const auto& run : plan.runs) {
    if (!run.data_parallel) continue;
    check_batches_split(run, world.size);
    if (first_device.empty()) first_device = device_type_name(run.context.resolved.value("device", "cpu"));
    check_process_group(run, world, first_device);
  }
}

/// The device of the plan's data-parallel runs (one type for all: check_data_parallel), this rank's own GPU
/// for CUDA; the CPU when there are none.
static c10::Device collective_device(const Plan& plan) {
  for (const auto& run : plan.runs)
    if (run.data_parallel) return select_device(run.context.resolved.value("device", "cpu"));
  return c10::kCPU;
}

/// For a partial run whose evaluation was stopped: how much of it is saved (its progress file is read, so a
/// damaged one is refused here, before any work).
static void print_saved_evaluation(std::ostream& out, const PlannedRun& run) {
  if (!run.own_folder || run.status() != "partial") return;
  const auto batch = std::max<std::int64_t>(resolved_integer(run, "/evaluation/batch_size"), 1);
  for (const std::string part : {"", "train"}) {
    const auto saved = EvaluationProgress(run.context.dir, part).saved_batches();
    if (saved == 0) continue;
    const auto images = resolved_integer(run, part.empty() ? "/evaluation/images" : "/evaluation/train_images");
    out << " (" << (part.empty() ? "" : part + " ") << "evaluation: " << saved << " of "
        << (images + batch - 1) / batch << " batches saved)";
  }
}

/// One line saying what "device": "auto" chose here, when any run of the plan asked for it.
static void print_auto_device(const Plan& plan) {
  for (const auto& run : plan.runs) {
    if (run.device_as_written != "auto") continue;
    const auto chosen = run.context.resolved.value("device", "cpu");
    std::cout << "device: auto -> " << chosen
              << (chosen == "cpu" ? " (no CUDA device visible to this LibTorch)" : " (the first CUDA device)") << "\n";
    return;
  }
}

int main(int argc, char** argv) {
  const std::string usage =
      "usage: davi_run [--distribute runs|data] [--only ID[,ID...]] [--validate | --summary | --time | --migrate-ids] "
      "FILE.json | --list";
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--list") {
    print_list(std::cout);
    return 0;
  }
  RunSelection only;  // --only a,b: taken out first, wherever it stands before the file
  if (const auto at = std::find(args.begin(), args.end(), "--only"); at != args.end()) {
    if (at + 1 == args.end() || at + 2 == args.end()) {
      std::cerr << usage << "\n";
      return 2;
    }
    std::istringstream ids(*(at + 1));
    for (std::string id; std::getline(ids, id, ',');)
      if (!id.empty()) only.insert(id);
    args.erase(at, at + 2);
    if (only.empty()) {
      std::cerr << "davi_run: --only: expected run ids separated by commas (davi_run --validate FILE.json lists them)\n";
      return 2;
    }
  }
  std::string flag = args.size() >= 2 ? args[0] : "";
  Distribute mode = Distribute::runs;
  if (flag == "--distribute" && args.size() >= 3 && (args[1] == "runs" || args[1] == "data")) {
    mode = args[1] == "runs" ? Distribute::runs : Distribute::data;
    args.erase(args.begin(), args.begin() + 2);
    flag = args.size() >= 2 ? args[0] : "";  // --validate after it checks the split of every batch too
  }
  const bool validate_only = flag == "--validate", summary_only = flag == "--summary", migrate = flag == "--migrate-ids",
             time_only = flag == "--time";
  const bool selection_allowed = only.empty() || !(summary_only || migrate);  // those two cover the whole file
  if (!selection_allowed ||
      !(args.size() == 1 || (args.size() == 2 && (validate_only || summary_only || migrate || time_only)))) {
    std::cerr << usage << "\n";
    return 2;
  }
  // A file-size limit (ulimit -f) must fail the write, which is reported and cleaned up, not kill the process.
  ::signal(SIGXFSZ, SIG_IGN);
  const std::string path = args.back();
  // Every message is one line: the file's name and the error, control characters escaped, cut if huge.
  std::string rank_prefix;
  const auto report = [&](const std::exception& e, int code) {
    std::cerr << rank_prefix << echo(path, 200) << ": " << echo(e.what(), 2000) << "\n";
    return code;
  };
  Plan plan;
  distributed::World world;
  try {
    world = distributed::world_from_environment();
    if (!world.alone()) rank_prefix = "rank " + std::to_string(world.rank) + ": ";
    thread_sharers() = world.local_size;  // threads = 0: this machine's threads, divided among its ranks
    local_process_index() = world.local_rank;  // "cuda": this rank's own GPU
    plan = plan_experiment(read_json_file(path), path, /*check_outputs=*/!migrate);
    if (mode == Distribute::data) check_data_parallel(plan, world);
    check_selection(plan, only);
  } catch (const Error& e) {
    return report(e, 2);
  } catch (const std::exception& e) {  // anything else a check missed (LibTorch, the JSON library): still one line
    return report(std::runtime_error(first_line(e.what())), 2);
  }
  if (world.leader()) print_auto_device(plan);
  if (validate_only) {
    std::ostringstream listing;  // written once every saved evaluation was read: a damaged one is an error
    try {
      const auto labels = assignment_labels(plan.runs);
      for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        const auto& run = plan.runs[i];
        listing << "  " << run.context.run_id << " " << run.status() << " " << run.context.dir.string() << labels[i]
                << (selected(only, run) ? "" : " (not selected)");
        print_saved_evaluation(listing, run);
        listing << "\n";
      }
    } catch (const Error& e) {
      return report(e, 2);
    }
    for (const auto& compared : plan.compared)
      listing << "  compare_with " << echo(compared.file, 200) << ": " << compared.finished << " of " << compared.runs
              << " runs finished (" << compared.output.string() << ")\n";
    std::cout << path << ": valid, " << plan.runs.size() << " run" << (plan.runs.size() == 1 ? "" : "s") << "\n"
              << listing.str();
    return 0;
  }
  std::shared_ptr<distributed::Group> group;
  // The process's last words to the others: why it stopped (if it failed), then its exit code is settled
  // (closing connections after that is no news) and it leaves the job in order.
  const auto leave = [&](int code, const std::string& failure = "") {
    if (!group) return code;
    if (!failure.empty()) group->fail(failure);
    distributed::settled_exit_code() = code;
    if (failure.empty()) group->leave();  // after a failure the others may be gone: nobody to wait for
    return code;
  };
  try {
    if (migrate || summary_only || time_only) {
      DAVI_CHECK(world.alone(), "--migrate-ids, --summary and --time run as one process (WORLD_SIZE is ", world.size,
                 ")");
      if (time_only) return time_finished_runs(plan, only);
      if (summary_only) {
        write_summary_and_figure(plan);
        return 0;
      }
      const auto count = migrate_legacy_ids(plan, std::cout);
      std::cout << path << ": " << count.migrated << " run" << (count.migrated == 1 ? "" : "s")
                << " moved to new ids, " << count.skipped << " left alone\n";
      if (count.migrated > 0) write_summary_and_figure(plan);
      return count.skipped > 0 ? 1 : 0;
    }
    group = distributed::connect(world, collective_device(plan), /*collectives=*/mode == Distribute::data);
    return leave(execute(plan, group, mode, only));
  } catch (const Interrupted& e) {  // SIGINT or SIGTERM during training: its state was saved first
    return leave(report(e, 128 + e.signal), e.what());
  } catch (const Error& e) {
    return leave(report(e, 1), e.what());  // failed during the work; finished runs and checkpoints are kept
  } catch (const std::exception& e) {
    return leave(report(std::runtime_error(first_line(e.what())), 1), first_line(e.what()));
  }
}

}  // namespace davi::runner
