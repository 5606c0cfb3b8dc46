// Kind "train_classifier" (include/davi/runner/train_classifier.hpp): the classifier's trainer and its run.
#include "davi/runner/train_classifier.hpp"

#include <torch/torch.h>

#include <iostream>

#include "davi/core/core.hpp"
#include "davi/core/foreach_adamw.hpp"
#include "davi/data/data.hpp"
#include "davi/distributed/data_parallel.hpp"
#include "davi/networks/parameter_count.hpp"

namespace davi::runner {

namespace {

/// Cross-entropy training of a FeatureClassifier; a ResumableTrainer for train_resumably. Its streams:
/// initial weights from `seed`, batches from seed + 1 (the loop's), dropout masks from seed + 2 (its own,
/// checkpointed). The committed classifier (results/classifier) predates the dropout stream: it was
/// trained with torch::nn::Dropout on LibTorch's randomly seeded global generator, so a rerun gives a
/// classifier of the same accuracy but not the same weights.
class ClassifierTrainer {
 public:
  ClassifierTrainer(const networks::FeatureClassifierOptions& net_options, const ClassifierTrainingOptions& o,
                    data::LabelledImages train, std::uint64_t seed, c10::Device device)
      : options_(o),
        net_(with_global_seed(seed, [&] { return networks::FeatureClassifier(net_options); })),
        optimizer_(net_->parameters(), torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay)),
        images_(train.images.to(device)),
        labels_(train.labels.to(device)),
        rng_(seed + 2, device) {
    net_->to(device);
  }

  std::int64_t step() const { return step_; }
  c10::Device device() const { return rng_.device(); }
  networks::FeatureClassifier& net() { return net_; }
  /// Trains data-parallel in `group` (davi/distributed/data_parallel.hpp).
  void distribute(std::shared_ptr<distributed::Group> group) { parallel_.join(std::move(group), {&rng_}); }
  distributed::Group& group() const { return parallel_.group(); }

  LossRow train_step(Rng& batches) {
    net_->train();
    const auto rows = parallel_.local_batch(options_.batch_size, "training.batch_size");
    const auto idx = batches.randint(0, images_.size(0), {rows}).to(images_.device());
    const auto logits = net_->forward(images_.index_select(0, idx), &rng_);
    const auto labels = labels_.index_select(0, idx);
    const auto loss = torch::nn::functional::cross_entropy(logits, labels);
    optimizer_.zero_grad();
    loss.backward();
    parallel_.average_gradients(net_->parameters());
    optimizer_.step();
    ++step_;
    const auto accuracy = (logits.argmax(1) == labels).to(at::kDouble).mean();
    return {{"cross_entropy", loss.detach()}, {"batch_accuracy", accuracy}};
  }

  void save(torch::serialize::OutputArchive& archive) { save_network_state(archive, *net_, optimizer_, step_, rng_); }
  void load(torch::serialize::InputArchive& archive) { step_ = load_network_state(archive, *net_, optimizer_, rng_); }

 private:
  ClassifierTrainingOptions options_;
  networks::FeatureClassifier net_;
  ForeachAdamW optimizer_;
  at::Tensor images_, labels_;
  Rng rng_;  // dropout masks
  distributed::DataParallel parallel_;
  std::int64_t step_ = 0;
};

/// Fraction of `images` whose predicted class equals `labels`.
double classifier_accuracy(networks::FeatureClassifier& net, const at::Tensor& images, const at::Tensor& labels,
                                  int batch = 500) {
  torch::NoGradGuard no_grad;
  net->eval();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < images.size(0); i += batch) {
    const auto end = std::min(images.size(0), i + batch);
    correct += (net->forward(images.slice(0, i, end)).argmax(1) == labels.slice(0, i, end)).sum().item<std::int64_t>();
  }
  return static_cast<double>(correct) / images.size(0);
}

}  // namespace

void TrainClassifier::validate(const Config& e) {
  davi::validate(e.training.loop, "training");
  DAVI_CHECK(e.network.image_size % 4 == 0, "network.image_size: expected a multiple of 4, got ",
             e.network.image_size);
  const auto dataset = make_dataset(e.data.dataset);
  check_network_fits(e.network.image_channels, e.network.image_size, dataset, "network");
  check_training_batch_fits(e.training.batch_size, e.network.channels, dataset, "training.batch_size");
  const auto classes = std::visit([](const auto& d) { return d.classes(); }, dataset);
  DAVI_CHECK(classes >= 2, "data.dataset: ", classes, " class; a classifier needs at least 2 (image_folder: one ",
             "folder per class)");
  DAVI_CHECK(e.network.classes == classes, "network.classes: expected ", classes, " (the data set's), got ",
             e.network.classes);
}

void TrainClassifier::run(const Config& e, const RunContext& ctx) {
  const auto place = enter(e.run);
  const auto device = place.device;
  const ComputeScope compute(place.compute);
  const auto seed = static_cast<std::uint64_t>(e.run.seed);
  const auto dataset = make_dataset(e.data.dataset);
  const auto load = [&](const char* split) {
    return std::visit([&](const auto& d) { return d.load(split, 0); }, dataset);
  };
  ClassifierTrainer trainer(e.network, e.training, load("train"), seed, device);
  trainer.distribute(ctx.group);
  const auto record = train_resumably(trainer, e.training.loop, ctx.dir, seed + 1, "train_classifier", ctx.run_id);
  if (!ctx.writes()) return;  // data-parallel: rank 0 alone evaluates and writes
  networks::save_feature_classifier(trainer.net(), ctx.dir / "classifier.pt");
  const auto test = load("test");
  const double accuracy = classifier_accuracy(trainer.net(), test.images.to(device), test.labels.to(device));
  finish_run(ctx,
             {{"kind", name},
              {"parameters", networks::parameter_count(*trainer.net())},
              {"training_steps", record.steps},
              {"training_seconds", record.seconds},
              {"test_accuracy", accuracy},
              {"test_images", test.images.size(0)},
              {"data", std::visit([](const auto& d) { return d.describe(); }, dataset)}},
             place);
  std::cout << "train_classifier: " << record.steps << " steps in " << record.seconds << " s; test accuracy "
            << accuracy << " on " << test.images.size(0) << " images\n";
}

}  // namespace davi::runner
