// SPDX-License-Identifier: Apache-2.0
#include "daemon/config.h"

#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <span>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "daemon/auth/claims.h"

namespace tokend {
namespace {

static_assert(auth::kClaimExp == 1, "Config::required_claims defaults to auth::kClaimExp");

// A Unix socket path must fit sun_path with its terminating NUL.
constexpr size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;

constexpr uint64_t kMaxSeconds = 86400;
constexpr uint64_t kMaxThreads = 1024;
constexpr uint64_t kMaxConnections = 1 << 20;
constexpr uint64_t kMaxBufferedBytes = uint64_t{1} << 40;
constexpr uint64_t kMaxCacheEntries = 100000000;

absl::Status Invalid(absl::string_view where, absl::string_view value, absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value \"", value, "\" for ", where, ": expected ", expected));
}

// Strict decimal: digits only, no sign, no spaces, no overflow, <= max.
bool ParseDecimal(absl::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

absl::Status ParseRange(absl::string_view where, absl::string_view value, uint64_t min,
                        uint64_t max, absl::string_view unit, uint64_t* out) {
  if (!ParseDecimal(value, max, out) || *out < min) {
    return Invalid(where, value,
                   absl::StrCat("a whole number of ", unit, " from ", min, " to ", max));
  }
  return absl::OkStatus();
}

absl::Status ParsePath(absl::string_view where, absl::string_view value, std::string* out) {
  if (value.empty()) return Invalid(where, value, "a path");
  *out = std::string(value);
  return absl::OkStatus();
}

absl::Status ParseSocketPath(absl::string_view where, absl::string_view value, std::string* out) {
  if (value.empty()) return Invalid(where, value, "a socket path");
  if (value.size() > kMaxSocketPath) {
    return Invalid(where, value,
                   absl::StrCat("a socket path of at most ", kMaxSocketPath, " bytes (it has ",
                                value.size(), ")"));
  }
  if (value.find('\0') != absl::string_view::npos) return Invalid(where, value, "a socket path");
  *out = std::string(value);
  return absl::OkStatus();
}

// A user or group: a decimal id, or a name looked up in the system's
// databases. `kind` is "user" or "group".
absl::Status ParseId(absl::string_view where, absl::string_view item, bool is_user, uint32_t* out) {
  const char* kind = is_user ? "user" : "group";
  if (item.empty()) return Invalid(where, item, absl::StrCat("a ", kind, " name or id"));
  uint64_t v = 0;
  if (item[0] >= '0' && item[0] <= '9') {
    // (uid_t)-1 means "no change" to chown(2): never a real id.
    if (!ParseDecimal(item, 0xfffffffeu, &v)) {
      return Invalid(where, item, absl::StrCat("a ", kind, " name or a numeric id below 2^32-1"));
    }
    *out = static_cast<uint32_t>(v);
    return absl::OkStatus();
  }
  std::string name(item);
  std::vector<char> buf(16384);
  int rc;
  if (is_user) {
    passwd pw, *result = nullptr;
    rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result);
    if (rc == 0 && result != nullptr) {
      *out = result->pw_uid;
      return absl::OkStatus();
    }
  } else {
    group gr, *result = nullptr;
    rc = getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result);
    if (rc == 0 && result != nullptr) {
      *out = result->gr_gid;
      return absl::OkStatus();
    }
  }
  return Invalid(where, item, absl::StrCat("an existing ", kind, " name or a numeric id"));
}

template <typename Id>
absl::Status ParseIdList(absl::string_view where, absl::string_view value, bool is_user,
                         std::vector<Id>* out) {
  const std::string expected = absl::StrCat("a comma-separated list of existing ",
                                            is_user ? "user" : "group", " names or numeric ids");
  if (value.empty()) return Invalid(where, value, expected);
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    uint32_t id = 0;
    if (!ParseId(where, item, is_user, &id).ok()) {
      return Invalid(where, value, absl::StrCat(expected, " (\"", item, "\" is not one)"));
    }
    if (std::find(out->begin(), out->end(), static_cast<Id>(id)) == out->end()) {
      out->push_back(static_cast<Id>(id));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseMode(absl::string_view where, absl::string_view value, mode_t* out) {
  bool ok = !value.empty() && value.size() <= 4;
  unsigned v = 0;
  for (char c : value) {
    if (c < '0' || c > '7') ok = false;
    v = v * 8 + static_cast<unsigned>(c - '0');
  }
  if (!ok || v > 0777) return Invalid(where, value, "an octal file mode from 0 to 0777, e.g. 0660");
  *out = static_cast<mode_t>(v);
  return absl::OkStatus();
}

absl::Status ParseClaims(absl::string_view where, absl::string_view value, uint32_t* out) {
  struct Name {
    absl::string_view name;
    uint32_t bit;
  };
  static constexpr Name kNames[] = {
      {"exp", auth::kClaimExp}, {"nbf", auth::kClaimNbf}, {"iat", auth::kClaimIat},
      {"iss", auth::kClaimIss}, {"sub", auth::kClaimSub}, {"aud", auth::kClaimAud},
      {"jti", auth::kClaimJti},
  };
  uint32_t bits = 0;
  if (!value.empty() && value != "none") {
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      const Name* found = nullptr;
      for (const Name& n : kNames) {
        if (n.name == item) found = &n;
      }
      if (found == nullptr) {
        return Invalid(where, value,
                       "a comma-separated list of exp, nbf, iat, iss, sub, aud, jti, or \"none\"");
      }
      bits |= found->bit;
    }
  }
  *out = bits;
  return absl::OkStatus();
}

// A comma-separated list of JWS algorithm names, spelled as in a header.
// "none", "apikey" and any other name are refused, naming the bad item.
absl::Status ParseAlgorithms(absl::string_view where, absl::string_view value, auth::AlgSet* out) {
  constexpr absl::string_view kExpected =
      "a comma-separated list of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, "
      "ES256, ES384, ES512, EdDSA";
  if (value.empty()) return Invalid(where, value, kExpected);
  auth::AlgSet algs;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    const auth::Alg alg = auth::AlgFromName(std::string_view(item.data(), item.size()));
    if (alg == auth::Alg::kUnknown) {
      return Invalid(where, value, absl::StrCat(kExpected, " (\"", item, "\" is not one)"));
    }
    algs.Add(alg);
  }
  *out = algs;
  return absl::OkStatus();
}

using Handler = absl::Status (*)(Config* c, absl::string_view where, absl::string_view v);

struct Flag {
  absl::string_view name;  // without the leading "--"
  bool takes_value;
  Handler handle;
};

template <typename T>
absl::Status Assign(absl::string_view where, absl::string_view v, uint64_t min, uint64_t max,
                    absl::string_view unit, T* out) {
  uint64_t n = 0;
  absl::Status st = ParseRange(where, v, min, max, unit, &n);
  if (st.ok()) *out = static_cast<T>(n);
  return st;
}

constexpr Flag kFlags[] = {
    {"socket", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseSocketPath(w, v, &c->socket_path);
     }},
    {"keys", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParsePath(w, v, &c->keys_path);
     }},
    {"http-socket", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseSocketPath(w, v, &c->http_socket_path);
     }},
    {"admin-socket", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseSocketPath(w, v, &c->admin_socket_path);
     }},
    {"grpc-socket", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseSocketPath(w, v, &c->grpc_socket_path);
     }},
    {"audience", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       if (v.empty()) return Invalid(w, v, "a non-empty audience");
       c->audiences.emplace_back(v);
       return absl::OkStatus();
     }},
    {"issuer", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       if (v.empty()) return Invalid(w, v, "a non-empty issuer");
       c->issuers.emplace_back(v);
       return absl::OkStatus();
     }},
    {"leeway", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 0, kMaxSeconds, "seconds", &c->leeway_seconds);
     }},
    {"max-token-bytes", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 1, kMaxTokenBytesLimit, "bytes", &c->max_token_bytes);
     }},
    {"revoked", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParsePath(w, v, &c->revoked_path);
     }},
    {"threads", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 1, kMaxThreads, "threads", &c->threads);
     }},
    {"event-loop", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       if (v == "auto") {
         c->event_loop = EventLoopKind::kAuto;
       } else if (v == "io_uring") {
         c->event_loop = EventLoopKind::kIoUring;
       } else if (v == "epoll") {
         c->event_loop = EventLoopKind::kEpoll;
       } else {
         return Invalid(w, v, "auto, io_uring or epoll");
       }
       return absl::OkStatus();
     }},
    {"cache-entries", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 0, kMaxCacheEntries, "entries (0 turns the cache off)",
                     &c->cache_entries);
     }},
    {"socket-mode", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseMode(w, v, &c->socket_mode);
     }},
    {"socket-group", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       uint32_t gid = 0;
       absl::Status st = ParseId(w, v, /*is_user=*/false, &gid);
       if (st.ok()) c->socket_group = static_cast<gid_t>(gid);
       return st;
     }},
    {"allow-uid", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseIdList(w, v, /*is_user=*/true, &c->allow_uids);
     }},
    {"allow-gid", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseIdList(w, v, /*is_user=*/false, &c->allow_gids);
     }},
    {"max-connections", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 1, kMaxConnections, "connections", &c->max_connections);
     }},
    {"max-connections-per-uid", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 1, kMaxConnections, "connections", &c->max_connections_per_uid);
     }},
    {"max-buffered-bytes", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 0, kMaxBufferedBytes, "bytes (0 = no limit)", &c->max_buffered_bytes);
     }},
    {"write-stall-timeout", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 0, kMaxSeconds, "seconds (0 = never)", &c->write_stall_timeout_seconds);
     }},
    {"poll-interval", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return Assign(w, v, 0, kMaxSeconds, "seconds (0 turns polling off)",
                     &c->poll_interval_seconds);
     }},
    {"require-claims", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseClaims(w, v, &c->required_claims);
     }},
    {"algorithms", true,
     [](Config* c, absl::string_view w, absl::string_view v) {
       return ParseAlgorithms(w, v, &c->allowed_algs);
     }},
    {"help", false,
     [](Config* c, absl::string_view, absl::string_view) {
       c->help = true;
       return absl::OkStatus();
     }},
    {"version", false,
     [](Config* c, absl::string_view, absl::string_view) {
       c->version = true;
       return absl::OkStatus();
     }},
};

const Flag* FindFlag(absl::string_view name) {
  for (const Flag& f : kFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string EnvName(absl::string_view flag) {
  std::string name = "TOKEND_";
  for (char c : flag) name.push_back(c == '-' ? '_' : static_cast<char>(c - 'a' + 'A'));
  return name;
}

}  // namespace

int DefaultThreads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return std::min<int>(n, static_cast<int>(kMaxThreads));
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(std::min<long>(n, kMaxThreads)) : 1;
}

absl::StatusOr<Config> ParseConfig(int argc, char** argv, const EnvLookup& env) {
  Config config;
  config.threads = DefaultThreads();
  std::vector<const Flag*> seen;

  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i] != nullptr ? argv[i] : "";
    if (arg == "-h") arg = "--help";
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\": every option is --name VALUE"));
    }
    absl::string_view body = arg.substr(2);
    absl::string_view name = body;
    std::optional<absl::string_view> value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
    }
    const Flag* flag = FindFlag(name);
    std::string where = absl::StrCat("--", name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", where));
    }
    if (!flag->takes_value && value.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " takes no value"));
    }
    if (flag->takes_value && !value.has_value()) {
      if (i + 1 >= argc || argv[i + 1] == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(where, " needs a value"));
      }
      value = argv[++i];
    }
    absl::Status st = flag->handle(&config, where, value.value_or(""));
    if (!st.ok()) return st;
    seen.push_back(flag);
  }

  if (env) {
    for (const Flag& flag : kFlags) {
      if (!flag.takes_value || std::find(seen.begin(), seen.end(), &flag) != seen.end()) continue;
      std::string var = EnvName(flag.name);
      const char* value = env(var.c_str());
      if (value == nullptr || *value == '\0') continue;
      absl::Status st = flag.handle(&config, absl::StrCat("environment variable ", var), value);
      if (!st.ok()) return st;
    }
  }

  if (config.help || config.version) return config;
  if (config.keys_path.empty()) {
    return absl::InvalidArgumentError("--keys is required: a key file or a directory of key files");
  }
  if (!config.http_socket_path.empty() && config.http_socket_path == config.socket_path) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http-socket and --socket must differ (both are \"", config.socket_path, "\")"));
  }
  if (config.max_connections_per_uid == 0) {
    config.max_connections_per_uid = (config.max_connections + 3) / 4;
  } else if (config.max_connections_per_uid > config.max_connections) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-connections-per-uid ", config.max_connections_per_uid,
                     " exceeds --max-connections ", config.max_connections));
  }
  if (!config.admin_socket_path.empty()) {
    for (const auto& [flag, path] :
         {std::pair<absl::string_view, const std::string*>{"--socket", &config.socket_path},
          {"--http-socket", &config.http_socket_path}}) {
      if (config.admin_socket_path == *path) {
        return absl::InvalidArgumentError(
            absl::StrCat("--admin-socket and ", flag, " must differ (both are \"", *path, "\")"));
      }
    }
  }
  if (!config.grpc_socket_path.empty()) {
    for (const auto& [flag, path] :
         {std::pair<absl::string_view, const std::string*>{"--socket", &config.socket_path},
          {"--http-socket", &config.http_socket_path},
          {"--admin-socket", &config.admin_socket_path}}) {
      if (config.grpc_socket_path == *path) {
        return absl::InvalidArgumentError(
            absl::StrCat("--grpc-socket and ", flag, " must differ (both are \"", *path, "\")"));
      }
    }
    // gRPC accepts connections itself: the peer credential checks of the
    // other sockets cannot run there, and must not be silently skipped.
    if (!config.allow_uids.empty() || !config.allow_gids.empty()) {
      return absl::InvalidArgumentError(
          "--grpc-socket cannot check --allow-uid/--allow-gid: restrict it with --socket-mode "
          "and --socket-group instead");
    }
  }
  return config;
}

std::string Usage() {
  return R"(Usage: tokend --keys PATH [options]

Validates JWTs (HS*, RS*, PS*, ES*, EdDSA) for local processes over a Unix socket.

  --socket PATH            protocol socket (default /run/tokend/tokend.sock;
                           ignored when systemd passes a socket)
  --keys PATH              key file or directory of key files (required)
  --http-socket PATH       also serve HTTP/1.1 auth checks on this socket
                           (every request gets an auth decision)
  --admin-socket PATH      serve GET /healthz and GET /metrics on this socket
  --grpc-socket PATH       also serve Envoy's ext_authz gRPC API (and
                           grpc.health.v1.Health) on this socket
  --audience AUD           expected audience; repeat to add more
  --issuer ISS             allowed issuer; repeat to add more
  --leeway SECONDS         clock skew allowed on exp/nbf/iat (default 30)
  --max-token-bytes N      longest token validated (default 8192, max 65532)
  --revoked FILE           revocation list: tokens or jti values, one a line
  --threads N              worker threads (default: the CPUs available)
  --event-loop KIND        auto, io_uring or epoll (default auto)
  --cache-entries N        verified-token cache size (default 1000000, 0 = off)
  --socket-mode OCTAL      mode of the socket file (default 0660)
  --socket-group NAME      group of the socket file (default: ours)
  --allow-uid LIST         only these peer users (names or ids, comma-separated)
  --allow-gid LIST         only these peer groups (names or ids, comma-separated)
  --max-connections N      open client connections (default 16384)
  --max-connections-per-uid N
                           connections one peer user may hold (default a
                           quarter of --max-connections); the last eighth of
                           --max-connections is kept for users holding few
  --max-buffered-bytes N   buffers of all connections together (default
                           16777216); above it clients with 4 KiB of answers
                           unread are not read from (0 = no limit)
  --write-stall-timeout SECONDS
                           close a client whose answers have not moved for
                           this long (default 30, 0 = never)
  --poll-interval SECONDS  backstop poll of the keys (default 10, 0 = off)
  --require-claims LIST    claims every token must have (default exp;
                           any of exp,nbf,iat,iss,sub,aud,jti, or none)
  --algorithms LIST        JWS algorithms accepted (default all: HS256,HS384,
                           HS512,RS256,RS384,RS512,PS256,PS384,PS512,ES256,
                           ES384,ES512,EdDSA); others are ALG_NOT_ALLOWED
  --help                   print this text
  --version                print the version

Each option may also come from TOKEND_<NAME> in the environment (for example
TOKEND_KEYS, TOKEND_EVENT_LOOP) when it is not on the command line.
Signals: SIGHUP reloads the keys; SIGTERM and SIGINT stop after answering
what was received.
)";
}

}  // namespace tokend
