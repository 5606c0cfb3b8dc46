#pragma once
// The data set "image_folder": a user's own PNG and JPEG files, found recursively under `path`, as square
// images of one size, grayscale or RGB. A file's class is the folder holding it (relative to `path`; files
// directly in `path` form one class), so a folder per class gives a classifier its labels.
//
// The split is a seeded, recorded rule independent of LibTorch's random generator: each file gets the key
// FNV-1a(split_seed, relative path); files ordered by key, the first round(test_fraction * N) form the test
// split and the rest the train split, in key order (so the validation images the runner takes from the end
// of the train split are a random subset too). Adding a file moves no other file between splits.
// describe() records the rule, the counts and a fingerprint of each split's file list in metrics.json.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "davi/core/check.hpp"
#include "davi/core/hash.hpp"
#include "davi/core/options.hpp"
#include "davi/core/shape.hpp"
#include "davi/data/image_file.hpp"
#include "davi/data/labelled_images.hpp"

namespace davi::data {

struct ImageFolder {
  static constexpr std::string_view name = "image_folder";

  struct Options {
    std::string path;
    int image_size = 0;
    std::string color = "rgb";
    double test_fraction = 0.1;
    std::int64_t split_seed = 0;
    template <class V>
    void visit(V&& v) {
      v("path", path, "folder searched recursively for .png, .jpg and .jpeg files; a file's folder is its class");
      v("image_size", image_size,
        "side of the square images (0 = the files' own size, which must agree; else resized, antialiased)",
        in_range(0, 4096));
      v("color", color, "rgb (3 channels) or grayscale (1); files are converted", one_of({"rgb", "grayscale"}));
      v("test_fraction", test_fraction, "share of the files in the test split", in_open_range(0, 1));
      v("split_seed", split_seed, "seed of the split rule (FNV-1a of seed and relative path)");
    }
  };

  explicit ImageFolder(const Options& o) : options_(o), index_(std::make_shared<Index>(build_index(o))) {}

  Shape image_shape() const { return {channels(), index_->side, index_->side}; }
  std::int64_t split_size(const std::string& split) const { return static_cast<std::int64_t>(files(split).size()); }
  std::int64_t classes() const { return static_cast<std::int64_t>(index_->class_names.size()); }

  /// Decodes the first `limit` files of a split (0 = all), in parallel.
  LabelledImages load(const std::string& split, std::int64_t limit = 0) const {
    const auto& list = files(split);
    const auto n = limit > 0 ? std::min<std::int64_t>(limit, static_cast<std::int64_t>(list.size()))
                             : static_cast<std::int64_t>(list.size());
    const auto side = index_->side;
    at::Tensor images = at::empty({n, channels(), side, side}, at::kFloat);
    at::Tensor labels = at::empty({n}, at::kLong);
    at::parallel_for(0, n, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        const auto& file = list[static_cast<std::size_t>(i)];
        at::Tensor pixels = bytes_to_unit_range(read_image(index_->root / file.relative, channels()));
        if (pixels.size(1) != side) {
          pixels = at::_upsample_bilinear2d_aa(pixels.unsqueeze(0), {side, side}, false).squeeze(0).clamp(-1, 1);
        }
        images[i].copy_(pixels);
        labels[i] = file.label;
      }
    });
    return {images, labels};
  }

  /// What metrics.json records: the rule, the counts and a fingerprint (FNV-1a of the file names) per split.
  nlohmann::json describe() const {
    const auto fingerprint = [](const std::vector<File>& list) {
      std::uint64_t h = kFnv1aOffset;
      for (const auto& f : list) h = fnv1a(f.relative + "\n", h);
      return hex64(h);
    };
    return {{"name", name},
            {"path", options_.path},
            {"classes", classes()},
            {"image_shape", {channels(), index_->side, index_->side}},
            {"train", index_->train.size()},
            {"test", index_->test.size()},
            {"split_rule", "files ordered by FNV-1a(split_seed, relative path); the first round(test_fraction * N) "
                           "are the test split"},
            {"train_fingerprint", fingerprint(index_->train)},
            {"test_fingerprint", fingerprint(index_->test)}};
  }

 private:
  struct File {
    std::string relative;  // path below the root, '/'-separated
    std::int64_t label = 0;
    std::uint64_t key = 0;
  };
  struct Index {
    std::filesystem::path root;
    std::int64_t side = 0;
    std::vector<std::string> class_names;
    std::vector<File> train, test;
  };

  int channels() const { return options_.color == "rgb" ? 3 : 1; }

  const std::vector<File>& files(const std::string& split) const {
    DAVI_CHECK(split == "train" || split == "test", "image_folder: unknown split \"", split,
               "\"; expected one of: train, test");
    return split == "train" ? index_->train : index_->test;
  }

  static bool is_image_name(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
  }

  /// Lists the files, reads every header (square, one size unless resized, within kMaxImageSide) and splits.
  static Index build_index(const Options& o) {
    DAVI_CHECK_OPTION(!o.path.empty(), "path", "expected the folder of the images, got \"\"");
    std::error_code ec;
    DAVI_CHECK_OPTION(std::filesystem::is_directory(o.path, ec), "path", "not a folder: ", o.path);
    Index index{std::filesystem::path(o.path), 0, {}, {}, {}};
    std::vector<File> all;
    std::map<std::string, std::int64_t> class_of;
    const auto options = std::filesystem::directory_options::skip_permission_denied;
    for (auto it = std::filesystem::recursive_directory_iterator(index.root, options, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec) || !is_image_name(it->path())) continue;
      const auto relative = std::filesystem::relative(it->path(), index.root);
      all.push_back({relative.generic_string(), 0, 0});
      class_of[relative.parent_path().generic_string()] = 0;
    }
    DAVI_CHECK_OPTION(!ec, "path", o.path, ": cannot list (", ec.message(), ")");
    DAVI_CHECK_OPTION(all.size() >= 2, "path", o.path, " holds ", all.size(),
                      " .png/.jpg/.jpeg files; expected at least 2 (one for each split)");
    for (auto& [folder, label] : class_of) {  // std::map: classes in sorted folder order
      label = static_cast<std::int64_t>(index.class_names.size());
      index.class_names.push_back(folder);
    }

    std::int64_t first_side = 0;
    std::string first_file;
    for (auto& f : all) {
      f.label = class_of[std::filesystem::path(f.relative).parent_path().generic_string()];
      f.key = fnv1a(f.relative, fnv1a(std::to_string(o.split_seed)));
      const auto size = read_image_size(index.root / f.relative);
      DAVI_CHECK(size.width == size.height, (index.root / f.relative).string(), ": ", size.width, "x", size.height,
                 " pixels; image_folder expects square images");
      if (first_side == 0) first_side = size.width, first_file = f.relative;
      DAVI_CHECK(o.image_size > 0 || size.width == first_side, (index.root / f.relative).string(), ": ",
                 size.width, "x", size.height, " pixels, but ", first_file, " has ", first_side, "x", first_side,
                 "; set image_size to resize them all to one size");
    }
    index.side = o.image_size > 0 ? o.image_size : first_side;

    std::sort(all.begin(), all.end(),
              [](const File& a, const File& b) { return a.key != b.key ? a.key < b.key : a.relative < b.relative; });
    const auto n = static_cast<std::int64_t>(all.size());
    const auto tests = std::clamp<std::int64_t>(std::llround(o.test_fraction * static_cast<double>(n)), 1, n - 1);
    index.test.assign(all.begin(), all.begin() + tests);
    index.train.assign(all.begin() + tests, all.end());
    return index;
  }

  Options options_;
  std::shared_ptr<const Index> index_;  // shared: copies of the policy (std::variant, lambdas) list once
};

}  // namespace davi::data
