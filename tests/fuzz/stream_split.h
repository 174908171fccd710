// SPDX-License-Identifier: Apache-2.0
// stream_split.h
//
// What the stream fuzzers (fuzz_frames, fuzz_http) share: FUZZ_CHECK, which
// aborts with the failed condition so libFuzzer records the input; the
// Outcome of feeding a byte stream to a handler; and Cuts(), the read sizes
// one input byte picks for feeding the same stream in pieces, whose answers
// must equal those for the stream in one piece.
#ifndef TOKEND_TESTS_FUZZ_STREAM_SPLIT_H_
#define TOKEND_TESTS_FUZZ_STREAM_SPLIT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace tokend::fuzz {

// What a handler wrote and whether it closed the connection.
struct Outcome {
  std::string out;
  bool closed = false;
};

// Read sizes adding up to `size`, drawn from `seed`: mostly short reads,
// now and then a long one.
inline std::vector<size_t> Cuts(size_t size, uint8_t seed) {
  std::vector<size_t> cuts;
  uint32_t x = 0x9e3779b9u ^ seed;
  size_t left = size;
  while (left > 0) {
    x = x * 1664525u + 1013904223u;
    const size_t n = (x >> 28) == 0 ? (x >> 8) % 70000 + 1 : (x >> 8) % 40 + 1;
    cuts.push_back(n < left ? n : left);
    left -= cuts.back();
  }
  return cuts;
}

}  // namespace tokend::fuzz

#endif  // TOKEND_TESTS_FUZZ_STREAM_SPLIT_H_
