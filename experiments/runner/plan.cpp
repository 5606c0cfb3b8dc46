// Planning an experiment file (include/davi/runner/experiment.hpp): sweeps expanded, every run read
// strictly, validated, resolved and given its id, before anything runs.
#include <fstream>

#include "davi/runner/experiment.hpp"
#include "davi/runner/sweep.hpp"

namespace davi::runner {

Plan plan_experiment(const nlohmann::json& file, const std::string& file_path, bool check_outputs) {
  Plan plan;
  plan.experiment = experiment_name(file_path);
  const auto kind_names = policy_names<KindTypes>();
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

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  DAVI_CHECK(in.good(), "cannot open experiment file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    detail::fail("invalid JSON at byte ", e.byte);
  }
}

}  // namespace davi::runner
