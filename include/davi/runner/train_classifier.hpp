#pragma once
// Kind "train_classifier": trains the classifier of a data set whose activations the learned metrics use
// (metrics/classifier_feature_distance.hpp, metrics/frechet_distance.hpp), resumably, on the train split, and
// reports its accuracy on the whole test split. Writes classifier.pt, train_log.csv, config.json and
// metrics.json to the output folder.
// The run itself is compiled into davi_runner (experiments/runner/train_classifier.cpp).
#include <nlohmann/json.hpp>

#include "davi/core/training_loop.hpp"
#include "davi/networks/feature_classifier.hpp"
#include "davi/runner/data_options.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct ClassifierTrainingOptions {
  TrainingLoopOptions loop{.steps = 2000, .log_every = 50, .checkpoint_every = 500};
  int batch_size = 128;
  double lr = 1e-3;
  double weight_decay = 1e-4;
  template <class V>
  void visit(V&& v) {
    loop.visit(v);
    v("batch_size", batch_size, "images per step", in_range(1, 65536));
    v("lr", lr, "AdamW learning rate", greater_than(0));
    v("weight_decay", weight_decay, "AdamW weight decay", at_least(0));
  }
};

struct TrainClassifier {
  static constexpr std::string_view name = "train_classifier";
  static constexpr bool kRunFolders = false;  // writes one artifact to `output`, referenced by path
  static constexpr bool kDataParallel = true;

  struct Config {
    RunOptions run = run_options_of("train_classifier");
    DatasetOptions data;
    networks::FeatureClassifierOptions network;
    ClassifierTrainingOptions training;
    template <class V>
    void visit(V&& v) {
      run.visit(v);
      v("data", data, "the data set; its train split trains, its test split measures accuracy");
      v("network", network, "classifier options");
      v("training", training, "optimiser and length of training");
    }
  };

  static void validate(const Config& e);
  static void run(const Config& e, const RunContext& ctx);
};

}  // namespace davi::runner
