// SPDX-License-Identifier: Apache-2.0
// args.h
//
// tokend-bench's command line: every flag, its default and its error
// message, turned into one immutable BenchOptions. A pure function of argv:
// thread-safe, reads no files (the token and key files named here are read
// by workload.h).
//
//   tokend-bench --socket PATH [--op ping|validate]
//                [--connections N] [--depth D] [--threads T]
//                [--client-loop io_uring|epoll]
//                [--duration SECONDS] [--warmup SECONDS] [--rate R]
//                [--tokens FILE | --mint KEYFILE [--alg ALG] [--kid KID] [--unique K]]
//                [--invalid-ratio X] [--audience AUD]
//                [--server-pid PID[,PID...]]... [--server-cores N]
//                [--compare SPEC]... [--json] [--plot FILE.svg]
//   tokend-bench --socket PATH --idle N [--server-pid PID] [--json]
//
// Both `--flag value` and `--flag=value` are accepted. A --compare SPEC is
// either a comma-separated list of preset names (ping, validate,
// validate-hit, validate-miss, validate-invalid) or one labelled run,
// `LABEL:key=value,key=value`, whose keys are the run flags without their
// dashes (op, socket, connections, depth, rate, tokens, mint, alg, kid,
// unique, invalid-ratio, audience, server-pid, server-cores; in a spec,
// several server pids are joined by '+'); what a spec does not set comes
// from the flags. --mint takes any key the daemon loads, or a private key
// PEM (`tokenctl keygen`) to mint RS/PS/ES/EdDSA tokens; --alg picks the alg.
#ifndef TOKEND_BENCH_TOKEND_BENCH_ARGS_H_
#define TOKEND_BENCH_TOKEND_BENCH_ARGS_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tokend::bench {

enum class Op {
  kPing,      // PING: the transport and event-loop floor
  kValidate,  // VALIDATE of a token from the workload
};

// How each client thread drives its connections.
enum class ClientLoop {
  kUring,  // io_uring: one system call submits a pass's sends and waits
  kEpoll,  // epoll, with a send and a receive system call per connection
};

// What one run sends, to where, and how hard.
struct RunSpec {
  std::string label;  // names the run in reports ("validate", "ping", ...)
  Op op = Op::kPing;
  std::string socket_path;
  int connections = 1;
  int depth = 1;              // requests in flight per connection (open loop: at most)
  double rate = 0;            // requests per second over all connections; 0 = closed loop
  std::string tokens_file;    // one token a line
  std::string mint_key_file;  // or: mint `unique` tokens signed with this key
  std::string alg;            // alg of minted tokens (a JWS name); empty = the key's own
  std::string kid;            // kid of minted tokens; empty = the key's own
  size_t unique = 1;          // distinct minted tokens
  double invalid_ratio = 0;   // share of requests whose token is tampered with
  std::string audience;       // per-request audience, also the minted `aud`
  // The server's processes, whose CPU time is read over the measured
  // window; empty: the server's CPU is not measured.
  std::vector<pid_t> server_pids;
  // The cores the server can keep busy (its worker threads, at most the
  // CPUs it may run on); 0: the CPUs its affinity mask allows.
  int server_cores = 0;

  bool open_loop() const { return rate > 0; }
};

struct BenchOptions {
  // One entry without --compare; one per compared workload with it.
  std::vector<RunSpec> runs;
  bool compare = false;
  double duration_seconds = 5;
  double warmup_seconds = 1;
  int threads = 1;  // client threads, each driving its share of connections
  // io_uring unless the kernel refuses a ring, when epoll runs instead.
  ClientLoop client_loop = ClientLoop::kUring;
  bool json = false;
  std::string plot_path;  // empty: no plot
  // --idle N: open N connections, PING each once, report the server's
  // resident memory before and after (from /proc/PID/status).
  size_t idle_connections = 0;
  pid_t server_pid = 0;  // --idle: 0 = found from the socket's peer credentials
  bool help = false;
};

// Defaults of the compare presets.
inline constexpr size_t kHitUnique = 16;
inline constexpr size_t kMissUnique = 200000;

// ParseArgs()
//
// Parses argv[1..argc). Returns kInvalidArgument with a one-line message
// naming the flag, the value and what is expected: on an unknown flag, a
// missing or malformed value, a value out of range, a missing --socket,
// VALIDATE with neither --tokens nor --mint, both of them, a bad
// --compare spec, or more than one --server-pid with --idle.
absl::StatusOr<BenchOptions> ParseArgs(int argc, char** argv);

// Usage()
//
// The --help text.
std::string Usage();

const char* OpName(Op op);

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_ARGS_H_
