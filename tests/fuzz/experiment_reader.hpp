#pragma once
// The experiment reader as the fuzz target drives it: an experiment file's bytes to each run's resolved
// config and id (json_text.hpp, sweep.hpp, the kinds' strict option readers, run ids), stopping short of
// validation, which opens the files a config names. Bad input must end in davi::Error, which davi_run
// turns into one line and exit code 2; anything else (another exception, a crash, a sanitizer report) is a bug.
#include <string_view>

#include "davi/runner/experiment.hpp"
#include "davi/runner/json_text.hpp"
#include "davi/runner/sweep.hpp"

namespace davi::testing {

/// Reads every run of the file; returns how many there are.
inline std::size_t read_experiment(std::string_view text) {
  using namespace davi::runner;
  std::size_t runs = 0;
  for (auto& point : expand_sweeps(parse_experiment_text(text))) {
    read_point(point.config, [&]<class K>(typename K::Config config) {
      resolve_run_options(config.run);
      (void)run_id_of(options_to_json(config));
      ++runs;
    });
  }
  return runs;
}

}  // namespace davi::testing
