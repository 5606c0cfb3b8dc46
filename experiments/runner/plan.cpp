// Planning an experiment file (include/davi/runner/experiment.hpp): sweeps expanded, every run read
// strictly, validated, resolved and given its id, before anything runs.
#include <algorithm>
#include <fstream>

#include "davi/runner/experiment.hpp"
#include "davi/runner/json_text.hpp"
#include "davi/runner/sweep.hpp"

namespace davi::runner {

/// Refuses an output folder that holds another experiment's runs: this plan's summary would replace that
/// experiment's summary.csv, .md and .png with a table of its own runs only.
static void refuse_another_experiments_output(const Plan& plan) {
  std::error_code ec;
  if (!std::filesystem::is_directory(plan.output, ec)) return;
  for (auto it = std::filesystem::directory_iterator(plan.output, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const auto metrics_path = it->path() / "metrics.json";
    if (!std::filesystem::is_regular_file(metrics_path, ec)) continue;
    std::ifstream in(metrics_path);
    const auto held = nlohmann::json::parse(in, nullptr, false);
    const auto other = held.is_object() && held.contains("experiment") && held["experiment"].is_string()
                           ? held["experiment"].get<std::string>()
                           : plan.experiment;
    DAVI_CHECK(other == plan.experiment, "output: ", plan.output.string(), " holds runs of the experiment \"",
               echo(other), "\" (", it->path().filename().string(), "), whose summary this one would overwrite; ",
               "choose another output (a renamed experiment file: move its results first)");
  }
}

/// The first key, in key order, whose value differs between the config a folder holds and this run's, as
/// "device: cpu there, cuda here": the reason a folder is refused, without a diff by hand. Empty if none.
static std::string first_difference(const nlohmann::json& there, const nlohmann::json& here,
                                    const std::string& path = "") {
  const auto shown = [](const nlohmann::json* value) { return value ? echo(value->dump(), 40) : std::string("absent"); };
  if (there.is_object() && here.is_object()) {
    std::vector<std::string> keys;
    for (const auto& [key, _] : there.items()) keys.push_back(key);
    for (const auto& [key, _] : here.items())
      if (!there.contains(key)) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (const auto& key : keys) {
      const auto where = path.empty() ? echo_key(key) : path + "." + echo_key(key);
      if (!there.contains(key) || !here.contains(key))
        return where + ": " + shown(there.contains(key) ? &there[key] : nullptr) + " there, " +
               shown(here.contains(key) ? &here[key] : nullptr) + " here";
      if (auto inner = first_difference(there[key], here[key], where); !inner.empty()) return inner;
    }
    return "";
  }
  return there == here ? "" : path + ": " + shown(&there) + " there, " + shown(&here) + " here";
}

/// What two experiments must share for their numbers to be drawn together: the task (operator and noise),
/// the data set, the evaluation's split and the classifier its Frechet distance is measured with.
static std::vector<std::pair<std::string, nlohmann::json>> comparable_part(const nlohmann::json& resolved) {
  std::vector<std::pair<std::string, nlohmann::json>> part;
  for (std::string key : {"task", "data.dataset", "evaluation.split", "evaluation.classifier"}) {
    auto pointer_text = "/" + key;
    std::replace(pointer_text.begin(), pointer_text.end(), '.', '/');
    const nlohmann::json::json_pointer pointer(pointer_text);
    part.emplace_back(key, resolved.contains(pointer) ? resolved[pointer] : nlohmann::json());
  }
  return part;
}

/// Plans the experiments named in "compare_with" (each without its own "compare_with": one level, so no
/// chains or cycles) and checks that they solve this plan's one task, on the same data, split and classifier.
static void plan_comparisons(Plan& plan, const nlohmann::json& list) {
  DAVI_CHECK(list.is_array() && list.size() <= kMaxComparedExperiments, "compare_with: expected a list of at most ",
             kMaxComparedExperiments, " experiment files, got ", echo(list.dump()));
  const auto own = comparable_part(plan.runs.front().context.resolved);
  for (const auto& run : plan.runs) {
    DAVI_CHECK(run.kind == InverseProblem::name, "compare_with: only inverse problems are compared (this file's ",
               "runs are ", run.kind, ")");
    DAVI_CHECK(comparable_part(run.context.resolved) == own, "compare_with: this file's runs differ in task, data, ",
               "split or classifier; a comparison needs one of each");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto where = "compare_with[" + std::to_string(i) + "]";
    DAVI_CHECK(list[i].is_string() && !list[i].get<std::string>().empty(), where,
               ": expected the path of an experiment file, got ", echo(list[i].dump()));
    const auto path = list[i].get<std::string>();
    const auto named = where + ": " + echo(path, 200);
    Plan other;
    try {
      auto file = read_json_file(path);
      if (file.is_object()) file.erase("compare_with");
      other = plan_experiment(file, path, /*check_outputs=*/false);
    } catch (const Error& e) {
      detail::fail(named, ": ", e.what());
    }
    const auto canonical = [](const std::filesystem::path& p) {
      std::error_code ec;
      const auto c = std::filesystem::weakly_canonical(p, ec);
      return ec ? p.lexically_normal() : c;
    };
    DAVI_CHECK(canonical(other.output) != canonical(plan.output), named, ": writes to this experiment's own output ",
               plan.output.string());
    ComparedExperiment compared{path, other.output, other.runs.size(), 0};
    for (const auto& run : other.runs) {
      DAVI_CHECK(run.kind == InverseProblem::name, named, ": its runs are ", run.kind, ", not inverse problems");
      const auto theirs = comparable_part(run.context.resolved);
      for (std::size_t k = 0; k < own.size(); ++k)
        DAVI_CHECK(theirs[k].second == own[k].second, named, ": run ", run.context.run_id, " has another ",
                   own[k].first, " (", echo(theirs[k].second.dump(), 200), "; here ", echo(own[k].second.dump(), 200),
                   "), so its numbers cannot be drawn beside this experiment's");
      compared.finished += run.status() == "finished";
    }
    plan.compared.push_back(std::move(compared));
  }
}

Plan plan_experiment(const nlohmann::json& file_as_read, const std::string& file_path, bool check_outputs) {
  // "compare_with" names other experiments, not an option of a run: it stays out of run configs and ids.
  auto file = file_as_read;
  nlohmann::json compare_with;
  if (file.is_object() && file.contains("compare_with")) {
    compare_with = file["compare_with"];
    file.erase("compare_with");
  }
  Plan plan;
  plan.experiment = experiment_name(file_path);
  for (auto& point : expand_sweeps(file)) {
    read_point(point.config, [&]<class K>(typename K::Config config) {
      K::validate(config);
      const auto device_as_written = config.run.device;
      resolve_run_options(config.run);
      if (config.run.output.empty()) config.run.output = "results/" + plan.experiment;
      check_output_folder(config.run.output);
      PlannedRun run;
      run.kind = std::string(K::name);
      run.assignment = point.assignment;
      run.device_as_written = device_as_written;
      run.own_folder = K::kRunFolders;
      run.data_parallel = K::kDataParallel;
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
  }
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      DAVI_CHECK(plan.runs[i].context.dir != plan.runs[j].context.dir, "output: runs ", j + 1, " and ", i + 1,
                 " would both write ", plan.runs[i].context.dir.string(),
                 " (a kind that writes one artifact cannot be swept; give each its own output)");
    const auto& run = plan.runs[i];
    if (!check_outputs || !std::filesystem::exists(run.context.dir / "metrics.json")) continue;
    const auto status = run.status();  // parses metrics.json: once
    if (status == "finished") continue;
    DAVI_CHECK(status != "damaged", "output: ", (run.context.dir / "metrics.json").string(),
               " is damaged (not JSON, or its checksum does not match); delete it to rerun the run");
    std::ifstream in(run.context.dir / "metrics.json");
    const auto held = nlohmann::json::parse(in, nullptr, false);
    const bool legacy = !held.is_discarded() &&
                        held.value("run_id", "") == legacy_run_id_of(run.context.resolved, run.device_as_written);
    if (legacy)
      detail::fail("output: ", run.context.dir.string(), " holds this run's results under the id it had before the ",
                   "device entered run ids; run davi_run --migrate-ids ", file_path, " once (nothing was overwritten)");
    std::ifstream held_config_file(run.context.dir / "config.json");
    const auto held_config = nlohmann::json::parse(held_config_file, nullptr, false);
    const auto difference = held_config.is_object() ? first_difference(held_config, run.context.resolved) : "";
    detail::fail("output: ", run.context.dir.string(), " holds the results of a different config (",
                 difference.empty() ? std::string("its config.json does not say which") : difference,
                 "); move it away or choose another output (nothing was overwritten)");
  }
  if (check_outputs) refuse_another_experiments_output(plan);
  if (!compare_with.is_null()) plan_comparisons(plan, compare_with);
  return plan;
}

nlohmann::json read_json_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  DAVI_CHECK(std::filesystem::exists(status), "cannot open experiment file");
  DAVI_CHECK(std::filesystem::is_regular_file(status), "not a regular file (a folder, a pipe or a device)");
  const auto size = std::filesystem::file_size(path, ec);
  DAVI_CHECK(!ec && size <= kMaxExperimentBytes, "experiment file of ", size, " bytes; expected at most ",
             kMaxExperimentBytes);
  std::ifstream in(path, std::ios::binary);
  DAVI_CHECK(in.good(), "cannot open experiment file");
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  DAVI_CHECK(in.gcount() == static_cast<std::streamsize>(size), "cannot read experiment file");
  return parse_experiment_text(text);
}

}  // namespace davi::runner
