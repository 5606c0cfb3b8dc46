#pragma once
// The smallest prior and feature classifier the runner accepts, for tests that run whole experiments.
#include <filesystem>

#include "davi/networks/feature_classifier.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/schedules/sqrt_linear.hpp"

namespace davi::testing {

/// A 2-level UNet with 8 base channels on the sqrt_linear schedule, weights from seed 1.
inline prior::ScorePrior tiny_prior() {
  networks::UNetOptions u;
  u.base_channels = 8;
  u.channel_mult = {1, 2};
  u.attention_resolutions = {14};
  u.norm_groups = 4;
  auto net = with_global_seed(1, [&] { return networks::UNet(u); });
  return prior::ScorePrior(net, schedules::SqrtLinear(), {{"network", options_to_json(u)}, {"schedule", "sqrt_linear"}});
}

/// Writes tiny_prior() to dir/prior.pt and a 4-channel feature classifier (seed 2) to dir/classifier.pt.
inline void write_tiny_models(const std::filesystem::path& dir) {
  auto p = tiny_prior();
  prior::save_prior(p, dir / "prior.pt");
  networks::FeatureClassifierOptions c;
  c.channels = 4;
  c.embedding = 8;
  auto classifier = with_global_seed(2, [&] { return networks::FeatureClassifier(c); });
  networks::save_feature_classifier(classifier, dir / "classifier.pt");
}

}  // namespace davi::testing
