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
#include "davi/core/hash.hpp"
#include "davi/runner/kinds.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/train_classifier.hpp"
#include "davi/runner/train_prior.hpp"

namespace davi::runner {

/// A field as it is written now, and as every run made before it existed was hashed: the field absent
/// (`before` null) or in an older spelling. "/*" in `where` stands for each element of a list.
struct HashedAsBefore {
  std::string where;
  nlohmann::json now, before;
};

/// The fields added or respelled since results were first committed; they enter the hash only when they
/// differ from what those runs had, so every committed run keeps its id.
inline const std::vector<HashedAsBefore>& hashed_as_before() {
  static const std::vector<HashedAsBefore> fields = {
      {"/precision", "fp32", nullptr},
      {"/memory_format", "nchw", nullptr},
      // data sets became policies (written {"name": ...}); train_classifier and evaluate_prior gained `data`
      {"/data/dataset", {{"name", "fashion_mnist"}}, "fashion_mnist"},
      {"/data", {{"dataset", "fashion_mnist"}}, nullptr},
      // metrics became policies with options (written {"name": ..., options}); SSIM's are those every
      // earlier run used
      {"/evaluation/metrics/*", {{"name", "psnr"}}, "psnr"},
      {"/evaluation/metrics/*", {{"name", "ssim"}, {"window", 11}, {"sigma", 1.5}, {"k1", 0.01}, {"k2", 0.03}},
       "ssim"},
      {"/evaluation/metrics/*", {{"name", "classifier_feature_distance"}}, "classifier_feature_distance"},
      {"/evaluation/metrics/*", {{"name", "classifier_frechet_distance"}}, "classifier_frechet_distance"},
      {"/evaluation/metrics/*", {{"name", "diversity"}}, "diversity"},
      {"/evaluation/metrics/*", {{"name", "consistency"}}, "consistency"},
      // the trained methods gained learning curves (off by default)
      {"/method/curve", {{"every", 0}, {"images", 200}}, nullptr},
      // the evaluation of the train split beside the evaluated split (off by default)
      {"/evaluation/train_images", 0, nullptr},
  };
  return fields;
}

/// Replaces `rule.now` by `rule.before` (or removes it) at `where` in `j`.
inline void respell_as_before(nlohmann::json& j, const HashedAsBefore& rule) {
  const auto star = rule.where.find("/*");
  if (star != std::string::npos) {
    const nlohmann::json::json_pointer list(rule.where.substr(0, star));
    if (!j.contains(list) || !j[list].is_array()) return;
    for (auto& element : j[list])
      if (element == rule.now) element = rule.before;
    return;
  }
  const nlohmann::json::json_pointer at(rule.where);
  if (!j.contains(at) || j[at] != rule.now) return;
  if (rule.before.is_null()) j[at.parent_pointer()].erase(at.back());
  else j[at] = rule.before;
}

/// The hash behind a run id, over what changes the computation: the resolved config without where
/// results go and how many CPU threads compute them, with the fields of hashed_as_before() as they were.
inline std::string config_hash(nlohmann::json resolved) {
  resolved.erase("output");
  resolved.erase("threads");
  for (const auto& rule : hashed_as_before()) respell_as_before(resolved, rule);
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
  bool data_parallel = false;     // its kind can run on several processes together (davi_run --distribute data)
  RunContext context;
  std::function<void(const RunContext&)> execute;

  /// "finished" (metrics.json carries this id), "damaged" (metrics.json is not JSON, or its checksum does not
  /// match: a results file from before checksums has none), "partial" (a checkpoint or config exists) or "new".
  std::string status() const {
    const auto metrics_path = context.dir / "metrics.json";
    if (std::filesystem::exists(metrics_path)) {
      std::ifstream in(metrics_path);
      const auto metrics = nlohmann::json::parse(in, nullptr, false);
      if (metrics.is_discarded() || !metrics.is_object()) return "damaged";
      if (metrics.contains("checksum") && metrics["checksum"] != results_checksum(metrics)) return "damaged";
      if (metrics.value("run_id", "") == context.run_id) return "finished";
    }
    return std::filesystem::exists(context.dir / "config.json") ? "partial" : "new";
  }
};

/// Another experiment named in "compare_with": its finished runs are drawn beside this one's (same task, data,
/// split and classifier; checked when planning).
inline constexpr std::size_t kMaxComparedExperiments = 16;
struct ComparedExperiment {
  std::string file;               // as written
  std::filesystem::path output;   // where its summary.csv is written
  std::size_t runs = 0, finished = 0;
};

struct Plan {
  std::string experiment;
  std::filesystem::path output;
  std::vector<PlannedRun> runs;
  std::vector<ComparedExperiment> compared;
};

/// "quickstart" for "experiments/quickstart.json".
inline std::string experiment_name(const std::string& file) { return std::filesystem::path(file).stem().string(); }

/// Reads one run's config (a sweep point) strictly as the config of its kind, then calls
/// f.template operator()<K>(config). Touches no file: the fuzz target (tests/fuzz) runs exactly this.
template <class F>
void read_point(nlohmann::json config, F&& f) {
  if (!config.contains("kind")) config["kind"] = std::string(InverseProblem::name);
  DAVI_CHECK(config["kind"].is_string(), "kind: expected a string naming one of: ", policy_names<KindTypes>());
  const auto kind = config["kind"].get<std::string>();
  bool known = false;
  for_each_type<KindTypes>([&]<class K>() {
    if (known || kind != K::name) return;
    known = true;
    f.template operator()<K>(options_from_json<typename K::Config>(config, ""));
  });
  DAVI_CHECK(known, "kind: unknown \"", echo(kind), "\"; expected one of: ", policy_names<KindTypes>());
}

/// Reads, expands and validates an experiment file; throws davi::Error (one line) on the first problem.
/// A top-level "compare_with" (a list of experiment files; not part of any run's config or id) is planned
/// too, without its own "compare_with", and must solve the same task.
/// `check_outputs` refuses a file whose output folder holds another config's results (off only for
/// --migrate-ids, which looks for results under their old ids).
Plan plan_experiment(const nlohmann::json& file, const std::string& file_path, bool check_outputs = true);

/// The JSON of an experiment file (json_text.hpp); throws davi::Error ("cannot open ...", "invalid JSON at
/// byte N", "not a regular file", ...).
nlohmann::json read_json_file(const std::string& path);

}  // namespace davi::runner
