#pragma once
// Per-experiment tables: summary.csv and summary.md, one row per finished inverse_problem run of the
// plan, labelled by the run's values of the sweep axes, with cost and every metric. tools/plot_summary.py
// turns summary.csv into summary.png.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "davi/core/atomic_file.hpp"
#include "davi/runner/experiment.hpp"

namespace davi::runner {

/// One option of a policy as a label shows it, "key=text"; `top_level` marks the parts a short label shows
/// (top-level values of one value).
struct LabelPart {
  std::string key, text;
  bool top_level;
};

inline std::string value_label(const nlohmann::json& value, bool nested = false);

/// A policy's options as label parts, in key order: with `nested`, also the options of nameless groups under
/// dotted keys ("ema.beta=0.999") and a nested policy as one part ("bridge=ppb(h=0.01)"); without, the
/// top-level values of one value only.
inline std::vector<LabelPart> label_parts(const nlohmann::json& policy, bool nested) {
  std::vector<LabelPart> parts;
  const auto add = [&](const auto& self, const std::string& prefix, const nlohmann::json& object) -> void {
    for (const auto& [key, v] : object.items()) {
      if (prefix.empty() && key == "name") continue;
      if (!nested && !v.is_primitive()) continue;
      if (v.is_object() && !v.contains("name")) self(self, prefix + key + ".", v);
      else parts.push_back({prefix + key, value_label(v, nested), prefix.empty() && v.is_primitive()});
    }
  };
  add(add, "", policy);
  return parts;
}

inline bool is_policy(const nlohmann::json& value) {
  return value.is_object() && value.contains("name") && value["name"].is_string();
}

/// "name(key=text,...)" of the parts `show` keeps, or the name alone.
template <class Show>
std::string policy_label(const nlohmann::json& policy, const std::vector<LabelPart>& parts, Show show) {
  std::string options;
  for (const auto& part : parts)
    if (show(part)) options += (options.empty() ? "" : ",") + part.key + "=" + part.text;
  const auto name = policy["name"].get<std::string>();
  return options.empty() ? name : name + "(" + options + ")";
}

/// A sweep value as a label: "kl", "ikl(t_max=400)", "dps(zeta=0.3)", "0.1". Short (the default): a policy's
/// top-level options of one value only. With `nested`, every option as it was given.
inline std::string value_label(const nlohmann::json& value, bool nested) {
  if (!is_policy(value)) return value.is_string() ? value.get<std::string>() : value.dump();
  return policy_label(value, label_parts(value, nested), [](const LabelPart&) { return true; });
}

/// The labels of one sweep axis's values, in order: short labels, plus the nested options whose values differ
/// between policies of the same name on that axis (an option one has and another lacks differs too). So runs
/// that differ only in a nested option read apart ("davi(...,bridge=ppb(h=0.01))" beside "...ppb(h=0.1)"),
/// and a label depends on the plan's runs, not on which of them have finished.
inline std::vector<std::string> axis_labels(const std::vector<nlohmann::json>& values) {
  std::vector<std::vector<LabelPart>> parts;
  for (const auto& value : values) parts.push_back(is_policy(value) ? label_parts(value, true) : std::vector<LabelPart>{});
  const auto text_of = [&](std::size_t i, const std::string& key) -> std::optional<std::string> {
    for (const auto& part : parts[i])
      if (part.key == key) return part.text;
    return std::nullopt;
  };
  const auto varies = [&](std::size_t i, const LabelPart& part) {
    for (std::size_t j = 0; j < values.size(); ++j)
      if (is_policy(values[j]) && values[j]["name"] == values[i]["name"] && text_of(j, part.key) != part.text)
        return true;
    return false;
  };
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < values.size(); ++i)
    labels.push_back(is_policy(values[i]) ? policy_label(values[i], parts[i],
                                                          [&](const LabelPart& p) { return p.top_level || varies(i, p); })
                                          : value_label(values[i]));
  return labels;
}

/// The sweep axes of a plan's runs (method included), in the order they first appear.
inline std::vector<std::string> sweep_axes(const std::vector<PlannedRun>& runs) {
  std::vector<std::string> axes;
  for (const auto& run : runs)
    for (const auto& [key, value] : run.assignment.items())
      if (std::find(axes.begin(), axes.end(), key) == axes.end()) axes.push_back(key);
  return axes;
}

/// Each run's label per sweep axis (axis_labels over every planned run that has the axis).
inline std::vector<std::map<std::string, std::string>> run_labels(const std::vector<PlannedRun>& runs) {
  std::vector<std::map<std::string, std::string>> labels(runs.size());
  for (const auto& axis : sweep_axes(runs)) {
    std::vector<nlohmann::json> values;
    std::vector<std::size_t> owners;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (runs[i].assignment.contains(axis)) {
        values.push_back(runs[i].assignment[axis]);
        owners.push_back(i);
      }
    const auto axis_texts = axis_labels(values);
    for (std::size_t k = 0; k < owners.size(); ++k) labels[owners[k]][axis] = axis_texts[k];
  }
  return labels;
}

/// Each run's sweep values as " key=value ...", for the lines davi_run prints (run_labels).
inline std::vector<std::string> assignment_labels(const std::vector<PlannedRun>& runs) {
  const auto per_axis = run_labels(runs);
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::string label;
    for (const auto& [key, value] : runs[i].assignment.items()) label += " " + key + "=" + per_axis[i].at(key);
    labels.push_back(label);
  }
  return labels;
}

struct SummaryTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

inline std::string format_number(double v) {
  std::ostringstream out;
  out << std::setprecision(5) << v;
  return out.str();
}

/// A number of metrics.json as a table cell. JSON has no NaN: a metric of a diverged run is stored as
/// null and shown as "nan".
inline std::string format_number(const nlohmann::json& v) { return v.is_null() ? "nan" : format_number(v.get<double>()); }

/// One row of the summary: the run's id, its sweep values, method, costs and metrics, from metrics.json
/// `m` and timing.json `timing` (null when the run was not timed alone; with `train_columns`, the metrics of
/// its train split too); throws nlohmann::json::exception when a field is missing or of the wrong type.
inline std::vector<std::string> summary_row(const PlannedRun& run, const nlohmann::json& m, const nlohmann::json& timing,
                                            const std::vector<std::string>& axes,
                                            const std::vector<std::string>& metric_names,
                                            const std::map<std::string, std::string>& labels, bool train_columns) {
  std::vector<std::string> row = {run.context.run_id};
  for (const auto& axis : axes)
    row.push_back(labels.contains(axis) ? labels.at(axis) : "");
  // A method axis labels the method with its options; otherwise the name says it.
  row.push_back(labels.contains("method") ? labels.at("method") : m.at("method").at("name").get<std::string>());
  row.push_back(format_number(m.at("nfe")));
  row.push_back(format_number(m.at("network_backprops")));
  row.push_back(format_number(m.at("seconds_per_image")));
  row.push_back(timing.is_null() ? "" : format_number(timing.at("seconds_per_image")));
  row.push_back(m.contains("training") ? format_number(m["training"].at("training_seconds")) : "0");
  const auto add_metrics = [&](const nlohmann::json& values) {
    for (const auto& name : metric_names) row.push_back(values.contains(name) ? format_number(values[name]) : "");
  };
  add_metrics(m.at("metrics"));
  if (train_columns) add_metrics(m.contains("train_split") ? m["train_split"].at("metrics") : nlohmann::json::object());
  row.push_back(format_number(m.at("sigma_y")));
  // The metrics' intervals (absent from results made before davi reported them: empty cells).
  const auto intervals = m.value("intervals", nlohmann::json::object());
  for (const auto& name : metric_names)
    for (const int end : {0, 1})
      row.push_back(intervals.contains(name) ? format_number(intervals[name].at(end)) : "");
  return row;
}

/// A run's timing.json (davi_run --time), or null when it has none; one line naming the file when it is not
/// one of this run's timings.
inline nlohmann::json read_timing(const PlannedRun& run) {
  const auto path = run.context.dir / "timing.json";
  if (!std::filesystem::exists(path)) return nullptr;
  std::ifstream in(path);
  const auto timing = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  const bool valid = timing.is_object() && timing.value("run_id", nlohmann::json()) == run.context.run_id &&
                     timing.contains("seconds_per_image") && timing["seconds_per_image"].is_number();
  if (!valid)
    detail::fail(path.string(), ": not this run's davi timing file (run_id or seconds_per_image missing or wrong); ",
                 "rerun davi_run --time or remove the file");
  return timing;
}

/// The table of the finished inverse_problem runs of a plan (runs without metrics are left out). When a run
/// evaluated the train split too (`evaluation.train_images`), its metrics follow the others as train_<metric>.
inline SummaryTable summary_table(const Plan& plan) {
  SummaryTable table;
  auto axes = sweep_axes(plan.runs);
  std::erase(axes, "method");  // the method has a column of its own
  std::vector<std::string> metric_names;  // every name a registered metric reports, in registry order
  for_each_type<MetricTypes>([&]<class M>() { metric_names.insert(metric_names.end(), M::reports.begin(), M::reports.end()); });
  const auto labels = run_labels(plan.runs);  // the sweep values and the method say which run a row is
  std::vector<std::tuple<const PlannedRun*, nlohmann::json, std::size_t>> finished;  // each metrics.json read once
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& run = plan.runs[i];
    if (run.kind != InverseProblem::name || run.status() != "finished") continue;  // status parsed the file
    std::ifstream in(run.context.dir / "metrics.json");
    finished.emplace_back(&run, nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false), i);
  }
  const bool train_columns = std::any_of(finished.begin(), finished.end(), [](const auto& f) {
    return std::get<1>(f).is_object() && std::get<1>(f).contains("train_split");
  });
  table.columns = {"run_id"};
  table.columns.insert(table.columns.end(), axes.begin(), axes.end());
  table.columns.insert(table.columns.end(), {"method", "nfe", "network_backprops", "seconds_per_image",
                                             "seconds_per_image_alone", "training_seconds"});
  table.columns.insert(table.columns.end(), metric_names.begin(), metric_names.end());
  if (train_columns)
    for (const auto& name : metric_names) table.columns.push_back("train_" + name);
  table.columns.push_back("sigma_y");
  for (const auto& name : metric_names) table.columns.insert(table.columns.end(), {name + "_low", name + "_high"});
  for (const auto& [run, metrics, index] : finished) {
    const auto timing = read_timing(*run);
    try {
      table.rows.push_back(summary_row(*run, metrics, timing, axes, metric_names, labels[index], train_columns));
    } catch (const nlohmann::json::exception&) {
      detail::fail((run->context.dir / "metrics.json").string(), ": not a davi inverse_problem metrics file ",
                   "(a field is missing or of the wrong type); rerun the run or remove the file");
    }
  }
  return table;
}

inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (const char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

/// The number of metric columns of the table (each has a _low and a _high column at the end).
inline std::size_t metric_count(const SummaryTable& table) {
  return static_cast<std::size_t>(std::count_if(table.columns.begin(), table.columns.end(), [](const std::string& c) {
    return c.size() > 4 && c.compare(c.size() - 4, 4, "_low") == 0;
  }));
}

/// The index of `column`'s _low column (its _high column follows), if it has one.
inline std::optional<std::size_t> interval_column(const SummaryTable& table, const std::string& column) {
  const auto it = std::find(table.columns.begin(), table.columns.end(), column + "_low");
  if (it == table.columns.end()) return std::nullopt;
  return static_cast<std::size_t>(it - table.columns.begin());
}

/// The table as CSV text: a header line, then a line per row.
inline std::string csv_text(const SummaryTable& table) {
  std::string csv;
  const auto add_line = [&csv](const std::vector<std::string>& fields) {
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (c) csv += ',';
      csv += csv_field(fields[c]);
    }
    csv += '\n';
  };
  add_line(table.columns);
  for (const auto& row : table.rows) add_line(row);
  return csv;
}

/// Writes summary.csv and summary.md into the plan's output folder; returns the table.
inline SummaryTable write_summary(const Plan& plan) {
  const auto table = summary_table(plan);
  const auto csv = csv_text(table);
  std::string md;  // built in a stream (GCC 12 warns falsely on long operator+ chains)
  std::ostringstream out;
  out << "# " << plan.experiment << "\n\n"
      << table.rows.size() << " of " << plan.runs.size() << " runs finished. Written by `davi_run experiments/"
      << plan.experiment << ".json`; each run's folder is `" << plan.output.string()
      << "/<run_id>/`. psnr, ssim, classifier_* and consistency are means over images and samples; "
         "psnr_of_mean is the PSNR of the mean of the samples; nfe and network_backprops are per sample; [low, high] "
         "is the 95% bootstrap interval over the evaluated measurements (1000 resamples; percentile for means, "
         "centred on the estimate for the Frechet distance).\n\n|";
  // The markdown table shows each interval in its metric's cell: "22.45 [22.1, 22.8]".
  const auto shown = table.columns.size() - 2 * metric_count(table);
  for (std::size_t c = 0; c < shown; ++c) out << " " << table.columns[c] << " |";
  out << "\n|";
  for (std::size_t c = 0; c < shown; ++c) out << "---|";
  out << "\n";
  for (const auto& row : table.rows) {
    out << "|";
    for (std::size_t c = 0; c < shown; ++c) {
      out << " " << row[c];
      if (const auto low = interval_column(table, table.columns[c]); low && !row[*low].empty())
        out << " [" << row[*low] << ", " << row[*low + 1] << "]";
      out << " |";
    }
    out << "\n";
  }
  md = out.str();
  write_text_atomically(plan.output / "summary.csv", csv);
  write_text_atomically(plan.output / "summary.md", md);
  return table;
}

}  // namespace davi::runner
