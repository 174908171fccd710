// status_macros.h
//
// The one local helper for absl::Status plumbing: Debian's abseil (20220623)
// predates ABSL_RETURN_IF_ERROR / ASSIGN_OR_RETURN.
#ifndef TOKEND_DAEMON_UTIL_STATUS_MACROS_H_
#define TOKEND_DAEMON_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"

#define TOKEND_RETURN_IF_ERROR(expr)                        \
  do {                                                      \
    if (::absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

#endif  // TOKEND_DAEMON_UTIL_STATUS_MACROS_H_
