#pragma once
// An experiment file becomes a plan before anything runs: its sweeps are expanded, every run's config is
// read strictly and validated (so a bad file stops with one line and writes nothing), resolved to every
// option with its value, and given an id: the hash of that resolved config. Then the plan executes:
// a finished run (metrics.json with its id) is skipped, an interrupted one resumes from its checkpoint.
// Planning is compiled into davi_runner (experiments/runner/plan.cpp).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "davi/core/check.hpp"
#include "davi/runner/kinds.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/train_classifier.hpp"
#include "davi/runner/train_prior.hpp"

namespace davi::runner {

/// 64-bit FNV-1a of a string, as 16 hex digits.
inline std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// The hash behind a run id, over what changes the computation: the resolved config without where
/// results go and how many CPU threads compute them. precision and memory_format enter only when they
/// differ from fp32 and nchw, the setting of every run made before they existed, so those keep their ids.
inline std::string config_hash(nlohmann::json resolved) {
  resolved.erase("output");
  resolved.erase("threads");
  if (resolved.value("precision", "") == "fp32") resolved.erase("precision");
  if (resolved.value("memory_format", "") == "nchw") resolved.erase("memory_format");
  return fnv1a_hex(resolved.dump()).substr(0, 12);
}

/// The run id: the device enters as its type ("cpu" or "cuda", not the index: cuda:0 and cuda:1 compute
/// the same), so a file run on CPU and on CUDA gives two runs side by side; the CUDA switches enter only
/// on CUDA, where they change the result.
inline std::string run_id_of(nlohmann::json resolved) {
  resolved["device"] = device_type_name(resolved.value("device", ""));
  if (resolved["device"] == "cpu") resolved.erase("cuda");
  return config_hash(std::move(resolved));
}

/// The id the same run had before the device was resolved into it (results made before davi 0.2 hashed
/// the device as written, "auto" included, and had no cuda section); only --migrate-ids uses it.
inline std::string legacy_run_id_of(nlohmann::json resolved, const std::string& device_as_written) {
  resolved["device"] = device_as_written;
  resolved.erase("cuda");
  return config_hash(std::move(resolved));
}

struct PlannedRun {
  std::string kind;
  nlohmann::json assignment;  // this run's values of the sweep axes
  std::string device_as_written;  // "auto", "cuda", ... before resolution
  bool own_folder = true;         // writes to <output>/<run_id> (else to <output> itself)
  RunContext context;
  std::function<void(const RunContext&)> execute;

  /// "finished" (metrics.json carries this id), "partial" (a checkpoint or config exists) or "new".
  std::string status() const {
    const auto metrics_path = context.dir / "metrics.json";
    if (std::filesystem::exists(metrics_path)) {
      std::ifstream in(metrics_path);
      const auto metrics = nlohmann::json::parse(in, nullptr, false);
      if (!metrics.is_discarded() && metrics.value("run_id", "") == context.run_id) return "finished";
    }
    return std::filesystem::exists(context.dir / "config.json") ? "partial" : "new";
  }
};

struct Plan {
  std::string experiment;
  std::filesystem::path output;
  std::vector<PlannedRun> runs;
};

/// "quickstart" for "experiments/quickstart.json".
inline std::string experiment_name(const std::string& file) { return std::filesystem::path(file).stem().string(); }

/// Reads, expands and validates an experiment file; throws davi::Error (one line) on the first problem.
/// `check_outputs` refuses a file whose output folder holds another config's results (off only for
/// --migrate-ids, which looks for results under their old ids).
Plan plan_experiment(const nlohmann::json& file, const std::string& file_path, bool check_outputs = true);

/// The JSON of an experiment file; throws davi::Error ("cannot open ...", "invalid JSON at byte N").
nlohmann::json read_json_file(const std::string& path);

}  // namespace davi::runner
