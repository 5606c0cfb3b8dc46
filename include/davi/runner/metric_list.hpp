#pragma once
// The option evaluation.metrics: a list of metric policies, each a name or {"name": ..., options}
// (["psnr", {"name": "ssim", "window": 7}]); each metric at most once. Written back in full, like Policy.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "davi/runner/policy.hpp"
#include "davi/runner/registry.hpp"

namespace davi::runner {

class MetricList {
 public:
  using Entry = ChoiceVariant<MetricTypes>;

  /// Every registered metric with its default options.
  MetricList() {
    for (const auto& name : policy_name_list<MetricTypes>()) entries_.push_back(choose<MetricTypes>(name, ""));
  }

  void read(const nlohmann::json& j, const std::string& path) {
    DAVI_CHECK(j.is_array(), path, ": expected a list of metrics (names or {\"name\": ..., options}), got ",
               j.type_name(), " ", echo(j.dump()));
    std::vector<Entry> entries;
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < j.size(); ++i) {
      const auto where = path + "[" + std::to_string(i) + "]";
      entries.push_back(choose<MetricTypes>(j[i], where));
      const auto name = name_of(entries.back());
      DAVI_CHECK(std::count(seen.begin(), seen.end(), name) == 0, where, ": \"", name, "\" is listed twice");
      seen.push_back(name);
    }
    entries_ = std::move(entries);
  }

  nlohmann::json to_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& entry : entries_) {
      std::visit(
          [&]<class C>(const C& c) {
            nlohmann::json j = {{"name", std::string(C::Type::name)}};
            j.update(options_to_json(c.options));
            out.push_back(std::move(j));
          },
          entry);
    }
    return out;
  }

  const std::vector<Entry>& entries() const { return entries_; }
  bool contains(std::string_view name) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return name_of(e) == name; });
  }

  /// Constructs the metrics, in the list's order; a check a metric makes is reported at its place.
  std::vector<PolicyVariant<MetricTypes>> make(const std::string& path = "evaluation.metrics") const {
    std::vector<PolicyVariant<MetricTypes>> out;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      out.push_back(construct<MetricTypes>(entries_[i], path + "[" + std::to_string(i) + "]"));
    return out;
  }

 private:
  static std::string name_of(const Entry& e) {
    return std::visit([](const auto& c) { return std::string(std::decay_t<decltype(c)>::Type::name); }, e);
  }
  std::vector<Entry> entries_;
};

}  // namespace davi::runner
