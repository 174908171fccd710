// SPDX-License-Identifier: Apache-2.0
// require_io_uring.h
//
// TOKEND_SKIP_IO_URING(message): what a test does when the kernel (or a
// seccomp profile) refuses io_uring. It skips, unless the environment sets
// TOKEND_REQUIRE_IO_URING=1 (as .ci/run does): then it fails, so that a
// runner without io_uring cannot pass the io_uring tests by skipping them.
// `message` is streamed, as after GTEST_SKIP(). Use in a function that
// returns void.
#ifndef TOKEND_TESTS_REQUIRE_IO_URING_H_
#define TOKEND_TESTS_REQUIRE_IO_URING_H_

#include <cstdlib>
#include <string_view>

#include "gtest/gtest.h"

namespace tokend::testing {

inline bool IoUringRequired() {
  const char* v = std::getenv("TOKEND_REQUIRE_IO_URING");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace tokend::testing

#define TOKEND_SKIP_IO_URING(message)                                                       \
  do {                                                                                      \
    if (::tokend::testing::IoUringRequired()) {                                             \
      GTEST_FAIL() << "io_uring is required here (TOKEND_REQUIRE_IO_URING=1): " << message; \
    } else {                                                                                \
      GTEST_SKIP() << message;                                                              \
    }                                                                                       \
  } while (0)

#endif  // TOKEND_TESTS_REQUIRE_IO_URING_H_
