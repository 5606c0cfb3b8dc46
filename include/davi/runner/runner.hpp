#pragma once
// davi_run's entry point: reads an experiment file, dispatches on its "task", and turns every
// davi::Error into one line on stderr with exit code 2 before any output is written.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "davi/runner/registry.hpp"
#include "davi/runner/sample_prior.hpp"
#include "davi/runner/train_davi.hpp"
#include "davi/runner/train_prior.hpp"

namespace davi::runner {

inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  DAVI_CHECK(in.good(), path, ": cannot open experiment file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    detail::fail(path, ": invalid JSON at byte ", e.byte);
  }
}

inline std::string task_of(const nlohmann::json& config) {
  DAVI_CHECK(config.is_object(), "(top level): expected an object");
  DAVI_CHECK(config.contains("task") && config["task"].is_string(),
             "task: expected a string naming one of: train_prior, sample_prior, train_davi");
  const auto task = config["task"].get<std::string>();
  DAVI_CHECK(task == "train_prior" || task == "sample_prior" || task == "train_davi", "task: unknown \"", task,
             "\"; expected one of: train_prior, sample_prior, train_davi");
  return task;
}

inline void validate_file(const nlohmann::json& config) {
  const auto task = task_of(config);
  if (task == "train_prior") validate(options_from_json<TrainPriorExperiment>(config, ""));
  else if (task == "sample_prior") validate(options_from_json<SamplePriorExperiment>(config, ""));
  else validate(options_from_json<TrainDaviExperiment>(config, ""));
}

/// Human-readable listing: each kind, each policy, each option with its default and meaning.
inline void print_list(std::ostream& out) {
  const auto print_options = [&](const nlohmann::json& doc) {
    for (const auto& field : doc)
      out << "    " << field["key"].get<std::string>() << " = " << field["default"].dump() << "    # "
          << field["description"].get<std::string>() << "\n";
  };
  const nlohmann::json kinds = {
      {"task", {{"train_prior", options_documentation<TrainPriorExperiment>()},
                {"sample_prior", options_documentation<SamplePriorExperiment>()},
                {"train_davi", options_documentation<TrainDaviExperiment>()}}},
      {"schedule", list_policies<ScheduleTypes>()},
      {"operator", list_policies<OperatorTypes>()},
      {"divergence", list_policies<DivergenceTypes>()},
      {"bridge", list_policies<BridgeTypes>()},
  };
  for (const auto& [kind, policies] : kinds.items()) {
    out << kind << ":\n";
    for (const auto& [name, doc] : policies.items()) {
      out << "  " << name << "\n";
      print_options(doc);
    }
  }
}

inline int main(int argc, char** argv) {
  const std::string usage = "usage: davi_run [--validate] FILE.json | --list";
  if (argc == 2 && std::string(argv[1]) == "--list") {
    print_list(std::cout);
    return 0;
  }
  const bool validate_only = argc == 3 && std::string(argv[1]) == "--validate";
  if (argc != 2 && !validate_only) {
    std::cerr << usage << "\n";
    return 2;
  }
  const std::string path = argv[argc - 1];
  try {
    const auto config = read_json_file(path);
    validate_file(config);
    if (validate_only) {
      std::cout << path << ": valid\n";
      return 0;
    }
    const auto task = task_of(config);
    if (task == "train_prior") return run_train_prior(config, path);
    if (task == "sample_prior") return run_sample_prior(config, path);
    return run_train_davi(config, path);
  } catch (const Error& e) {
    std::cerr << path << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace davi::runner
