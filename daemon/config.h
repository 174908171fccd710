// SPDX-License-Identifier: Apache-2.0
// config.h
//
// tokend's command line (docs/design.md "Command lines"): every flag, its default,
// its allowed values and its error message, turned into one immutable
// Config. Parsing is a pure function of argv and an environment lookup:
// thread-safe, no global state read except through the lookup the caller
// passes (main passes getenv). Nothing here opens files or sockets; the only
// outside lookups are user and group names (getpwnam/getgrnam) for
// --socket-group, --allow-uid and --allow-gid.
//
// argv is parsed by hand, not with absl flags: abseil's vector flags keep
// only the last occurrence, and --audience / --issuer / --allow-uid /
// --allow-gid must add on every occurrence. Both `--flag value` and
// `--flag=value` are accepted; an unknown flag, a missing value, a positional
// argument or a bad value is an error that names the flag and the value and
// says what is expected. A scalar flag given twice keeps the last value (so
// options appended after a unit's defaults override them).
//
// Environment fallbacks: each flag not given on the command line is taken
// from TOKEND_<NAME> when set, NAME being the flag in upper case with '-' as
// '_' (TOKEND_KEYS, TOKEND_EVENT_LOOP, ...). A fallback counts as one
// occurrence; its errors name the variable.
#ifndef TOKEND_DAEMON_CONFIG_H_
#define TOKEND_DAEMON_CONFIG_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/auth/status.h"

namespace tokend {

enum class EventLoopKind {
  kAuto,     // io_uring, falling back to epoll when io_uring is refused
  kIoUring,  // io_uring only; refusing it is an error
  kEpoll,    // epoll only
};

struct Config {
  // --socket PATH: the protocol socket (ignored under socket activation).
  std::string socket_path = "/run/tokend/tokend.sock";
  // --keys PATH (required): a key file or a directory of key files.
  std::string keys_path;
  // --http-socket PATH: optional HTTP/1.1 auth front (every request is an
  // auth decision); empty = none.
  std::string http_socket_path;
  // --admin-socket PATH: optional HTTP/1.1 GET /healthz and GET /metrics;
  // empty = none.
  std::string admin_socket_path;
  // --grpc-socket PATH: optional gRPC front (Envoy's ext_authz
  // Authorization/Check and grpc.health.v1.Health); empty = none.
  std::string grpc_socket_path;
  // --audience AUD (repeatable): expected audiences; empty = no check.
  std::vector<std::string> audiences;
  // --issuer ISS (repeatable): allowed issuers; empty = no check.
  std::vector<std::string> issuers;
  // --leeway SECONDS: clock skew tolerated on exp, nbf and iat.
  int64_t leeway_seconds = 30;
  // --max-token-bytes N: longest token validated (1 .. kMaxTokenBytesLimit).
  size_t max_token_bytes = 8192;
  // --revoked FILE: revocation list; empty = none.
  std::string revoked_path;
  // --threads N: event-loop workers; default the CPUs this process may use.
  int threads = 1;
  // --event-loop auto|io_uring|epoll.
  EventLoopKind event_loop = EventLoopKind::kAuto;
  // --cache-entries N: token cache bound; 0 turns the cache off.
  size_t cache_entries = 1000000;
  // --socket-mode OCTAL: file mode of the socket we create.
  mode_t socket_mode = 0660;
  // --socket-group NAME|GID: group of the socket we create; unset = ours.
  std::optional<gid_t> socket_group;
  // --allow-uid LIST / --allow-gid LIST (comma-separated names or numbers,
  // repeatable): peer credential allow lists; empty = anyone the socket's
  // mode lets in.
  std::vector<uid_t> allow_uids;
  std::vector<gid_t> allow_gids;
  // --max-connections N: open client connections across all workers.
  size_t max_connections = 16384;
  // --max-connections-per-uid N: places one peer uid may hold; default a
  // quarter of max_connections, rounded up (ParseConfig() fills it in).
  // The last eighth of max_connections is kept for users holding few.
  size_t max_connections_per_uid = 0;
  // --max-buffered-bytes N: input and output buffers of all connections
  // together; above this a connection stops reading while it has more than
  // 4 KiB of responses unsent. 0 = no global limit.
  size_t max_buffered_bytes = 16 << 20;
  // --write-stall-timeout SECONDS: a connection whose unsent responses have
  // not moved for this long is closed; 0 = never.
  int64_t write_stall_timeout_seconds = 30;
  // --poll-interval SECONDS: backstop poll of the keys; 0 = off.
  int64_t poll_interval_seconds = 10;
  // --require-claims LIST: comma-separated claim names (exp, nbf, iat, iss,
  // sub, aud, jti) as auth::ClaimBit values; "" or "none" = none.
  uint32_t required_claims = 1;  // auth::kClaimExp
  // --algorithms LIST: comma-separated JWS algorithm names (RS256, ES256,
  // EdDSA, HS256, ...) accepted in a token's header; default every one, each
  // key still serving only its own.
  auth::AlgSet allowed_algs = auth::AlgSet::All();
  // --help / --version: print and exit 0; nothing else is validated
  // (except that the command line itself parses).
  bool help = false;
  bool version = false;
};

// A token must fit a VALIDATE body (token_len + audience_len + 4 bytes)
// inside the 65,536-byte frame limit.
inline constexpr size_t kMaxTokenBytesLimit = 65536 - 4;

// Returns the value of an environment variable, or null when unset.
using EnvLookup = std::function<const char*(const char* name)>;

// ParseConfig()
//
// Parses argv[1..argc) (argv[0] is the program name) and, for flags not on
// the command line, the TOKEND_* variables `env` returns (no fallbacks when
// `env` is empty). Returns kInvalidArgument with a one-line message naming
// the flag (or variable), the value and what is expected. `--keys` is
// required unless --help or --version is given.
absl::StatusOr<Config> ParseConfig(int argc, char** argv, const EnvLookup& env = {});

// Usage()
//
// The --help text: every flag, its argument and its default.
std::string Usage();

// DefaultThreads()
//
// The number of CPUs this process may run on (sched_getaffinity), at least 1.
int DefaultThreads();

}  // namespace tokend

#endif  // TOKEND_DAEMON_CONFIG_H_
