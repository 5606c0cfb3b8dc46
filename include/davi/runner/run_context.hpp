#pragma once
// What a kind's run() is told about the run it executes, and the two files every run writes:
// config.json (the resolved config, at the start, so an unfinished folder says what it holds) and
// metrics.json (at the end, atomically: its presence with the run's id is what marks the run finished).
#include <sys/vfs.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "davi/core/atomic_file.hpp"
#include "davi/core/hash.hpp"
#include "davi/distributed/group.hpp"
#include "davi/runner/environment.hpp"

namespace davi::runner {

struct RunContext {
  std::filesystem::path dir;  // where this run writes
  std::string run_id;         // hash of the resolved config
  std::string experiment;     // the experiment file's name without .json
  std::string config_file;    // the experiment file as given on the command line
  nlohmann::json resolved;    // every option of the run with its value
  // The processes that execute this run together (data-parallel); Solo when one process runs it. Only the
  // group's rank 0 writes the run's files.
  std::shared_ptr<distributed::Group> group = distributed::solo();
  // davi_run --time: the run's method is only timed (untrained) on its measurements, into timing.json;
  // nothing else of the run's folder is written.
  bool time_only = false;

  bool writes() const { return group->rank() == 0; }
};

/// Refuses, before any work, an output folder that cannot hold results: "/", a path through a regular file,
/// a virtual file system (/proc, /sys, /dev), or one whose nearest existing folder this user cannot write.
inline void check_output_folder(const std::filesystem::path& output) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto absolute = fs::absolute(output, ec).lexically_normal();
  DAVI_CHECK(!ec && absolute.has_relative_path(), "output: ", echo(output.string()), " is not a folder for results");
  auto existing = absolute;
  while (!fs::exists(existing, ec) && existing.has_relative_path()) existing = existing.parent_path();
  DAVI_CHECK(fs::is_directory(existing, ec), "output: ", echo(existing.string()),
             " is a file, not a folder (output ", echo(output.string()), ")");
  struct statfs fs_info {};
  if (::statfs(existing.c_str(), &fs_info) == 0) {
    const auto type = static_cast<unsigned long>(fs_info.f_type);
    DAVI_CHECK(type != 0x9fa0UL && type != 0x62656572UL && type != 0x1021994UL, "output: ",
               echo(output.string()), " is inside a virtual file system (/proc, /sys or /dev)");
  }
  DAVI_CHECK(::access(existing.c_str(), W_OK | X_OK) == 0, "output: ", echo(existing.string()),
             " is not writable by this user (output ", echo(output.string()), ")");
}

inline void begin_run(const RunContext& run) {
  if (!run.writes()) return;
  std::filesystem::create_directories(run.dir);
  if (const int removed = remove_stale_temporaries(run.dir); removed > 0)
    std::fprintf(stderr, "%s: removed %d temporary file(s) left by a killed run\n", run.dir.string().c_str(), removed);
  write_text_atomically(run.dir / "config.json", run.resolved.dump(2) + "\n");
}

/// The format of metrics.json, recorded in it beside its checksum.
inline constexpr int kResultsFormat = 1;

/// FNV-1a of metrics.json's content without its checksum field.
inline std::string results_checksum(nlohmann::json metrics) {
  metrics.erase("checksum");
  return fnv1a_hex(metrics.dump());
}

/// Writes metrics.json: the run's identity and environment, then `metrics`, then its format and checksum.
inline void finish_run(const RunContext& run, const nlohmann::json& metrics, const RunPlace& place) {
  if (!run.writes()) return;
  nlohmann::json out = {{"run_id", run.run_id}, {"experiment", run.experiment}, {"config_file", run.config_file}};
  out.update(metrics);
  out["environment"] = environment_json(place);
  out["environment"]["processes"] = run.group->size();
  out["results_format"] = kResultsFormat;
  out["checksum"] = results_checksum(out);
  write_text_atomically(run.dir / "metrics.json", out.dump(2) + "\n");
}

}  // namespace davi::runner
