#pragma once
// Every run kind of the registry (runner/registry.hpp lists them by JSON name), checked against the
// RunKind contract: a name, a Config read from the whole experiment file, where it writes, validate()
// before any work and run() (compiled into davi_runner).
#include <concepts>
#include <nlohmann/json.hpp>
#include <string_view>

#include "davi/runner/evaluate_prior.hpp"
#include "davi/runner/inverse_problem.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/train_classifier.hpp"
#include "davi/runner/train_prior.hpp"

namespace davi::runner {

template <class K>
concept RunKind = VisitableOptions<typename K::Config> && requires(const typename K::Config& c, const RunContext& ctx) {
  { K::name } -> std::convertible_to<std::string_view>;
  { K::kRunFolders } -> std::convertible_to<bool>;  // <output>/<run_id> (true) or <output> itself
  { K::kDataParallel } -> std::convertible_to<bool>;  // trains and evaluates with the run's process group
  K::validate(c);
  K::run(c, ctx);
};

template <class K>
struct IsRegisteredKind : std::bool_constant<RunKind<K>> {};
static_assert(all_of<KindTypes, IsRegisteredKind>, "a run kind of the registry breaks the RunKind contract");

/// The whole registry as `davi_run --list` shows it: each JSON place a name goes -> each name there -> its
/// options with defaults, descriptions and constraints.
inline nlohmann::json registry_listing() {
  nlohmann::json kinds = nlohmann::json::object();
  for_each_type<KindTypes>([&]<class K>() { kinds[std::string(K::name)] = options_documentation<typename K::Config>(); });
  nlohmann::json listing = nlohmann::json::object();
  listing["kind"] = std::move(kinds);
  listing["method"] = list_policies<MethodTypes>();
  listing["task.operator"] = list_policies<OperatorTypes>();
  listing["task.noise"] = list_policies<NoiseTypes>();
  listing["method.divergence"] = list_policies<DivergenceTypes>();
  listing["method.bridge"] = list_policies<BridgeTypes>();
  listing["schedule"] = list_policies<ScheduleTypes>();
  listing["evaluation.metrics"] = list_policies<MetricTypes>();
  listing["data.dataset"] = list_policies<DatasetTypes>();
  return listing;
}

}  // namespace davi::runner
