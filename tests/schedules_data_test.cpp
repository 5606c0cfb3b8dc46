// Schedules against closed-form values; the Fashion-MNIST reader, IDX parsing and PNG output.
#include <torch/torch.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <numbers>

#include "davi/data/data.hpp"
#include "davi/schedules/schedules.hpp"
#include "image_folder_fixture.hpp"
#include "test_helpers.hpp"

using namespace davi;

namespace {

at::Tensor times(std::initializer_list<int64_t> t) { return at::tensor(std::vector<int64_t>(t), at::kLong); }

/// alpha_bar(t) by a plain long-double product, independent of the library's tensor code.
template <class BetaFn>
long double product_alpha_bar(int t, BetaFn beta) {
  long double a = 1;
  for (int s = 0; s <= t; ++s) a *= 1.0L - beta(s);
  return a;
}

TEST(Schedules, SqrtLinearMatchesTheOfficialCode) {
  const schedules::SqrtLinear s;
  const auto beta = [](int i) {
    const long double a = std::sqrt(1e-4L), b = std::sqrt(0.02L);
    return std::pow(a + (b - a) * i / 999.0L, 2);
  };
  for (int t : {0, 1, 250, 399, 500, 999})
    EXPECT_NEAR(s.alpha_bars()[t].item<double>(), product_alpha_bar(t, beta), 1e-15) << "t = " << t;
  // The reference's tabulated values: alpha_bar(999) = 7.33e-4, alpha_bar(399) = 0.539.
  EXPECT_NEAR(s.alpha_bar(times({999})).item<double>(), 7.33e-4, 0.005e-4);
  EXPECT_NEAR(s.alpha_bar(times({399})).item<double>(), 0.539, 0.0005);
  EXPECT_NEAR(s.beta(times({0})).item<double>(), 1e-4, 1e-10);
  EXPECT_NEAR(s.beta(times({999})).item<double>(), 0.02, 1e-9);
}

TEST(Schedules, LinearMatchesDdpm) {
  const schedules::Linear s;
  const auto beta = [](int i) { return 1e-4L + (0.02L - 1e-4L) * i / 999.0L; };
  for (int t : {0, 10, 500, 999}) EXPECT_NEAR(s.alpha_bars()[t].item<double>(), product_alpha_bar(t, beta), 1e-15);
  EXPECT_NEAR(s.alpha_bar(times({999})).item<double>(), 4.036e-5, 0.001e-5);  // DDPM's well-known value
}

TEST(Schedules, CosineFollowsItsClosedForm) {
  const schedules::Cosine s;
  const auto f = [](double u) { return std::pow(std::cos((u / 1000 + 0.008) / 1.008 * std::numbers::pi / 2), 2); };
  // Away from the clipped end, alpha_bar(t) = f(t + 1) / f(0) exactly.
  for (int t : {0, 100, 500, 900}) EXPECT_NEAR(s.alpha_bars()[t].item<double>(), f(t + 1) / f(0), 1e-12);
  EXPECT_LE(s.betas().max().item<double>(), 0.999);
}

TEST(Schedules, LookupsAreFloat32AndConsistent) {
  const schedules::SqrtLinear s;
  const auto t = times({0, 5, 999});
  const auto a = s.alpha(t), sg = s.sigma(t);
  EXPECT_EQ(a.scalar_type(), at::kFloat);
  EXPECT_LT(((a.square() + sg.square()) - 1).abs().max().item<double>(), 1e-6);
  EXPECT_NEAR(sg[0].item<double>(), std::sqrt(1 - s.alpha_bar_at(0)), 1e-9);  // accurate near t = 0
  EXPECT_EQ(s.alpha_bar(t.reshape({3, 1})).sizes().vec(), (std::vector<int64_t>{3, 1}));
  EXPECT_DAVI_ERROR(s.alpha_bar(times({1000})), "out of range");
  EXPECT_DAVI_ERROR(s.alpha_bar(at::zeros({2})), "must be integers");
}

// ---- data --------------------------------------------------------------------------------------

TEST(FashionMnist, LoadsBothSplitsInUnitRange) {
  const auto test = data::load_fashion_mnist("test");
  EXPECT_EQ(test.images.sizes().vec(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(test.labels.size(0), 10000);
  EXPECT_GE(test.images.min().item<double>(), -1.0);
  EXPECT_LE(test.images.max().item<double>(), 1.0);
  EXPECT_EQ(test.images.min().item<double>(), -1.0);
  EXPECT_EQ(test.images.max().item<double>(), 1.0);
  // Ten balanced classes in the test split: 1000 each.
  EXPECT_TRUE(at::bincount(test.labels).equal(at::full({10}, 1000, at::kLong)));
  const auto train = data::load_fashion_mnist("train", 100);
  EXPECT_EQ(train.images.size(0), 100);
  EXPECT_EQ(train.labels[0].item<int64_t>(), 9);  // the first training image is an ankle boot
}

TEST(FashionMnist, MissingFilesNameTheDebianPackage) {
  EXPECT_DAVI_ERROR(data::load_fashion_mnist("test", 0, "/nonexistent"), "dataset-fashion-mnist");
  EXPECT_DAVI_ERROR(data::load_fashion_mnist("validation"), "expected one of: train, test");
}

TEST(FashionMnist, TheEnvironmentCanNameAnotherFolder) {
  // The folder in force when the test starts (Debian's, or the one the environment names, as on a GPU machine).
  const auto source = data::fashion_mnist_dir();
  const auto dir = davi::testing::temp_dir("fashion_mnist_env");
  at::Tensor from_copy;
  {
    const davi::testing::ScopedEnvironment named("DAVI_FASHION_MNIST", dir.c_str());
    EXPECT_EQ(data::fashion_mnist_dir(), dir);
    EXPECT_DAVI_ERROR(data::load_fashion_mnist("test", 4), (dir / "t10k-images-idx3-ubyte.gz").string() + ": not found");
    for (const char* file : {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
      std::filesystem::copy_file(source / file, dir / file);
    from_copy = data::load_fashion_mnist("test", 4).images;
    const davi::testing::ScopedEnvironment unset("DAVI_FASHION_MNIST", nullptr);
    EXPECT_EQ(data::fashion_mnist_dir(), std::filesystem::path(data::kFashionMnistDir));  // empty or unset: Debian's
  }
  EXPECT_TRUE(from_copy.equal(data::load_fashion_mnist("test", 4).images));  // the folder in force again
}

TEST(Idx, ReadsRawFilesAndRejectsTruncatedOnes) {
  const auto dir = davi::testing::temp_dir("idx");
  const unsigned char header[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
  const unsigned char pixels[] = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
  {
    std::ofstream out(dir / "ok.idx", std::ios::binary);
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    out.write(reinterpret_cast<const char*>(pixels), sizeof pixels);
  }
  const auto t = data::read_idx_u8(dir / "ok.idx");
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(t[1][1][2].item<int>(), 255);
  {
    std::ofstream out(dir / "short.idx", std::ios::binary);
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    out.write(reinterpret_cast<const char*>(pixels), 5);
  }
  EXPECT_DAVI_ERROR(data::read_idx_u8(dir / "short.idx"), "truncated IDX file");
}

TEST(Png, EncodesPixelsLosslessly) {
  auto image = at::arange(2 * 3, at::kByte).reshape({1, 2, 3}) * 40;
  const auto png = data::encode_png(image);
  ASSERT_GT(png.size(), 8u + 25 + 12);
  EXPECT_EQ(std::vector<unsigned char>(png.begin(), png.begin() + 8),
            (std::vector<unsigned char>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}));
  // IHDR: width 3, height 2, bit depth 8, gray; its CRC must check.
  EXPECT_EQ(png[19], 3);
  EXPECT_EQ(png[23], 2);
  EXPECT_EQ(png[24], 8);
  EXPECT_EQ(png[25], 0);
  const uLong crc = crc32(0, png.data() + 12, 17);
  EXPECT_EQ(crc, (uLong{png[29]} << 24) | (uLong{png[30]} << 16) | (uLong{png[31]} << 8) | png[32]);
  // IDAT holds each row prefixed by filter byte 0.
  const std::size_t idat = 33;
  const std::size_t length = (png[idat] << 24) | (png[idat + 1] << 16) | (png[idat + 2] << 8) | png[idat + 3];
  std::vector<unsigned char> raw(2 * 4);
  uLongf raw_size = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &raw_size, png.data() + idat + 8, length), Z_OK);
  EXPECT_EQ(raw, (std::vector<unsigned char>{0, 0, 40, 80, 0, 120, 160, 200}));
}

TEST(Png, GridTilesImagesWithPadding) {
  const auto images = at::stack({at::full({1, 2, 2}, -1.0), at::full({1, 2, 2}, 1.0), at::zeros({1, 2, 2})});
  const auto grid = data::make_grid(images, 2, 1, 0.5);
  EXPECT_EQ(grid.sizes().vec(), (std::vector<int64_t>{1, 2 * 3 + 1, 2 * 3 + 1}));
  EXPECT_EQ(grid[0][1][1].item<float>(), -1.0f);
  EXPECT_EQ(grid[0][1][4].item<float>(), 1.0f);
  EXPECT_EQ(grid[0][4][1].item<float>(), 0.0f);
  EXPECT_EQ(grid[0][4][4].item<float>(), 0.5f);  // empty cell keeps the padding value
  EXPECT_TRUE(data::unit_range_to_bytes(at::tensor({-1.0, 0.0, 1.0, 2.0})).equal(at::tensor({0, 128, 255, 255}, at::kByte)));
  const auto dir = davi::testing::temp_dir("png");
  data::save_image_grid(dir / "grid.png", images, 3);
  EXPECT_TRUE(std::filesystem::exists(dir / "grid.png"));
}

TEST(ImageFile, ReadsPngAndJpegInGrayOrRgbAndTellsTheFormatByItsBytes) {
  const auto dir = davi::testing::temp_dir("image_file");
  const auto rgb = davi::testing::pattern_image(1, 3, 20);
  davi::testing::write_png(dir / "rgb.png", rgb);
  EXPECT_TRUE(data::read_image(dir / "rgb.png", 3).equal(rgb));  // PNG is lossless
  const auto size = data::read_image_size(dir / "rgb.png");
  EXPECT_EQ(size.width, 20);
  EXPECT_EQ(size.height, 20);
  // A gray pixel stays gray whichever way it is converted; a gray PNG read as RGB repeats its channel.
  const auto gray = at::full({1, 4, 4}, 100, at::kByte);
  davi::testing::write_png(dir / "gray.png", gray);
  EXPECT_TRUE(data::read_image(dir / "gray.png", 3).equal(gray.expand({3, 4, 4})));
  davi::testing::write_png(dir / "gray_as_rgb.png", gray.expand({3, 4, 4}).contiguous());
  EXPECT_TRUE(data::read_image(dir / "gray_as_rgb.png", 1).equal(gray));
  // JPEG is lossy: a smooth pattern at quality 95 comes back within a few levels (its chroma is subsampled
  // 2x2; swapped channels or a wrong colour transform would be off by tens of levels).
  davi::testing::write_jpeg(dir / "rgb.jpg", rgb);
  const auto decoded = data::read_image(dir / "rgb.jpg", 3).to(at::kFloat);
  EXPECT_EQ(decoded.sizes(), rgb.sizes());
  EXPECT_LT((decoded - rgb.to(at::kFloat)).abs().mean().item<double>(), 6.0);
  // The name does not decide the format.
  std::filesystem::copy_file(dir / "rgb.jpg", dir / "named_png.png");
  EXPECT_TRUE(data::read_image(dir / "named_png.png", 3).equal(data::read_image(dir / "rgb.jpg", 3)));
}

TEST(ImageFile, DamagedOrForeignFilesAreRefusedNamingTheFile) {
  const auto dir = davi::testing::temp_dir("image_file_bad");
  std::ofstream(dir / "text.png") << "not an image";
  EXPECT_DAVI_ERROR(data::read_image(dir / "text.png", 3), (dir / "text.png").string() + ": neither PNG nor JPEG");
  davi::testing::write_png(dir / "full.png", davi::testing::pattern_image(2, 3, 16));
  davi::testing::write_jpeg(dir / "full.jpg", davi::testing::pattern_image(2, 3, 16));
  for (const char* name : {"full.png", "full.jpg"}) {
    const auto bytes = data::detail::read_bytes(dir / name);
    const auto cut = dir / (std::string("cut_") + name);
    std::ofstream(cut, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 40);
    EXPECT_DAVI_ERROR(data::read_image(cut, 3), cut.string() + ": ");
  }
  // A header announcing more than kMaxImageSide pixels a side is refused before any pixel memory.
  davi::testing::write_png(dir / "wide.png", at::zeros({1, 1, data::kMaxImageSide + 1}, at::kByte));
  EXPECT_DAVI_ERROR(data::read_image_size(dir / "wide.png"), "expected each side in [1, 16384]");
  EXPECT_DAVI_ERROR(data::read_image(dir, 3), dir.string() + ": not a regular file");
}

TEST(ImageFolder, SplitsBySeededRecordedRuleAndLabelsByFolder) {
  const auto dir = davi::testing::temp_dir("image_folder");
  davi::testing::write_image_folder(dir, 10, 16);
  data::ImageFolder::Options o;
  o.path = dir.string();
  o.test_fraction = 0.2;
  const data::ImageFolder folder(o);
  EXPECT_EQ(folder.image_shape(), (Shape{3, 16, 16}));
  EXPECT_EQ(folder.split_size("test"), 4);
  EXPECT_EQ(folder.split_size("train"), 16);
  EXPECT_EQ(folder.classes(), 2);
  const auto train = folder.load("train");
  EXPECT_EQ(train.images.sizes(), (at::IntArrayRef{16, 3, 16, 16}));
  EXPECT_GE(train.images.min().item<float>(), -1.0f);
  EXPECT_LE(train.images.max().item<float>(), 1.0f);
  EXPECT_EQ(train.labels.eq(0).sum().item<std::int64_t>() + train.labels.eq(1).sum().item<std::int64_t>(), 16);
  EXPECT_TRUE(folder.load("train", 5).images.equal(train.images.narrow(0, 0, 5)));
  // The rule: test = the files first in FNV-1a(split_seed, relative path) order, independent of LibTorch.
  std::vector<std::pair<std::uint64_t, std::string>> keyed;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto relative = std::filesystem::relative(entry.path(), dir).generic_string();
    keyed.emplace_back(fnv1a(relative, fnv1a("0")), relative);
  }
  std::sort(keyed.begin(), keyed.end());
  std::uint64_t expected = kFnv1aOffset;
  for (int i = 0; i < 4; ++i) expected = fnv1a(keyed[i].second + "\n", expected);
  const auto record = folder.describe();
  EXPECT_EQ(record["test_fingerprint"], hex64(expected));
  EXPECT_EQ(record["train"], 16);
  EXPECT_EQ(data::ImageFolder(o).describe(), record);  // the same files and options: the same split
  o.split_seed = 7;
  EXPECT_NE(data::ImageFolder(o).describe()["test_fingerprint"], record["test_fingerprint"]);
  o.color = "grayscale";
  EXPECT_EQ(data::ImageFolder(o).load("test").images.sizes(), (at::IntArrayRef{4, 1, 16, 16}));
}

TEST(ImageFolder, ResizesToImageSizeAndRefusesWhatItCannotUse) {
  const auto dir = davi::testing::temp_dir("image_folder_sizes");
  davi::testing::write_image_folder(dir, 3, 16);
  davi::testing::write_png(dir / "class_a" / "big.png", davi::testing::pattern_image(9, 3, 24));
  data::ImageFolder::Options o;
  o.path = dir.string();
  EXPECT_DAVI_ERROR(data::ImageFolder{o}, "set image_size to resize them all to one size");
  o.image_size = 12;
  const data::ImageFolder resized(o);
  const auto all = at::cat({resized.load("train").images, resized.load("test").images});
  EXPECT_EQ(all.sizes(), (at::IntArrayRef{7, 3, 12, 12}));
  EXPECT_LE(all.abs().max().item<float>(), 1.0f);

  davi::testing::write_png(dir / "class_b" / "wide.png", at::zeros({3, 16, 20}, at::kByte));
  EXPECT_DAVI_ERROR(data::ImageFolder{o}, "wide.png: 20x16 pixels; image_folder expects square images");
  std::filesystem::remove(dir / "class_b" / "wide.png");
  std::ofstream(dir / "class_b" / "broken.jpg") << "garbage";
  EXPECT_DAVI_ERROR(data::ImageFolder{o}, "broken.jpg: neither PNG nor JPEG");

  o.path = "";
  EXPECT_DAVI_ERROR(data::ImageFolder{o}, "path: expected the folder of the images");
  o.path = (dir / "absent").string();
  EXPECT_DAVI_ERROR(data::ImageFolder{o}, "path: not a folder: " + o.path);
  const auto lonely = davi::testing::temp_dir("image_folder_one");
  davi::testing::write_png(lonely / "only.png", davi::testing::pattern_image(1, 3, 8));
  o.path = lonely.string();
  EXPECT_DAVI_ERROR(data::ImageFolder{o}, "holds 1 .png/.jpg/.jpeg files; expected at least 2");
}

}  // namespace

#include "davi/metrics/psnr.hpp"

namespace {

TEST(Psnr, MatchesHandComputedValues) {
  // Truth 0 (0.5 in [0, 1]); estimate off by 0.2 in [-1, 1] = 0.1 in [0, 1]: MSE 0.01, PSNR 20 dB.
  const auto truth = at::zeros({2, 1, 2, 2}, at::kDouble);
  auto estimate = at::full({2, 1, 2, 2}, 0.2, at::kDouble);
  estimate[1].fill_(0.0);
  estimate[1][0][0][0] = 0.4;  // one pixel off by 0.2 in [0, 1]: MSE 0.01, PSNR 20 dB
  const auto p = davi::metrics::psnr(estimate, truth);
  EXPECT_NEAR(p[0].item<double>(), 20.0, 1e-9);
  EXPECT_NEAR(p[1].item<double>(), 20.0, 1e-9);
  // Values outside [-1, 1] are clipped first, as for an 8-bit image.
  EXPECT_NEAR(davi::metrics::psnr(at::full({1, 1, 1, 1}, 3.0, at::kDouble), at::full({1, 1, 1, 1}, 0.8, at::kDouble)).item<double>(),
              -10 * std::log10(0.01), 1e-9);
  EXPECT_DAVI_ERROR(davi::metrics::psnr(at::zeros({1, 1, 2, 2}), at::zeros({1, 1, 2, 3})), "psnr: shapes differ");
}

}  // namespace
