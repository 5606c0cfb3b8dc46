#pragma once
// davi_run --migrate-ids FILE.json: a one-off step for results made before the run id included the
// resolved device (davi 0.1 hashed "device" as written, e.g. "auto"). Each finished run found under its
// old id, made on the device type this machine resolves the file to, is moved to its new id: the folder
// is renamed, config.json rewritten with the resolved config and metrics.json given the new id. Nothing
// is recomputed; a run whose new folder already exists, or that was made on another device type, is
// left alone and reported.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "davi/core/atomic_file.hpp"
#include "davi/runner/experiment.hpp"

namespace davi::runner {

struct MigrationCount {
  int migrated = 0;
  int skipped = 0;  // found under the old id but left alone (reported)
};

inline MigrationCount migrate_legacy_ids(const Plan& plan, std::ostream& out) {
  MigrationCount count;
  for (const auto& run : plan.runs) {
    const auto old_id = legacy_run_id_of(run.context.resolved, run.device_as_written);
    if (old_id == run.context.run_id) continue;
    const auto old_dir = run.own_folder ? run.context.dir.parent_path() / old_id : run.context.dir;
    const auto old_metrics_path = old_dir / "metrics.json";
    if (!std::filesystem::exists(old_metrics_path)) continue;
    std::ifstream in(old_metrics_path);
    auto metrics = nlohmann::json::parse(in, nullptr, false);
    if (metrics.is_discarded() || metrics.value("run_id", "") != old_id) continue;
    const auto made_on = metrics.contains("environment") ? metrics["environment"].value("device", "cpu") : "cpu";
    const auto resolved_on = run.context.resolved.value("device", "cpu");
    if (device_type_name(made_on) != device_type_name(resolved_on)) {
      out << "  " << old_dir.string() << ": made on " << made_on << ", this file resolves to " << resolved_on
          << " here; left alone\n";
      ++count.skipped;
      continue;
    }
    if (run.own_folder) {
      if (std::filesystem::exists(run.context.dir)) {
        out << "  " << old_dir.string() << ": " << run.context.dir.string() << " exists already; left alone\n";
        ++count.skipped;
        continue;
      }
      std::filesystem::rename(old_dir, run.context.dir);
    }
    write_text_atomically(run.context.dir / "config.json", run.context.resolved.dump(2) + "\n");
    metrics["run_id"] = run.context.run_id;  // last: the new id in metrics.json marks the move complete
    write_text_atomically(run.context.dir / "metrics.json", metrics.dump(2) + "\n");
    out << "  " << old_id << " -> " << run.context.run_id << " " << run.context.dir.string() << "\n";
    ++count.migrated;
  }
  return count;
}

}  // namespace davi::runner
