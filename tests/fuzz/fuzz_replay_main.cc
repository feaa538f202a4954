// Drives a fuzz target without libFuzzer (the regular gcc build, under ctest):
//   <target>_replay                      seeds, then seeded random mutations of them
//   <target>_replay FILE_OR_DIR...       also every corpus file given
//   <target>_replay --write-corpus DIR   writes the seeds as a libFuzzer starting corpus
// The mutation seed is printed; POM_SEED replays it.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/fuzz/fuzz_target.h"
#include "tests/testing/random.h"

namespace {

void RunFile(const std::filesystem::path& p, int& runs) {
  std::ifstream in(p, std::ios::binary);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  ++runs;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::vector<uint8_t>> seeds = pom::fuzz::SeedInputs();
  if (argc == 3 && std::string(argv[1]) == "--write-corpus") {
    std::filesystem::create_directories(argv[2]);
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream out(std::filesystem::path(argv[2]) / ("seed-" + std::to_string(i)),
                        std::ios::binary);
      out.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<long>(seeds[i].size()));
    }
    std::printf("wrote %zu seeds to %s\n", seeds.size(), argv[2]);
    return 0;
  }
  int runs = 0;
  for (const auto& s : seeds) {
    LLVMFuzzerTestOneInput(s.data(), s.size());
    ++runs;
  }
  for (const uint64_t seed : pom::testing::TestSeeds({1})) {
    std::printf("mutations: %s\n", pom::testing::SeedBanner(seed).c_str());
    pom::testing::Rng rng(seed);
    for (int i = 0; i < 20000; ++i) {
      std::vector<uint8_t> d = seeds[rng.Uniform(0, seeds.size() - 1)];
      const int edits = static_cast<int>(rng.Uniform(1, 4));
      for (int e = 0; e < edits; ++e) {
        const uint64_t kind = rng.Uniform(0, 3);
        if (d.empty() || kind == 0) {
          d.insert(d.begin() + static_cast<long>(rng.Uniform(0, d.size())),
                   static_cast<uint8_t>(rng.Uniform(0, 255)));
        } else if (kind == 1) {
          d[rng.Uniform(0, d.size() - 1)] ^= static_cast<uint8_t>(rng.Uniform(1, 255));
        } else if (kind == 2) {
          d.resize(rng.Uniform(0, d.size() - 1));
        } else {
          d[rng.Uniform(0, d.size() - 1)] = static_cast<uint8_t>(rng.Uniform(0, 255));
        }
      }
      LLVMFuzzerTestOneInput(d.data(), d.size());
      ++runs;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::directory_iterator(p)) RunFile(entry.path(), runs);
    } else {
      RunFile(p, runs);
    }
  }
  std::printf("%d inputs, no finding\n", runs);
  return 0;
}
