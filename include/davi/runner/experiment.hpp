#pragma once
// An experiment file becomes a plan before anything runs: its sweeps are expanded, every run's config is
// read strictly and validated (so a bad file stops with one line and writes nothing), resolved to every
// option with its value, and given an id: the hash of that resolved config. Then the plan executes:
// a finished run (metrics.json with its id) is skipped, an interrupted one resumes from its checkpoint.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "davi/core/check.hpp"
#include "davi/runner/evaluate_prior.hpp"
#include "davi/runner/inverse_problem.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/sweep.hpp"
#include "davi/runner/train_classifier.hpp"
#include "davi/runner/train_prior.hpp"

namespace davi::runner {

/// Every kind of run an experiment file can hold; "kind" picks one (default inverse_problem).
using KindTypes = std::tuple<InverseProblem, TrainPrior, TrainClassifier, EvaluatePrior>;

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
inline Plan plan_experiment(const nlohmann::json& file, const std::string& file_path, bool check_outputs = true) {
  Plan plan;
  plan.experiment = experiment_name(file_path);
  std::string kind_names;
  for_each_type<KindTypes>([&]<class K>() { kind_names += (kind_names.empty() ? "" : ", ") + std::string(K::name); });
  for (auto& point : expand_sweeps(file)) {
    if (!point.config.contains("kind")) point.config["kind"] = std::string(InverseProblem::name);
    DAVI_CHECK(point.config["kind"].is_string(), "kind: expected a string naming one of: ", kind_names);
    const auto kind = point.config["kind"].get<std::string>();
    bool known = false;
    for_each_type<KindTypes>([&]<class K>() {
      if (known || kind != K::name) return;
      known = true;
      auto config = options_from_json<typename K::Config>(point.config, "");
      K::validate(config);
      const auto device_as_written = config.run.device;
      resolve_run_options(config.run);
      if (config.run.output.empty()) config.run.output = "results/" + plan.experiment;
      PlannedRun run;
      run.kind = kind;
      run.assignment = point.assignment;
      run.device_as_written = device_as_written;
      run.own_folder = K::kRunFolders;
      run.context.resolved = options_to_json(config);
      run.context.run_id = run_id_of(run.context.resolved);
      run.context.experiment = plan.experiment;
      run.context.config_file = file_path;
      run.context.dir = K::kRunFolders ? std::filesystem::path(config.run.output) / run.context.run_id
                                       : std::filesystem::path(config.run.output);
      run.execute = [config](const RunContext& ctx) { K::run(config, ctx); };
      plan.output = config.run.output;
      plan.runs.push_back(std::move(run));
    });
    DAVI_CHECK(known, "kind: unknown \"", kind, "\"; expected one of: ", kind_names);
  }
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      DAVI_CHECK(plan.runs[i].context.dir != plan.runs[j].context.dir, "output: runs ", j + 1, " and ", i + 1,
                 " would both write ", plan.runs[i].context.dir.string(),
                 " (a kind that writes one artifact cannot be swept; give each its own output)");
    const auto& run = plan.runs[i];
    if (!check_outputs || !std::filesystem::exists(run.context.dir / "metrics.json") || run.status() == "finished")
      continue;
    std::ifstream in(run.context.dir / "metrics.json");
    const auto held = nlohmann::json::parse(in, nullptr, false);
    const bool legacy = !held.is_discarded() &&
                        held.value("run_id", "") == legacy_run_id_of(run.context.resolved, run.device_as_written);
    if (legacy)
      detail::fail("output: ", run.context.dir.string(), " holds this run's results under the id it had before the ",
                   "device entered run ids; run davi_run --migrate-ids ", file_path, " once (nothing was overwritten)");
    detail::fail("output: ", run.context.dir.string(), " holds the results of a different config; move it away ",
                 "or choose another output (nothing was overwritten)");
  }
  return plan;
}

inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  DAVI_CHECK(in.good(), "cannot open experiment file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    detail::fail("invalid JSON at byte ", e.byte);
  }
}

}  // namespace davi::runner
