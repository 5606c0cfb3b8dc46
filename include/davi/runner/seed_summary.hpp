#pragma once
// The spread over seeds: when an experiment sweeps `seed`, summary_seeds.csv and summary_seeds.md hold one
// row per configuration (the runs that differ only in their seed), with the number of finished seeds and the
// mean and sample standard deviation over them of the cost and every metric.
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "davi/core/atomic_file.hpp"
#include "davi/runner/summary.hpp"

namespace davi::runner {

/// The seed table of `table` (summary_table's): empty when `seed` is not one of its columns.
inline SummaryTable seed_table(const SummaryTable& table) {
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(table.columns.begin(), table.columns.end(), name) - table.columns.begin());
  };
  const auto seed = column("seed"), method = column("method");
  if (seed == table.columns.size()) return {};
  const auto shown = table.columns.size() - 2 * metric_count(table);  // without the interval columns
  SummaryTable out;
  out.columns = {"configuration", "seeds"};
  std::vector<std::size_t> numeric;  // cost and metrics: every column after method but sigma_y
  for (std::size_t c = method + 1; c < shown; ++c) {
    if (table.columns[c] == "sigma_y") continue;
    numeric.push_back(c);
    out.columns.insert(out.columns.end(), {table.columns[c], table.columns[c] + "_sd"});
  }
  std::map<std::string, std::vector<const std::vector<std::string>*>> groups;  // label -> its runs
  std::vector<std::string> order;
  for (const auto& row : table.rows) {
    std::string label;
    for (std::size_t c = 1; c <= method; ++c)
      if (c != seed && !row[c].empty()) label += (label.empty() ? "" : " ") + row[c];
    if (!groups.count(label)) order.push_back(label);
    groups[label].push_back(&row);
  }
  for (const auto& label : order) {
    const auto& runs = groups[label];
    std::vector<std::string> row = {label, std::to_string(runs.size())};
    for (const auto c : numeric) {
      double sum = 0, squares = 0;
      std::size_t n = 0;
      for (const auto* run : runs) {
        if ((*run)[c].empty()) continue;
        const double v = std::stod((*run)[c]);
        sum += v, squares += v * v, ++n;
      }
      const double mean = n ? sum / static_cast<double>(n) : NAN;
      const double var = n > 1 ? (squares - static_cast<double>(n) * mean * mean) / static_cast<double>(n - 1) : NAN;
      row.push_back(n ? format_number(mean) : "");
      row.push_back(n > 1 ? format_number(std::sqrt(std::max(0.0, var))) : "");
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

/// Writes summary_seeds.csv and summary_seeds.md beside the summary when the experiment sweeps `seed`.
inline void write_seed_summary(const Plan& plan, const SummaryTable& table) {
  const auto seeds = seed_table(table);
  if (seeds.columns.empty()) return;
  std::ostringstream md;
  md << "# " << plan.experiment << ": mean and sd over seeds\n\n"
     << "One row per configuration of `davi_run experiments/" << plan.experiment << ".json` (its runs differ only "
     << "in `seed`): mean +- sample standard deviation over its finished seeds. Per-run values and intervals: "
     << "summary.md.\n\n| configuration | seeds |";
  for (std::size_t c = 2; c < seeds.columns.size(); c += 2) md << " " << seeds.columns[c] << " |";
  md << "\n|---|---|";
  for (std::size_t c = 2; c < seeds.columns.size(); c += 2) md << "---|";
  md << "\n";
  for (const auto& row : seeds.rows) {
    md << "| " << row[0] << " | " << row[1] << " |";
    for (std::size_t c = 2; c < row.size(); c += 2)
      md << " " << row[c] << (row[c + 1].empty() ? "" : " +- " + row[c + 1]) << " |";
    md << "\n";
  }
  write_text_atomically(plan.output / "summary_seeds.csv", csv_text(seeds));
  write_text_atomically(plan.output / "summary_seeds.md", md.str());
}

}  // namespace davi::runner
