#pragma once
// What a kind's run() is told about the run it executes, and the two files every run writes:
// config.json (the resolved config, at the start, so an unfinished folder says what it holds) and
// metrics.json (at the end, atomically: its presence with the run's id is what marks the run finished).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "davi/core/atomic_file.hpp"
#include "davi/runner/environment.hpp"

namespace davi::runner {

struct RunContext {
  std::filesystem::path dir;  // where this run writes
  std::string run_id;         // hash of the resolved config
  std::string experiment;     // the experiment file's name without .json
  std::string config_file;    // the experiment file as given on the command line
  nlohmann::json resolved;    // every option of the run with its value
};

inline void begin_run(const RunContext& run) {
  std::filesystem::create_directories(run.dir);
  write_text_atomically(run.dir / "config.json", run.resolved.dump(2) + "\n");
}

/// Writes metrics.json: the run's identity and environment, then `metrics`.
inline void finish_run(const RunContext& run, const nlohmann::json& metrics, const RunPlace& place) {
  nlohmann::json out = {{"run_id", run.run_id}, {"experiment", run.experiment}, {"config_file", run.config_file}};
  out.update(metrics);
  out["environment"] = environment_json(place);
  write_text_atomically(run.dir / "metrics.json", out.dump(2) + "\n");
}

}  // namespace davi::runner
