// davi_run's entry point (include/davi/runner/runner.hpp): the command line, the listing, execution of a
// plan and its summary.
#include "davi/runner/runner.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "davi/core/interrupt.hpp"
#include "davi/runner/migrate.hpp"
#include "davi/runner/seed_summary.hpp"
#include "davi/runner/summary.hpp"

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

/// Runs tools/plot_summary.py on the experiment's summary.csv when the script is reachable from here.
static void make_figure(const Plan& plan) {
  const char* script_env = std::getenv("DAVI_PLOT_SCRIPT");
  const std::string script = script_env ? script_env : "tools/plot_summary.py";
  if (!std::filesystem::exists(script)) {
    std::cout << "figure: skipped (" << script << " not found from here)\n";
    return;
  }
  // The paths go to the script as arguments, never through a shell: an output folder may hold any character.
  const std::string csv = (plan.output / "summary.csv").string();
  std::vector<char*> args = {const_cast<char*>(script.c_str()), const_cast<char*>(csv.c_str()), nullptr};
  pid_t pid = 0;
  int status = 0;
  const bool ran = posix_spawn(&pid, script.c_str(), nullptr, nullptr, args.data(), environ) == 0 &&
                   waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ran) std::cout << "figure: " << script << " " << csv << " failed; the tables are written\n";
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

int execute(const Plan& plan) {
  std::size_t done = 0;
  for (const auto& run : plan.runs) {
    ++done;
    const auto status = run.status();
    std::cout << "[" << done << "/" << plan.runs.size() << "] " << run.kind << " " << run.context.run_id;
    for (const auto& [key, value] : run.assignment.items()) std::cout << " " << key << "=" << value_label(value);
    std::cout << " -> " << run.context.dir.string() << (status == "finished" ? " (finished, skipped)\n" : "\n")
              << std::flush;
    if (status == "finished") continue;
    begin_run(run.context);
    run.execute(run.context);
  }
  write_summary_and_figure(plan);
  return 0;
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
  const std::string usage = "usage: davi_run [--validate | --summary | --migrate-ids] FILE.json | --list";
  if (argc == 2 && std::string(argv[1]) == "--list") {
    print_list(std::cout);
    return 0;
  }
  const bool validate_only = argc == 3 && std::string(argv[1]) == "--validate";
  const bool summary_only = argc == 3 && std::string(argv[1]) == "--summary";
  const bool migrate = argc == 3 && std::string(argv[1]) == "--migrate-ids";
  if (argc != 2 && !validate_only && !summary_only && !migrate) {
    std::cerr << usage << "\n";
    return 2;
  }
  // A file-size limit (ulimit -f) must fail the write, which is reported and cleaned up, not kill the process.
  ::signal(SIGXFSZ, SIG_IGN);
  const std::string path = argv[argc - 1];
  // Every message is one line: the file's name and the error, control characters escaped, cut if huge.
  const auto report = [&](const std::exception& e, int code) {
    std::cerr << echo(path, 200) << ": " << echo(e.what(), 2000) << "\n";
    return code;
  };
  Plan plan;
  try {
    plan = plan_experiment(read_json_file(path), path, /*check_outputs=*/!migrate);
  } catch (const Error& e) {
    return report(e, 2);
  } catch (const std::exception& e) {  // anything else a check missed (LibTorch, the JSON library): still one line
    return report(std::runtime_error(first_line(e.what())), 2);
  }
  print_auto_device(plan);
  if (validate_only) {
    std::cout << path << ": valid, " << plan.runs.size() << " run" << (plan.runs.size() == 1 ? "" : "s") << "\n";
    for (const auto& run : plan.runs) {
      std::cout << "  " << run.context.run_id << " " << run.status() << " " << run.context.dir.string();
      for (const auto& [key, value] : run.assignment.items()) std::cout << " " << key << "=" << value_label(value);
      std::cout << "\n";
    }
    return 0;
  }
  try {
    if (migrate) {
      const auto count = migrate_legacy_ids(plan, std::cout);
      std::cout << path << ": " << count.migrated << " run" << (count.migrated == 1 ? "" : "s")
                << " moved to new ids, " << count.skipped << " left alone\n";
      if (count.migrated > 0) write_summary_and_figure(plan);
      return count.skipped > 0 ? 1 : 0;
    }
    if (summary_only) {
      write_summary_and_figure(plan);
      return 0;
    }
    return execute(plan);
  } catch (const Interrupted& e) {  // SIGINT or SIGTERM during training: its state was saved first
    return report(e, 128 + e.signal);
  } catch (const Error& e) {
    return report(e, 1);  // failed during the work; finished runs and checkpoints are kept
  } catch (const std::exception& e) {
    return report(std::runtime_error(first_line(e.what())), 1);
  }
}

}  // namespace davi::runner
