// SPDX-License-Identifier: Apache-2.0
// regular_file.h
//
// Reads a whole regular file without ever blocking on what is not one: the
// file is opened O_NONBLOCK (a FIFO opens at once instead of waiting for a
// writer), checked with fstat(2) on the open descriptor (no race between the
// check and the read), refused when it is not a regular file (FIFO, device,
// socket, directory) or when it is larger than a cap, and read into one
// buffer of its final size. Symbolic links are followed. A free function, no
// shared state: thread-safe.
#ifndef TOKEND_DAEMON_AUTH_REGULAR_FILE_H_
#define TOKEND_DAEMON_AUTH_REGULAR_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tokend::auth {

// ReadRegularFile()
//
// Replaces `out` with the bytes of `path`. Fails, with a message that starts
// with `path` and says why (and never quotes the file's bytes), when the file
// cannot be opened (NotFound for a missing file, PermissionDenied, ...), is
// not a regular file (InvalidArgument, naming its type), is larger than
// `max_bytes` (InvalidArgument; `too_large_hint` is appended to the message)
// or changes size while being read. On failure `out` is left empty. The
// bytes that `out` does not keep of its buffer are wiped (OPENSSL_cleanse),
// so a key file's bytes are never left in freed memory by this function.
absl::Status ReadRegularFile(const std::string& path, size_t max_bytes, std::string& out,
                             std::string_view too_large_hint = {});

// FileTypeName()
//
// "a FIFO", "a character device", ... for the S_IFMT bits of `mode`.
std::string_view FileTypeName(unsigned mode);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_REGULAR_FILE_H_
