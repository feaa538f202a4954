// What every fuzz target in tests/fuzz defines: the libFuzzer entry point and a few valid seed
// inputs. Under clang with -fsanitize=fuzzer the entry point is driven by libFuzzer; in the
// regular build fuzz_replay_main.cc drives it (seeds, random mutations of them, and any corpus
// files given) so ctest exercises every harness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace pom::fuzz {
std::vector<std::vector<uint8_t>> SeedInputs();
}  // namespace pom::fuzz
