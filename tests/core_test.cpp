// Core: checks, devices, threads, seeded streams, strict options, the registry, atomic files, removing folders.
#include <torch/torch.h>

#include <fstream>
#include <optional>
#include <thread>

#include "davi/davi.hpp"  // the umbrella header must compile on its own
#include "davi/core/options.hpp"
#include "davi/runner/registry.hpp"
#include "test_helpers.hpp"

using namespace davi;
using davi::testing::ScopedEnvironment;
using davi::testing::with_omp_num_threads;

namespace {

TEST(Check, MessageIsOneLineWithTheParts) {
  try {
    DAVI_CHECK(1 + 1 == 3, "x.y: expected ", 3, ", got ", 2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "x.y: expected 3, got 2");
  }
  EXPECT_EQ(shape_string(std::vector<int64_t>{2, 1, 28}), "[2, 1, 28]");
}

TEST(Device, ParsesNamesAndRejectsUnknownOnes) {
  EXPECT_EQ(select_device("cpu"), c10::Device(c10::kCPU));
  EXPECT_EQ(select_device("auto").type(), at::hasCUDA() ? c10::kCUDA : c10::kCPU);
  EXPECT_DAVI_ERROR(select_device("gpu"), "expected one of: cpu, cuda, cuda:N, auto");
  EXPECT_DAVI_ERROR(select_device("cuda:"), "is not cuda:N with N a device index");
  EXPECT_DAVI_ERROR(select_device("cuda:99999999999"), "is not cuda:N with N a device index");  // no overflow
  if (cuda_device_count() == 0) {
    EXPECT_DAVI_ERROR(select_device("cuda"), "requested but this machine has no CUDA device visible");
    EXPECT_EQ(select_device("auto").str(), "cpu");
  } else {
    EXPECT_DAVI_ERROR(select_device("cuda:" + std::to_string(cuda_device_count())), "CUDA device");
    EXPECT_EQ(select_device("cuda").str(), "cuda:0");
  }
}

TEST(Threads, DefaultIsEveryHardwareThread) {
  with_omp_num_threads(nullptr, [] {
    EXPECT_EQ(set_threads(0), static_cast<int>(std::thread::hardware_concurrency()));
    EXPECT_EQ(set_threads(1), 1);
  });
}

TEST(Threads, OmpNumThreadsIsHonouredAndABadValueIsOneLine) {
  // ctest -j N sets it, so N test processes do not each take every hardware thread.
  with_omp_num_threads("3", [] {
    EXPECT_EQ(set_threads(0), 3);
    EXPECT_EQ(set_threads(2), 2);  // an explicit count wins
  });
  with_omp_num_threads("2,1", [] { EXPECT_EQ(set_threads(0), 2); });  // OpenMP's list per nesting level
  with_omp_num_threads("", [] { EXPECT_EQ(set_threads(0), hardware_threads()); });
  const auto limit = std::to_string(4 * hardware_threads());
  for (const char* bad : {"0", "-2", "many", "3x", "99999999999"})
    with_omp_num_threads(bad, [&] {
      EXPECT_DAVI_ERROR(set_threads(0), "OMP_NUM_THREADS: expected a thread count in [1, " + limit +
                                            "] (4 per hardware thread), got \"" + bad + "\"");
    });
}

TEST(Threads, ProcessesSharingTheMachineDivideItsThreads) {
  with_omp_num_threads(nullptr, [] {
    const int hardware = hardware_threads();
    thread_sharers() = 2;
    EXPECT_EQ(set_threads(0), std::max(1, hardware / 2));
    thread_sharers() = 4 * hardware;  // more processes than threads: each still gets one
    EXPECT_EQ(set_threads(0), 1);
    EXPECT_EQ(set_threads(3), 3);  // an explicit count is kept
    thread_sharers() = 1;
  });
  with_omp_num_threads("1", [] {  // a per-process count: not divided again
    thread_sharers() = 2;
    EXPECT_EQ(set_threads(0), 1);
    thread_sharers() = 1;
  });
}

TEST(Rng, ShardedStreamsTogetherDrawWhatOneStreamDrawsForTheWholeBatch) {
  Rng whole(7), first(7), second(7);
  first.shard(0, 2);
  second.shard(1, 2);
  for (int draw = 0; draw < 3; ++draw) {  // the streams stay in step over several draws
    const auto all = whole.randn({6, 2, 3});
    EXPECT_TRUE(at::cat({first.randn({3, 2, 3}), second.randn({3, 2, 3})}).equal(all)) << draw;
    const auto ints = whole.randint(0, 100, {8});
    EXPECT_TRUE(at::cat({first.randint(0, 100, {4}), second.randint(0, 100, {4})}).equal(ints)) << draw;
    const auto uniform = whole.rand({4}, at::kDouble);
    EXPECT_TRUE(at::cat({first.rand({2}, at::kDouble), second.rand({2}, at::kDouble)}).equal(uniform)) << draw;
  }
  EXPECT_EQ(first.parts(), 2);
  EXPECT_DAVI_ERROR(first.randperm(5), "not a per-row draw");
  EXPECT_DAVI_ERROR(first.randn({}), "0-dimensional");
  EXPECT_DAVI_ERROR(first.shard(2, 2), "part 2 of 2");
}

TEST(World, ReadsTorchrunsVariablesAndNamesTheOneThatIsWrong) {
  const std::vector<std::string> names = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                                          "MASTER_PORT"};
  const auto with = [&](std::vector<std::pair<std::string, const char*>> set) {
    for (const auto& n : names)
      if (std::none_of(set.begin(), set.end(), [&](const auto& p) { return p.first == n; })) set.emplace_back(n, nullptr);
    return ScopedEnvironment(set);
  };
  {
    const auto env = with({});
    const auto w = distributed::world_from_environment();
    EXPECT_TRUE(w.alone());
    EXPECT_TRUE(w.leader());
  }
  {
    const auto env = with({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                           {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29400"}});
    const auto w = distributed::world_from_environment();
    EXPECT_EQ(w.rank, 3);
    EXPECT_EQ(w.size, 4);
    EXPECT_EQ(w.local_rank, 1);
    EXPECT_EQ(w.local_size, 2);
    EXPECT_EQ(w.master_addr, "node0");
    EXPECT_EQ(w.master_port, 29400);
    EXPECT_FALSE(w.leader());
  }
  const auto contains = [](const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; };
  const auto error = [&](std::vector<std::pair<std::string, const char*>> set) {
    const auto env = with(std::move(set));
    try {
      distributed::world_from_environment();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_PRED2(contains, error({{"RANK", "0"}}), "WORLD_SIZE is missing");
  EXPECT_PRED2(contains, error({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}), "environment RANK: expected an integer in [0, 1], got \"2\"");
  EXPECT_PRED2(contains, error({{"RANK", "0"}, {"WORLD_SIZE", "2x"}}), "environment WORLD_SIZE");
  EXPECT_PRED2(contains, error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}), "MASTER_ADDR is missing");
  EXPECT_PRED2(contains, error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}), "environment MASTER_PORT: expected an integer in [1, 65535]");
  EXPECT_PRED2(contains, error({{"RANK", "0"}, {"WORLD_SIZE", "99999999999"}}), "WORLD_SIZE");
}

TEST(DataParallel, AWorldOfOneChangesNothingAndUnevenBatchesAreRefused) {
  auto group = distributed::solo();
  EXPECT_TRUE(group->alone());
  std::vector<at::Tensor> t{at::arange(4.0)};
  group->sum_(t);
  EXPECT_TRUE(t[0].equal(at::arange(4.0)));
  EXPECT_TRUE(group->gather(t[0]).equal(t[0]));
  distributed::DataParallel parallel;
  EXPECT_EQ(parallel.local_batch(32), 32);
  EXPECT_FALSE(distributed::any(*group, false));
  EXPECT_TRUE(distributed::any(*group, true));
}

TEST(Rng, SameSeedSameStreamAndStateRoundTrips) {
  Rng a(123), b(123), c(124);
  EXPECT_TRUE(a.randn({5}).equal(b.randn({5})));
  EXPECT_FALSE(a.randn({5}).equal(c.randn({5})));
  const auto state = a.state();
  const auto first = a.rand({4});
  a.set_state(state);
  EXPECT_TRUE(a.rand({4}).equal(first));
  // The global generator is untouched by davi streams.
  at::manual_seed(0);
  const auto g1 = at::randn({3});
  at::manual_seed(0);
  Rng(5).randn({100});
  EXPECT_TRUE(at::randn({3}).equal(g1));
}

TEST(Rng, CheckpointedStateNamesItsDeviceAndAnotherDeviceTypeIsRefused) {
  const auto dir = davi::testing::temp_dir("rng_device");
  Rng a(9);
  a.randn({10});
  torch::serialize::OutputArchive out;
  a.save(out, "rng");
  out.save_to((dir / "cpu.pt").string());
  const auto expected = a.randn({6});
  torch::serialize::InputArchive in;
  read_archive(in, dir / "cpu.pt", c10::kCPU, "test archive");
  Rng b(0);
  b.load(in, "rng", "cpu.pt");
  EXPECT_TRUE(b.randn({6}).equal(expected));
  // A state saved by a CUDA generator (here: tagged so) is refused by name instead of crashing.
  torch::serialize::OutputArchive cuda_out;
  cuda_out.write("rng", a.state());
  cuda_out.write("rng_device", c10::IValue(std::string("cuda")));
  cuda_out.save_to((dir / "cuda.pt").string());
  torch::serialize::InputArchive cuda_in;
  read_archive(cuda_in, dir / "cuda.pt", c10::kCPU, "test archive");
  EXPECT_DAVI_ERROR(b.load(cuda_in, "rng", "cuda.pt"),
                    "cuda.pt: its random stream (rng) was saved on cuda and cannot continue on cpu; resume it on cuda");
  // An archive of davi 0.1 (no device tag) holds a CPU state.
  torch::serialize::OutputArchive legacy;
  legacy.write("rng", a.state());
  legacy.save_to((dir / "legacy.pt").string());
  torch::serialize::InputArchive legacy_in;
  read_archive(legacy_in, dir / "legacy.pt", c10::kCPU, "test archive");
  b.load(legacy_in, "rng", "legacy.pt");
  std::ofstream(dir / "junk.pt") << "junk";
  torch::serialize::InputArchive junk;
  EXPECT_DAVI_ERROR(read_archive(junk, dir / "junk.pt", c10::kCPU, "test archive"), "junk.pt: not a readable test archive");
}

TEST(Rng, ThePortableStreamIsTheCpuStreamOnEveryDevice) {
  const auto device = cuda_device_count() > 0 ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  Rng portable(4, device, StreamOn::cpu), cpu(4);
  const auto x = portable.randn({3, 5});
  EXPECT_EQ(x.device(), device);
  EXPECT_TRUE(x.cpu().equal(cpu.randn({3, 5})));
  EXPECT_EQ(portable.generator_device(), c10::Device(c10::kCPU));
}

TEST(ForeachAdamW, GivesTorchAdamWsWeightsExactlyAndSharesItsCheckpoints) {
  const auto make_params = [] {
    Rng rng(11);
    std::vector<at::Tensor> params;
    for (const auto& shape : std::vector<std::vector<int64_t>>{{4, 3}, {7}, {2, 3, 3, 3}})
      params.push_back(rng.randn(shape).requires_grad_(true));
    return params;
  };
  auto ours = make_params(), theirs = make_params();
  const auto options = torch::optim::AdamWOptions(1e-2).weight_decay(0.05).betas({0.8, 0.95}).eps(1e-6);
  ForeachAdamW foreach_adamw(ours, options);
  torch::optim::AdamW reference(theirs, options);
  const auto step_both = [&](int step) {
    Rng grads(100 + step);
    for (std::size_t i = 0; i < ours.size(); ++i) {
      // The last parameter gets no gradient on odd steps: its step count (bias correction) falls behind.
      const bool skip = i == 2 && step % 2 == 1;
      const auto g = grads.randn(ours[i].sizes().vec());
      for (auto* set : {&ours, &theirs}) (*set)[i].mutable_grad() = skip ? at::Tensor() : g.clone();
    }
    foreach_adamw.step();
    reference.step();
  };
  for (int step = 0; step < 5; ++step) step_both(step);
  for (std::size_t i = 0; i < ours.size(); ++i) EXPECT_TRUE(ours[i].equal(theirs[i])) << i;
  // A checkpoint of one continues in the other.
  const auto dir = davi::testing::temp_dir("foreach_adamw");
  torch::serialize::OutputArchive out;
  foreach_adamw.save(out);
  out.save_to((dir / "optimizer.pt").string());
  auto continued = make_params();
  for (std::size_t i = 0; i < ours.size(); ++i) continued[i].detach().copy_(ours[i].detach());
  torch::optim::AdamW from_ours(continued, options);
  torch::serialize::InputArchive in;
  in.load_from((dir / "optimizer.pt").string());
  from_ours.load(in);
  for (int step = 5; step < 8; ++step) {
    step_both(step);
    for (std::size_t i = 0; i < ours.size(); ++i) continued[i].mutable_grad() = ours[i].grad().defined() ? ours[i].grad().clone() : at::Tensor();
    from_ours.step();
  }
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_TRUE(ours[i].equal(theirs[i])) << i;
    EXPECT_TRUE(continued[i].equal(ours[i])) << i;
  }
}

struct Inner {
  int depth = 2;
  template <class V>
  void visit(V&& v) {
    v("depth", depth, "how deep");
  }
};
struct Outer {
  double rate = 0.5;
  std::string name = "a";
  std::vector<int> sizes = {1, 2};
  bool flag = false;
  Inner inner;
  template <class V>
  void visit(V&& v) {
    v("rate", rate, "a rate");
    v("name", name, "a name");
    v("sizes", sizes, "sizes");
    v("flag", flag, "a flag");
    v("inner", inner, "nested options");
  }
};

TEST(Options, ReadStrictlyWithJsonPaths) {
  const auto o = options_from_json<Outer>(nlohmann::json::parse(R"({"rate": 2, "sizes": [3], "inner": {"depth": 4}})"),
                                          "method.options");
  EXPECT_EQ(o.rate, 2.0);
  EXPECT_EQ(o.sizes, std::vector<int>{3});
  EXPECT_EQ(o.inner.depth, 4);
  EXPECT_EQ(o.name, "a");
  EXPECT_DAVI_ERROR(options_from_json<Outer>(nlohmann::json::parse(R"({"rat": 1})"), "method.options"),
                    "method.options.rat: unknown key; expected one of: flag, inner, name, rate, sizes");
  EXPECT_DAVI_ERROR(options_from_json<Outer>(nlohmann::json::parse(R"({"inner": {"depth": 1.5}})"), "m"),
                    "m.inner.depth: expected an integer, got number 1.5");
  EXPECT_DAVI_ERROR(options_from_json<Outer>(nlohmann::json::parse(R"({"sizes": [1, "x"]})"), "m"),
                    "m.sizes[1]: expected an integer, got string");
  EXPECT_DAVI_ERROR(options_from_json<Outer>(nlohmann::json::parse(R"({"flag": 1})"), "m"), "m.flag: expected a boolean");
  EXPECT_DAVI_ERROR(options_from_json<Outer>(nlohmann::json::parse("[1]"), "m"), "m: expected an object");
}

/// Options with a constraint on each kind of field, for the test below.
struct Bounded {
  int steps = 1;
  std::int64_t seed = 0;
  double rate = 0.5;
  std::string mode = "a";
  std::vector<std::string> names = {"a"};
  template <class V>
  void visit(V&& v) {
    v("steps", steps, "steps", at_least(1));
    v("seed", seed, "seed");
    v("rate", rate, "rate", in_range_below(0, 1));
    v("mode", mode, "mode", one_of({"a", "b"}));
    v("names", names, "names", one_of({"a", "b"}));
  }
};

TEST(Options, RefuseIntegersTheFieldCannotHoldAndValuesOutsideTheirConstraint) {
  const auto read = [](const char* text) { return options_from_json<Bounded>(nlohmann::json::parse(text), "m"); };
  EXPECT_DAVI_ERROR(read(R"({"steps": 99999999999})"), "m.steps: 99999999999 is out of range for this option");
  EXPECT_DAVI_ERROR(read(R"({"steps": 18446744073709551615})"), "m.steps: 18446744073709551615 is out of range");
  EXPECT_EQ(read(R"({"seed": 9223372036854775807})").seed, std::numeric_limits<std::int64_t>::max());
  EXPECT_DAVI_ERROR(read(R"({"seed": 9223372036854775808})"), "m.seed: 9223372036854775808 is out of range");
  EXPECT_DAVI_ERROR(read(R"({"steps": 0})"), "m.steps: expected a value >= 1, got 0");
  EXPECT_DAVI_ERROR(read(R"({"rate": 1.0})"), "m.rate: expected a value in [0, 1), got 1");
  EXPECT_DAVI_ERROR(read(R"({"rate": 1e308})"), "m.rate: expected a value in [0, 1), got 1e+308");
  EXPECT_DAVI_ERROR(read(R"({"mode": "c"})"), "m.mode: unknown \"c\"; expected one of: a, b");
  EXPECT_DAVI_ERROR(read(R"({"names": ["a", "z"]})"), "m.names[1]: unknown \"z\"; expected one of: a, b");
  EXPECT_EQ(read(R"({"steps": 7, "rate": 0.0, "mode": "b"})").steps, 7);
  // Options built in C++ are checked by check_options, named by the policy.
  Bounded bad;
  bad.rate = -0.1;
  EXPECT_DAVI_ERROR(check_options(bad, "thing"), "thing.rate: expected a value in [0, 1), got -0.1");
  EXPECT_NO_THROW(check_options(Bounded{}, "thing"));
  // --list shows the constraint.
  const auto doc = options_documentation<Bounded>();
  EXPECT_EQ(doc[0]["constraint"], ">= 1");
  EXPECT_EQ(doc[2]["constraint"], "in [0, 1)");
  EXPECT_FALSE(doc[1].contains("constraint"));
}

TEST(Options, WriteAndDocumentEveryField) {
  Outer o;
  o.inner.depth = 7;
  const auto j = options_to_json(o);
  EXPECT_EQ(j["inner"]["depth"], 7);
  EXPECT_EQ(options_from_json<Outer>(j, "").inner.depth, 7);
  const auto doc = options_documentation<Outer>();
  ASSERT_EQ(doc.size(), 5u);
  EXPECT_EQ(doc[0]["key"], "rate");
  EXPECT_EQ(doc[0]["default"], 0.5);
  EXPECT_EQ(doc[0]["description"], "a rate");
}

TEST(Registry, ReadsPoliciesByNameWithStrictErrors) {
  using Schedule = runner::Policy<runner::ScheduleTypes>;
  const auto read = [](const char* text) {
    Schedule p("sqrt_linear");
    p.read(nlohmann::json::parse(text), "schedule");
    return p;
  };
  EXPECT_EQ(runner::make_schedule(read(R"({"name": "linear", "num_steps": 10})")).num_steps(), 10);
  EXPECT_EQ(runner::make_schedule(read(R"("cosine")")).num_steps(), 1000);  // a name alone takes the defaults
  // Written back in full: the name and every option with its value.
  const auto resolved = read(R"("linear")").to_json();
  EXPECT_EQ(resolved["name"], "linear");
  EXPECT_EQ(resolved["num_steps"], 1000);
  EXPECT_DOUBLE_EQ(resolved["beta_end"].get<double>(), 0.02);
  EXPECT_EQ(read(resolved.dump().c_str()).to_json(), resolved);
  EXPECT_DAVI_ERROR(read(R"({"name": "cosin"})"),
                    "schedule: unknown \"cosin\"; expected one of: linear, sqrt_linear, cosine");
  EXPECT_DAVI_ERROR(read(R"("cosin")"), "schedule: unknown \"cosin\"; expected one of: linear, sqrt_linear, cosine");
  EXPECT_DAVI_ERROR(read(R"({"name": "cosine", "steps": 3})"), "schedule.steps: unknown key; expected one of: ");
  EXPECT_DAVI_ERROR(read(R"({"num_steps": 3})"), "schedule.name: expected a string naming one of: linear");
  EXPECT_DAVI_ERROR(read("3"), "schedule: expected a name (one of: linear, sqrt_linear, cosine) or an object");
  const auto listed = runner::list_policies<runner::ScheduleTypes>();
  EXPECT_TRUE(listed.contains("sqrt_linear"));
  EXPECT_EQ(listed["linear"][0]["key"], "num_steps");
}

TEST(AtomicFile, ReplacesWholeFilesAndLeavesNoTemporaries) {
  const auto dir = davi::testing::temp_dir("atomic");
  write_text_atomically(dir / "a.json", "first");
  write_text_atomically(dir / "a.json", "second");
  std::ifstream in(dir / "a.json");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "second");
  // A writer that fails leaves the old file and no temporary behind.
  EXPECT_THROW(write_atomically(dir / "a.json",
                                [](const std::filesystem::path& tmp) {
                                  std::ofstream(tmp) << "partial";
                                  throw Error("disk full");
                                }),
               Error);
  std::ifstream again(dir / "a.json");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), {}), "second");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
}


TEST(RemoveTree, RemovesAFolderChildrenFirstAndRemovesLinksWithoutFollowingThem) {
  namespace fs = std::filesystem;
  const auto dir = davi::testing::temp_dir("remove_tree");
  const auto kept = dir / "kept";
  fs::create_directories(kept);
  std::ofstream(kept / "outside.txt") << "stays";
  const auto tree = dir / "tree";
  fs::create_directories(tree / "a" / "b");
  std::ofstream(tree / "top.txt") << "x";
  std::ofstream(tree / "a" / "b" / "deep.txt") << "y";
  fs::create_directory_symlink(kept, tree / "a" / "link_to_kept");
  EXPECT_TRUE(remove_tree(tree));
  EXPECT_FALSE(fs::exists(fs::symlink_status(tree)));
  EXPECT_TRUE(fs::exists(kept / "outside.txt"));  // the link went, not what it pointed to
  EXPECT_TRUE(remove_tree(tree));                 // nothing there: nothing left to remove
  std::ofstream(dir / "file.txt") << "z";
  EXPECT_TRUE(remove_tree(dir / "file.txt"));  // a plain file too
  EXPECT_FALSE(fs::exists(dir / "file.txt"));
}

}  // namespace
