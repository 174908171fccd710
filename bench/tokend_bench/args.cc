// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/args.h"

#include <cmath>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "daemon/auth/status.h"

namespace tokend::bench {
namespace {

using absl::InvalidArgumentError;

constexpr int kMaxConnections = 100000;
constexpr int kMaxDepth = 65536;  // request ids carry the slot in 16 bits
constexpr int kMaxThreads = 64;
constexpr size_t kMaxUnique = 10000000;

// The run flags as given: a flag not given leaves its field unset so that
// --compare specs can tell "not given" from "the default".
struct RunFlags {
  std::optional<Op> op;
  std::optional<std::string> socket_path;
  std::optional<int> connections;
  std::optional<int> depth;
  std::optional<double> rate;
  std::optional<std::string> tokens_file;
  std::optional<std::string> mint_key_file;
  std::optional<std::string> alg;
  std::optional<std::string> kid;
  std::optional<size_t> unique;
  std::optional<double> invalid_ratio;
  std::optional<std::string> audience;
  std::optional<std::vector<pid_t>> server_pids;
  std::optional<int> server_cores;
};

absl::Status Bad(absl::string_view flag, absl::string_view value, absl::string_view expected) {
  return InvalidArgumentError(absl::StrCat(flag, ": got '", value, "', expected ", expected));
}

absl::StatusOr<int> ParseInt(absl::string_view flag, absl::string_view v, int lo, int hi) {
  int n = 0;
  if (!absl::SimpleAtoi(v, &n) || n < lo || n > hi) {
    return Bad(flag, v, absl::StrCat("an integer from ", lo, " to ", hi));
  }
  return n;
}

absl::StatusOr<size_t> ParseSize(absl::string_view flag, absl::string_view v, size_t lo,
                                 size_t hi) {
  uint64_t n = 0;
  if (!absl::SimpleAtoi(v, &n) || n < lo || n > hi) {
    return Bad(flag, v, absl::StrCat("an integer from ", lo, " to ", hi));
  }
  return static_cast<size_t>(n);
}

absl::StatusOr<double> ParseDouble(absl::string_view flag, absl::string_view v, double lo,
                                   double hi, absl::string_view expected) {
  double d = 0;
  if (!absl::SimpleAtod(v, &d) || !std::isfinite(d) || d < lo || d > hi) {
    return Bad(flag, v, expected);
  }
  return d;
}

absl::StatusOr<Op> ParseOp(absl::string_view flag, absl::string_view v) {
  if (v == "ping") return Op::kPing;
  if (v == "validate") return Op::kValidate;
  return Bad(flag, v, "ping or validate");
}

// Sets the run flag `name` (without dashes) from `value`; `flag` is how to
// name it in messages. NotFound when `name` is not a run flag.
absl::Status SetRunFlag(absl::string_view name, absl::string_view flag, absl::string_view value,
                        RunFlags* f) {
  if (name == "op") {
    absl::StatusOr<Op> op = ParseOp(flag, value);
    if (!op.ok()) return op.status();
    f->op = *op;
  } else if (name == "socket") {
    if (value.empty()) return Bad(flag, value, "a socket path");
    f->socket_path = std::string(value);
  } else if (name == "connections") {
    absl::StatusOr<int> n = ParseInt(flag, value, 1, kMaxConnections);
    if (!n.ok()) return n.status();
    f->connections = *n;
  } else if (name == "depth") {
    absl::StatusOr<int> n = ParseInt(flag, value, 1, kMaxDepth);
    if (!n.ok()) return n.status();
    f->depth = *n;
  } else if (name == "rate") {
    absl::StatusOr<double> r =
        ParseDouble(flag, value, 0, 1e9, "requests per second, 0 (closed loop) to 1e9");
    if (!r.ok()) return r.status();
    f->rate = *r;
  } else if (name == "tokens") {
    if (value.empty()) return Bad(flag, value, "a file of tokens, one a line");
    f->tokens_file = std::string(value);
  } else if (name == "mint") {
    if (value.empty()) return Bad(flag, value, "a key file");
    f->mint_key_file = std::string(value);
  } else if (name == "alg") {
    if (auth::AlgFromName(std::string_view(value.data(), value.size())) == auth::Alg::kUnknown) {
      return Bad(flag, value,
                 "a JWS alg: HS256..HS512, RS256..RS512, PS256..PS512, "
                 "ES256..ES512 or EdDSA");
    }
    f->alg = std::string(value);
  } else if (name == "kid") {
    f->kid = std::string(value);
  } else if (name == "unique") {
    absl::StatusOr<size_t> n = ParseSize(flag, value, 1, kMaxUnique);
    if (!n.ok()) return n.status();
    f->unique = *n;
  } else if (name == "invalid-ratio") {
    absl::StatusOr<double> r = ParseDouble(flag, value, 0, 1, "a share from 0 to 1");
    if (!r.ok()) return r.status();
    f->invalid_ratio = *r;
  } else if (name == "audience") {
    f->audience = std::string(value);
  } else if (name == "server-pid") {
    // Repeatable: each occurrence adds to the list.
    std::vector<pid_t> pids = f->server_pids.value_or(std::vector<pid_t>{});
    for (absl::string_view p : absl::StrSplit(value, absl::ByAnyChar(",+"))) {
      int pid = 0;
      if (!absl::SimpleAtoi(p, &pid) || pid <= 0) {
        return Bad(flag, value, "a process id, or several joined by ','");
      }
      pids.push_back(pid);
    }
    f->server_pids = std::move(pids);
  } else if (name == "server-cores") {
    absl::StatusOr<int> n = ParseInt(flag, value, 1, 4096);
    if (!n.ok()) return n.status();
    f->server_cores = *n;
  } else {
    return absl::NotFoundError(name);
  }
  return absl::OkStatus();
}

// `over` on top of `base`: what `over` sets wins.
RunFlags Overlay(const RunFlags& base, const RunFlags& over) {
  RunFlags r = base;
  if (over.op) r.op = over.op;
  if (over.socket_path) r.socket_path = over.socket_path;
  if (over.connections) r.connections = over.connections;
  if (over.depth) r.depth = over.depth;
  if (over.rate) r.rate = over.rate;
  if (over.tokens_file) {
    r.tokens_file = over.tokens_file;
    r.mint_key_file.reset();
  }
  if (over.mint_key_file) {
    r.mint_key_file = over.mint_key_file;
    r.tokens_file.reset();
  }
  if (over.alg) r.alg = over.alg;
  if (over.kid) r.kid = over.kid;
  if (over.unique) r.unique = over.unique;
  if (over.invalid_ratio) r.invalid_ratio = over.invalid_ratio;
  if (over.audience) r.audience = over.audience;
  if (over.server_pids) r.server_pids = over.server_pids;
  if (over.server_cores) r.server_cores = over.server_cores;
  return r;
}

// Checks a finished run and turns it into a RunSpec. `where` prefixes
// messages ("" for the plain flags, "--compare validate-hit: ").
absl::StatusOr<RunSpec> Finish(const RunFlags& f, std::string label, absl::string_view where) {
  RunSpec s;
  s.label = std::move(label);
  s.op = f.op.value_or(Op::kPing);
  if (!f.socket_path) return InvalidArgumentError(absl::StrCat(where, "--socket PATH is required"));
  s.socket_path = *f.socket_path;
  s.connections = f.connections.value_or(1);
  s.depth = f.depth.value_or(1);
  s.rate = f.rate.value_or(0);
  s.tokens_file = f.tokens_file.value_or("");
  s.mint_key_file = f.mint_key_file.value_or("");
  s.alg = f.alg.value_or("");
  s.kid = f.kid.value_or("");
  s.unique = f.unique.value_or(1);
  s.invalid_ratio = f.invalid_ratio.value_or(0);
  s.audience = f.audience.value_or("");
  s.server_pids = f.server_pids.value_or(std::vector<pid_t>{});
  s.server_cores = f.server_cores.value_or(0);
  if (!s.tokens_file.empty() && !s.mint_key_file.empty()) {
    return InvalidArgumentError(
        absl::StrCat(where, "--tokens and --mint exclude each other: give one"));
  }
  if (s.op == Op::kValidate && s.tokens_file.empty() && s.mint_key_file.empty()) {
    return InvalidArgumentError(absl::StrCat(
        where, "--op validate needs tokens: --tokens FILE or --mint KEYFILE [--unique K]"));
  }
  if ((f.kid || f.alg) && s.mint_key_file.empty()) {
    return InvalidArgumentError(
        absl::StrCat(where, f.kid ? "--kid" : "--alg", " applies only with --mint"));
  }
  if (f.server_cores && s.server_pids.empty()) {
    return InvalidArgumentError(
        absl::StrCat(where, "--server-cores applies only with --server-pid"));
  }
  if (s.audience.size() > 65535) {
    return InvalidArgumentError(absl::StrCat(where, "--audience: longer than 65535 bytes"));
  }
  return s;
}

// A preset name -> what it sets, or nullopt for an unknown name.
std::optional<RunFlags> Preset(absl::string_view name) {
  RunFlags f;
  if (name == "ping") {
    f.op = Op::kPing;
  } else if (name == "validate") {
    f.op = Op::kValidate;
  } else if (name == "validate-hit") {
    f.op = Op::kValidate;
    f.unique = kHitUnique;
    f.invalid_ratio = 0;
  } else if (name == "validate-miss") {
    f.op = Op::kValidate;
    f.unique = kMissUnique;
    f.invalid_ratio = 0;
  } else if (name == "validate-invalid") {
    f.op = Op::kValidate;
    f.invalid_ratio = 1;
  } else {
    return std::nullopt;
  }
  return f;
}

absl::Status AddCompareSpec(absl::string_view spec, const RunFlags& base,
                            std::vector<RunSpec>* runs) {
  const size_t colon = spec.find(':');
  if (colon == absl::string_view::npos) {
    for (absl::string_view name : absl::StrSplit(spec, ',')) {
      std::optional<RunFlags> preset = Preset(name);
      if (!preset) {
        return Bad("--compare", name,
                   "ping, validate, validate-hit, validate-miss, validate-invalid, or "
                   "LABEL:key=value,...");
      }
      if ((name == "validate-hit" || name == "validate-miss") && !base.mint_key_file) {
        return InvalidArgumentError(
            absl::StrCat("--compare ", name, ": needs --mint KEYFILE (it mints its own tokens)"));
      }
      absl::StatusOr<RunSpec> run =
          Finish(Overlay(base, *preset), std::string(name), absl::StrCat("--compare ", name, ": "));
      if (!run.ok()) return run.status();
      runs->push_back(*std::move(run));
    }
    return absl::OkStatus();
  }
  const absl::string_view label = spec.substr(0, colon);
  if (label.empty()) return Bad("--compare", spec, "LABEL:key=value,... with a label");
  const std::string where = absl::StrCat("--compare ", label, ": ");
  RunFlags over;
  for (absl::string_view kv : absl::StrSplit(spec.substr(colon + 1), ',', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) {
      return Bad(absl::StrCat("--compare ", label), kv, "key=value");
    }
    const absl::string_view key = kv.substr(0, eq);
    absl::Status st =
        SetRunFlag(key, absl::StrCat("--compare ", label, " ", key), kv.substr(eq + 1), &over);
    if (absl::IsNotFound(st)) {
      return Bad(absl::StrCat("--compare ", label), key,
                 "one of op, socket, connections, depth, rate, tokens, mint, alg, kid, "
                 "unique, invalid-ratio, audience, server-pid, server-cores");
    }
    if (!st.ok()) return st;
  }
  absl::StatusOr<RunSpec> run = Finish(Overlay(base, over), std::string(label), where);
  if (!run.ok()) return run.status();
  runs->push_back(*std::move(run));
  return absl::OkStatus();
}

}  // namespace

const char* OpName(Op op) { return op == Op::kPing ? "ping" : "validate"; }

absl::StatusOr<BenchOptions> ParseArgs(int argc, char** argv) {
  BenchOptions o;
  RunFlags base;
  std::vector<std::string> compare_specs;
  bool idle_given = false;
  bool plain_run_flag = false;  // a flag that only a load run uses

  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      return InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "': every option is a --flag"));
    }
    absl::string_view name = arg.substr(2);
    absl::string_view value;
    if (size_t eq = name.find('='); eq != absl::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= argc) {
        return InvalidArgumentError(absl::StrCat("--", name, ": missing value"));
      }
      value = argv[++i];
    }
    const std::string flag = absl::StrCat("--", name);
    absl::Status st = SetRunFlag(name, flag, value, &base);
    if (st.ok()) {
      if (name != "socket" && name != "server-pid") plain_run_flag = true;
      continue;
    }
    if (!absl::IsNotFound(st)) return st;

    if (name == "duration") {
      absl::StatusOr<double> d = ParseDouble(flag, value, 0.001, 86400, "seconds, 0.001 to 86400");
      if (!d.ok()) return d.status();
      o.duration_seconds = *d;
    } else if (name == "warmup") {
      absl::StatusOr<double> d = ParseDouble(flag, value, 0, 86400, "seconds, 0 to 86400");
      if (!d.ok()) return d.status();
      o.warmup_seconds = *d;
    } else if (name == "threads") {
      absl::StatusOr<int> n = ParseInt(flag, value, 1, kMaxThreads);
      if (!n.ok()) return n.status();
      o.threads = *n;
    } else if (name == "client-loop") {
      if (value == "io_uring") {
        o.client_loop = ClientLoop::kUring;
      } else if (value == "epoll") {
        o.client_loop = ClientLoop::kEpoll;
      } else {
        return Bad(flag, value, "io_uring or epoll");
      }
    } else if (name == "compare") {
      if (value.empty()) return Bad(flag, value, "a workload spec");
      compare_specs.emplace_back(value);
    } else if (name == "plot") {
      if (value.empty()) return Bad(flag, value, "an output file, FILE.svg");
      o.plot_path = std::string(value);
    } else if (name == "idle") {
      absl::StatusOr<size_t> n = ParseSize(flag, value, 1, 1000000);
      if (!n.ok()) return n.status();
      o.idle_connections = *n;
      idle_given = true;
    } else {
      return InvalidArgumentError(absl::StrCat("unknown flag ", flag));
    }
  }
  if (o.help) return o;

  if (idle_given) {
    if (plain_run_flag || !compare_specs.empty() || !o.plot_path.empty()) {
      return InvalidArgumentError(
          "--idle measures idle connections: it takes only --socket, --server-pid and --json");
    }
    if (!base.socket_path) return InvalidArgumentError("--socket PATH is required");
    if (base.server_pids && base.server_pids->size() > 1) {
      return InvalidArgumentError("--idle: give one --server-pid");
    }
    if (base.server_pids) o.server_pid = base.server_pids->front();
    RunSpec s;
    s.label = "idle";
    s.socket_path = *base.socket_path;
    o.runs.push_back(std::move(s));
    return o;
  }

  if (compare_specs.empty()) {
    absl::StatusOr<RunSpec> run = Finish(base, OpName(base.op.value_or(Op::kPing)), "");
    if (!run.ok()) return run.status();
    o.runs.push_back(*std::move(run));
  } else {
    if (!base.socket_path) return InvalidArgumentError("--socket PATH is required");
    o.compare = true;
    for (const std::string& spec : compare_specs) {
      if (absl::Status st = AddCompareSpec(spec, base, &o.runs); !st.ok()) return st;
    }
    absl::flat_hash_set<std::string> labels;
    for (const RunSpec& r : o.runs) {
      if (!labels.insert(r.label).second) {
        return InvalidArgumentError(
            absl::StrCat("--compare: the label '", r.label, "' is used twice"));
      }
    }
  }
  return o;
}

std::string Usage() {
  return R"(tokend-bench: latency and throughput of a tokend (or any server of its protocol)

  tokend-bench --socket PATH [options]
  tokend-bench --socket PATH --idle N [--server-pid PID] [--json]

Load (closed loop unless --rate is given):
  --socket PATH          the daemon's protocol socket (required)
  --op ping|validate     what to send (default ping)
  --connections N        client connections (default 1)
  --depth D              requests in flight per connection (default 1); with
                         --rate, the most a connection has in flight
  --rate R               open loop: R requests per second in all, each sent at
                         its scheduled time; latency counts from that time, so
                         a stall delays and counts every request behind it
  --duration SECONDS     measured time (default 5)
  --warmup SECONDS       load before measuring, not counted (default 1)
  --threads T            client threads, each driving its share of the
                         connections (default 1); throughput is summed and
                         latency histograms merged
  --client-loop io_uring|epoll
                         how each client thread drives its connections
                         (default io_uring: a pass's sends go out and its
                         wait happens in one system call, and a closed loop
                         polls up to 30 us before sleeping, time reported
                         apart and not counted as busy; epoll where the
                         kernel refuses a ring); epoll makes a send and a
                         receive system call per connection
Tokens (--op validate):
  --tokens FILE          tokens to send, one a line, cycled
  --mint KEYFILE         mint tokens signed with this key file (any form the
                         daemon loads: raw, .b64, JWK Set; or a private key
                         PEM from tokenctl keygen, for RS/PS/ES/EdDSA)
  --alg ALG              alg of minted tokens (default: the key's own, HS256
                         for a secret, RS256 for an RSA key)
  --kid KID              kid of minted tokens (default: the key's own)
  --unique K             distinct minted tokens, cycled (default 1); fewer
                         than the daemon's cache holds: hits; many more:
                         misses
  --invalid-ratio X      share of requests whose token has a tampered
                         signature, expected to be answered BAD_SIGNATURE
  --audience AUD         per-request audience; also the minted tokens' aud
                         Before the timed warmup, a VALIDATE run sends every
                         distinct token once and waits for the answers, so a
                         cache that holds them all answers the window from it
Server cost:
  --server-pid PID       the server's process (repeatable, or PID,PID,...):
                         its CPU time (utime + stime of /proc/PID/stat, all
                         threads) is read at the start and end of the measured
                         window and reported as CPU % of one core and CPU ns
                         per request
  --server-cores N       the cores the server can keep busy (its worker
                         threads); default: the CPUs its affinity allows.
                         A closed-loop run whose server used less than 90% of
                         N cores was not limited by the server: it is flagged
                         (stderr, and "bottleneck" in the JSON) as "client"
                         when a client thread used 90% of a core or more, else
                         "neither" (each side waited on the other: too few
                         requests in flight or slow wake-ups; or the
                         machine's other load)
Compare and output:
  --compare SPEC         run several workloads back to back (repeatable) and
                         print their ratios to the first. SPEC: a list of
                         presets, e.g. ping,validate-hit,validate-miss, or one
                         LABEL:key=value,... run (keys: op socket connections
                         depth rate tokens mint alg kid unique invalid-ratio
                         audience server-pid server-cores; several pids
                         joined by '+'). Presets: ping; validate (as the flags
                         say); validate-hit (--unique 16); validate-miss
                         (--unique 200000); validate-invalid (every token
                         tampered)
  --json                 print JSON instead of text
  --plot FILE.svg        draw the latency percentile curve of every run
Idle connections:
  --idle N               open N connections, PING each once, and report the
                         daemon's resident memory (VmRSS) before and after
  --server-pid PID       with --idle: the daemon's pid (default: from the
                         socket's peer credentials)

Exit status: 0 when every response had its expected status (OK, or
BAD_SIGNATURE for a tampered token); 1 when any did not, a connection failed,
or a request went unanswered; 2 on a bad command line.
)";
}

}  // namespace tokend::bench
