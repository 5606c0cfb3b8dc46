// Kind "inverse_problem" (include/davi/runner/inverse_problem.hpp): what does not depend on the method's
// type: validation of the config, the evaluation loop and its metrics, the sample grid and the report.
#include "davi/runner/inverse_problem.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

#include "davi/core/core.hpp"
#include "davi/core/memory.hpp"
#include "davi/data/data.hpp"
#include "davi/metrics/metrics.hpp"
#include "evaluation_progress.hpp"
#include "inverse_problem_evaluation.hpp"

namespace davi::runner {

namespace {

/// The measurement as an image for display: itself when image-shaped, else upsampled (nearest).
at::Tensor measurement_image(const at::Tensor& y, const at::Tensor& lifted) {
  if (y.sizes() == lifted.sizes()) return y;
  if (y.dim() == 4 && y.size(1) == lifted.size(1))
    return at::upsample_nearest2d(y, {lifted.size(2), lifted.size(3)});
  return lifted;
}

/// Each row: the measurement, its lift, the first samples, the truth.
void save_grid(const std::filesystem::path& path, const MeasurementModel& op, const at::Tensor& y,
                      const at::Tensor& samples, const at::Tensor& x0_all, int grid_samples) {
  const auto lifted = op.lift(y);
  const auto shown = measurement_image(y, lifted);
  std::vector<at::Tensor> rows;
  for (std::int64_t i = 0; i < samples.size(0); ++i)
    rows.push_back(at::cat({shown.narrow(0, i, 1).clamp(-1, 1), lifted.narrow(0, i, 1).clamp(-1, 1),
                            samples[i].narrow(0, 0, grid_samples), x0_all.narrow(0, i, 1)}));
  data::save_image_grid(path, at::cat(rows), 3 + grid_samples);
}

/// Solves every measurement, accumulates the metrics, writes samples.png; returns the report.
/// Data-parallel (`group` of several processes), each process solves its rows of every batch with the
/// batch's random numbers (a sharded stream), and rank 0 gathers the samples, measures and writes; the
/// others return an empty report. The numbers are those of one process, up to floating-point rounding.
/// `part` names a second evaluation of the run ("train"): its own progress folder and samples_<part>.png.
nlohmann::json evaluate(Method& method, const MeasurementModel& op, const at::Tensor& x0_all, const at::Tensor& y_all,
                        const EvaluationOptions& ev, std::uint64_t seed, const c10::Device& device,
                        const std::filesystem::path& dir, distributed::Group& group, const std::string& part = "") {
  const bool leader = group.rank() == 0;
  auto metrics = ev.metrics.make();
  networks::FeatureClassifier classifier{nullptr};
  if (InverseProblem::uses_classifier(ev)) classifier = networks::load_feature_classifier(ev.classifier, device);
  std::map<std::string, std::vector<at::Tensor>> per_image;  // reported name -> per-batch tensors of values
  at::Tensor grid_samples, grid_y;
  Rng rng(seed + 2000, device);
  rng.shard(group.rank(), group.size());
  EvaluationProgress progress(dir, part);
  const std::int64_t n = x0_all.size(0), samples = ev.samples, batches = (n + ev.batch_size - 1) / ev.batch_size;
  if (progress.resume(rng) && leader)
    std::cout << (part.empty() ? "" : part + " ") << "evaluation: continuing after batch " << progress.batches_done()
              << " of " << batches << " (" << progress.folder().string() << ")\n";
  double seconds = progress.seconds();
  Cost cost = progress.cost();
  std::int64_t non_finite = 0;  // samples with a NaN or infinite pixel: the method diverged on them
  for (std::int64_t i = 0, k = 0; i < n; i += ev.batch_size, ++k) {
    const auto x0 = x0_all.slice(0, i, std::min(n, i + ev.batch_size)).to(device);
    const auto y = y_all.slice(0, i, std::min(n, i + ev.batch_size)).to(device);
    at::Tensor x_hat;  // B x S x C x H x W
    if (k < progress.batches_done()) {  // solved before the evaluation was stopped
      if (!leader) continue;
      x_hat = progress.samples(k, device);
    } else {
      const auto rows = distributed::local_batch(group, y.size(0), "evaluation.batch_size");
      Timer timer;
      const at::Tensor mine = method.solve(y.narrow(0, group.rank() * rows, rows), ev.samples, rng, cost);
      (void)mine.sum().item<double>();  // waits for the device, so the timer measures the work
      seconds += timer.seconds();
      x_hat = group.gather(mine);
      if (!leader) continue;
      DAVI_CHECK(x_hat.dim() == 5 && x_hat.size(0) == x0.size(0) && x_hat.size(1) == samples &&
                     x_hat.sizes().slice(2) == x0.sizes().slice(1),
                 "method returned samples of shape ", shape_string(x_hat.sizes()), " for images of shape ",
                 shape_string(x0.sizes()), " and ", samples, " samples");
      if (i + ev.batch_size < n) progress.record(k, x_hat, rng, seconds, cost);  // the last one: metrics.json next
    }
    non_finite += (~at::isfinite(x_hat)).flatten(2).any(2).sum().item<std::int64_t>();
    // Metrics in fp32 whatever the method computed in, so runs of different precision compare fairly.
    const ComputeScope metrics_in_fp32(Compute{});
    const metrics::MetricBatch batch{x_hat, x0, y, op.forward, classifier};
    for (auto& metric : metrics) {
      std::visit(
          [&]<class M>(M& m) {
            if constexpr (PerImageMetric<M>) {
              for (auto& [reported, values] : m.values(batch)) {
                DAVI_CHECK(std::count(M::reports.begin(), M::reports.end(), reported) > 0, "metric ", M::name,
                           " reported \"", reported, "\", which it does not declare in `reports`");
                per_image[reported].push_back(values);
              }
            } else {
              m.add(batch);
            }
          },
          metric);
    }
    if (i == 0) {
      grid_samples = x_hat.narrow(0, 0, std::min<std::int64_t>(ev.grid_images, x_hat.size(0))).cpu();
      grid_y = y.narrow(0, 0, grid_samples.size(0)).cpu();
    }
  }
  if (!leader) return nlohmann::json::object();
  save_grid(dir / (part.empty() ? "samples.png" : "samples_" + part + ".png"), op, grid_y, grid_samples, x0_all,
            ev.grid_samples);

  nlohmann::json values = nlohmann::json::object();
  for (const auto& [reported, values_per_batch] : per_image)
    values[reported] = at::cat(values_per_batch).mean().item<double>();
  for (const auto& metric : metrics) {
    std::visit(
        [&]<class M>(const M& m) {
          if constexpr (AggregateMetric<M>) values[std::string(M::name)] = m.value();
        },
        metric);
  }
  // 95% intervals: a bootstrap over the measurements, the same resamples for every metric (percentile for
  // the means; centred on the estimate for an aggregate metric, see metrics/bootstrap.hpp).
  const metrics::BootstrapOptions bootstrap;
  const auto resamples = metrics::bootstrap_indices(n, bootstrap.resamples, seed + 4000);
  nlohmann::json intervals = nlohmann::json::object();
  const auto record = [&](const std::string& name, const metrics::Interval& interval) {
    intervals[name] = {interval.low, interval.high};
  };
  for (const auto& [reported, values_per_batch] : per_image)
    record(reported, metrics::bootstrap_mean_interval(at::cat(values_per_batch), resamples, bootstrap.level));
  for (const auto& metric : metrics) {
    std::visit(
        [&]<class M>(const M& m) {
          if constexpr (ResamplableMetric<M>)
            record(std::string(M::name),
                   metrics::bootstrap_interval([&](const at::Tensor& rows) { return m.value(rows); }, resamples,
                                               bootstrap.level, m.value()));
        },
        metric);
  }
  const double per_sample = static_cast<double>(n * samples);
  return {{"metrics", values},
          {"intervals", intervals},
          {"interval_method", {{"kind", "bootstrap over the measurements: percentile for means, centred on "
                                        "the estimate for the Frechet distance"},
                               {"level", bootstrap.level},
                               {"resamples", bootstrap.resamples}}},
          {"nfe", cost.network_evaluations / static_cast<double>(batches * samples)},
          {"network_backprops", cost.network_backprops / static_cast<double>(batches * samples)},
          {"seconds_per_image", seconds / per_sample},
          {"non_finite_samples", non_finite},
          {"classifier", InverseProblem::uses_classifier(ev) ? nlohmann::json(ev.classifier) : nlohmann::json()}};
}

/// `method` labels the lines ("davi", or "davi, train split").
void print_report(std::ostream& out, const std::string& method, const nlohmann::json& m) {
  out << method << ": ";
  for (const auto& [key, value] : m["metrics"].items()) out << key << " " << value.get<double>() << "; ";
  out << "NFE " << m["nfe"].get<double>() << ", backprops " << m["network_backprops"].get<double>() << ", "
      << m["seconds_per_image"].get<double>() * 1e3 << " ms per image\n";
  if (const auto diverged = m["non_finite_samples"].get<std::int64_t>(); diverged > 0)
    out << method << ": " << diverged << " samples have NaN or infinite pixels (the method diverged); "
        << "their metrics are NaN, written as null in metrics.json\n";
}

/// The 1-minute load average of this machine (/proc/loadavg), or null where it cannot be read: timing.json
/// records it, so a timing made beside other work says so.
nlohmann::json load_average() {
  std::ifstream in("/proc/loadavg");
  double one_minute = 0;
  return in >> one_minute ? nlohmann::json(one_minute) : nlohmann::json();
}

/// davi_run --time: the seconds per image of `method` as it is, untrained (a network's cost does not depend on
/// its weights), on batches of the run's own size and measurements. Batches are solved until kTimingSeconds
/// have passed or kTimingBatches are done; with more than one, the first (allocations, kernel choice) is
/// dropped and the median of the rest kept. Writes timing.json atomically; nothing else of the run changes.
void time_method(Method& method, const EvaluationSet& evaluated, const EvaluationOptions& ev, std::uint64_t seed,
                 const RunContext& ctx, const RunPlace& place) {
  constexpr double kTimingSeconds = 20;
  constexpr int kTimingBatches = 5;
  const std::int64_t n = evaluated.y.size(0), rows = std::min<std::int64_t>(ev.batch_size, n);
  Rng rng(seed + 2000, place.device);
  Cost cost;
  const auto load_before = load_average();
  std::vector<double> batch_seconds;
  double total = 0;
  for (std::int64_t start = 0; batch_seconds.empty() || (total < kTimingSeconds && batch_seconds.size() < kTimingBatches);
       start = start + 2 * rows <= n ? start + rows : 0) {  // whole batches only, from the first again
    const auto y = evaluated.y.slice(0, start, std::min(n, start + rows)).to(place.device);
    Timer timer;
    (void)method.solve(y, ev.samples, rng, cost).sum().item<double>();  // waits for the device
    batch_seconds.push_back(timer.seconds() / static_cast<double>(y.size(0) * ev.samples));
    total += timer.seconds();
  }
  auto kept = batch_seconds.size() > 1 ? std::vector<double>(batch_seconds.begin() + 1, batch_seconds.end()) : batch_seconds;
  std::sort(kept.begin(), kept.end());
  const double median = metrics::sorted_quantile(kept, 0.5);
  const auto batches = static_cast<double>(batch_seconds.size());
  const nlohmann::json timing = {
      {"run_id", ctx.run_id},
      {"seconds_per_image", median},
      {"batch_seconds_per_image", batch_seconds},
      {"kept", batch_seconds.size() > 1 ? "the median of every batch after the first" : "the one batch"},
      {"batch_size", rows},
      {"samples_per_measurement", ev.samples},
      {"nfe", cost.network_evaluations / (batches * ev.samples)},
      {"network_backprops", cost.network_backprops / (batches * ev.samples)},
      {"untrained", "a trained method was timed with its networks as made, before training: the same arithmetic"},
      {"load_average_before", load_before},
      {"load_average_after", load_average()},
      {"environment", environment_json(place)},
  };
  write_text_atomically(ctx.dir / "timing.json", timing.dump(2) + "\n");
  std::cout << "timing: " << median * 1e3 << " ms per image over " << kept.size() << " batch"
            << (kept.size() == 1 ? "" : "es") << " of " << rows << " (" << (ctx.dir / "timing.json").string() << ")\n";
}

}  // namespace

void InverseProblem::validate(const Config& e) {
  // Types, ranges and names were checked as the config was read (core/options.hpp); what is left are the
  // bounds that depend on other options and on the data set.
  const auto dataset = make_dataset(e.data.dataset);
  const auto train_images = split_size_of(dataset, "train");
  DAVI_CHECK(e.data.validation_images < train_images, "data.validation_images: expected a value in [0, ",
             train_images - 1, "], got ", e.data.validation_images);
  make_operator(e.task.operator_spec, image_shape_of(dataset));
  const auto& ev = e.evaluation;
  const std::int64_t available = ev.split == "test"         ? split_size_of(dataset, "test")
                                 : ev.split == "validation" ? e.data.validation_images
                                                            : train_images - e.data.validation_images;
  DAVI_CHECK(ev.images <= available, "evaluation.images: expected a value in [2, ", available, "] for the ", ev.split,
             " split, got ", ev.images);
  if (ev.train_images != 0) {
    DAVI_CHECK(ev.split != "train", "evaluation.train_images: the evaluated split is already train; set 0 or ",
               "evaluate the test or validation split");
    const auto trained_on = train_images - e.data.validation_images;
    DAVI_CHECK(ev.train_images >= 2 && ev.train_images <= trained_on, "evaluation.train_images: expected 0 or a ",
               "value in [2, ", trained_on, "] (the train split without its validation images), got ",
               ev.train_images);
    DAVI_CHECK(ev.grid_images <= ev.train_images, "evaluation.grid_images: expected a value in [1, ",
               "evaluation.train_images = ", ev.train_images, "], got ", ev.grid_images);
  }
  const Shape shape = image_shape_of(dataset);
  const double numel = static_cast<double>(shape[0] * shape[1] * shape[2]);
  check_fits_memory(static_cast<double>(std::min(ev.batch_size, ev.images)) * ev.samples, numel, 64,
                    "evaluation.batch_size x evaluation.samples");
  DAVI_CHECK(ev.grid_images <= ev.images, "evaluation.grid_images: expected a value in [1, evaluation.images = ",
             ev.images, "], got ", ev.grid_images);
  DAVI_CHECK(ev.grid_samples <= ev.samples, "evaluation.grid_samples: expected a value in [1, evaluation.samples = ",
             ev.samples, "], got ", ev.grid_samples);
  ev.metrics.make();  // the metrics check their options
  for_each_type<MetricTypes>([&]<class M>() {
    if (ev.metrics.contains(M::name))
      DAVI_CHECK(ev.samples >= M::min_samples, "evaluation.metrics: ", M::name, " needs evaluation.samples >= ",
                 M::min_samples, ", got ", ev.samples);
  });
  if (uses_classifier(ev)) {  // opened and checked now, not after the method's training
    try {
      const auto classifier = networks::load_feature_classifier(ev.classifier, c10::kCPU);
      check_network_fits(classifier->options().image_channels, classifier->options().image_size, dataset,
                         ev.classifier + ":options");
    } catch (const Error& e) {
      detail::fail("evaluation.classifier: ", e.what());
    }
  }
  std::visit(
      [&](const auto& c) { validate_method<typename std::decay_t<decltype(c)>::Type>(e, c.options, dataset); },
      e.method.choice());
}

void InverseProblem::run(const Config& e, const RunContext& ctx) {
  const auto place = enter(e.run);
  const ComputeScope compute(place.compute);  // every network of the method; metrics open their own
  std::visit([&](const auto& c) { run_method<typename std::decay_t<decltype(c)>::Type>(e, c.options, ctx, place); },
             e.method.choice());
}

/// The first `images` images of the evaluation's split: test, validation (the last `validation_images` of
/// the train split) or train (its first images, which the methods train on).
at::Tensor evaluation_images(const InverseProblem::Config& e, const DatasetVariant& data) {
  const auto& ev = e.evaluation;
  if (ev.split == "validation") return validation_split(data, e.data.validation_images, ev.images);
  return std::visit([&](const auto& dataset) { return dataset.load(ev.split, ev.images).images; }, data);
}

at::Tensor train_evaluation_images(const InverseProblem::Config& e, const DatasetVariant& data) {
  if (e.evaluation.train_images == 0) return {};
  return std::visit([&](const auto& dataset) { return dataset.load("train", e.evaluation.train_images).images; }, data);
}

void evaluate_method(const InverseProblem::Config& e, const RunContext& ctx, const RunPlace& place, Method& method,
                     const MeasurementModel& model, const EvaluationSet& evaluated, const EvaluationSet& train,
                     const DatasetVariant& data) {
  const auto& ev = e.evaluation;
  const auto noise = operators::GaussianNoise(e.task.noise);
  const auto seed = static_cast<std::uint64_t>(e.run.seed);
  if (ctx.time_only) return time_method(method, evaluated, ev, seed, ctx, place);
  const auto training = method.prepare(ctx);
  const auto report = evaluate(method, model, evaluated.x0, evaluated.y, ev, seed, place.device, ctx.dir, *ctx.group);
  const auto train_report = train.x0.defined() ? evaluate(method, model, train.x0, train.y, ev, seed + kTrainSplitStreams,
                                                          place.device, ctx.dir, *ctx.group, "train")
                                                 : nlohmann::json();
  if (!ctx.writes()) return;
  nlohmann::json metrics = {
      {"kind", InverseProblem::name},
      {"method", e.method.to_json()},
      {"operator", e.task.operator_spec.to_json()},
      {"sigma_y", noise.sigma_y()},
      {"sigma_y_units", operators::GaussianNoise::units},
      {"seed", e.run.seed},
      {"split", ev.split},
      {"images", ev.images},
      {"samples_per_measurement", ev.samples},
      {"prior", e.prior},
      {"data", std::visit([](const auto& d) { return d.describe(); }, data)},
  };
  metrics.update(report);
  if (!train_report.is_null()) {  // what differs from the evaluated split's report
    auto& split = metrics["train_split"] = {{"images", ev.train_images}};
    for (const char* key : {"metrics", "intervals", "seconds_per_image", "non_finite_samples"})
      split[key] = train_report.at(key);
  }
  if (!training.empty()) metrics["training"] = training;
  finish_run(ctx, metrics, place);
  EvaluationProgress(ctx.dir).remove();
  EvaluationProgress(ctx.dir, "train").remove();
  print_report(std::cout, e.method.name(), metrics);
  if (!train_report.is_null()) print_report(std::cout, e.method.name() + ", train split", train_report);
}

}  // namespace davi::runner
