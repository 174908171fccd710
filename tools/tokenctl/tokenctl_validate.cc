// SPDX-License-Identifier: Apache-2.0
// tokenctl validate and tokenctl ping: the client library from a shell.

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "tokend/client.hpp"
#include "tools/minter/minter.h"
#include "tools/tokenctl/tokenctl_args.h"
#include "tools/tokenctl/tokenctl_commands.h"

namespace tokend::tokenctl {
namespace {

constexpr char kValidateUsage[] =
    "usage: tokenctl validate [--socket PATH] [--audience AUD] [--claims] [--json]\n"
    "                         [--timeout MS] TOKEN|-\n"
    "\n"
    "Asks tokend whether TOKEN is valid. `-` reads the token from stdin; a\n"
    "leading `Bearer ` is stripped either way. Prints the status name (OK,\n"
    "EXPIRED, ...), then the subject and the expiry of a valid token.\n"
    "Exit status: 0 valid, 1 not valid, 2 usage or connection error.\n"
    "\n"
    "  --socket PATH   tokend's socket (default $TOKEND_SOCKET, else\n"
    "                  " TOKEND_DEFAULT_SOCKET
    ")\n"
    "  --audience AUD  the audience the token must name in `aud`\n"
    "  --claims        print the token's claims JSON instead of sub and exp\n"
    "  --json          print the answer as one JSON object\n"
    "  --timeout MS    give up after MS milliseconds (default 5000)\n";

constexpr char kPingUsage[] =
    "usage: tokenctl ping [--socket PATH] [--timeout MS]\n"
    "\n"
    "Checks that tokend answers on its socket: prints OK and the round-trip\n"
    "time. Exit status: 0 it answered, 2 it did not (the error says why).\n"
    "\n"
    "  --socket PATH   tokend's socket (default $TOKEND_SOCKET, else\n"
    "                  " TOKEND_DEFAULT_SOCKET
    ")\n"
    "  --timeout MS    give up after MS milliseconds (default 5000)\n";

// A token read from stdin larger than this is refused before it is sent.
constexpr size_t kMaxStdinBytes = 1 << 20;

// The token as sent: surrounding whitespace and a leading "Bearer " (any
// case, RFC 6750 §2.1) removed.
std::string NormalizeToken(std::string_view raw) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  const auto strip = [&](std::string_view t) {
    while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
    while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
    return t;
  };
  std::string_view t = strip(raw);
  constexpr std::string_view kBearer = "bearer";
  if (t.size() > kBearer.size() && is_space(t[kBearer.size()])) {
    bool match = true;
    for (size_t i = 0; i < kBearer.size(); ++i) {
      match = match && (t[i] | 0x20) == kBearer[i];
    }
    if (match) t = strip(t.substr(kBearer.size()));
  }
  return std::string(t);
}

// Reads all of `fd`, or nullopt with *error set.
std::optional<std::string> ReadAll(int fd, std::string* error) {
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return data;
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = std::string("cannot read the token from stdin: ") + std::strerror(errno);
      return std::nullopt;
    }
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxStdinBytes) {
      *error = "the input on stdin is over 1 MiB; pass one token";
      return std::nullopt;
    }
  }
}

std::optional<int> ParseTimeout(const ParsedArgs& args) {
  const std::optional<std::string> v = args.Get("timeout");
  if (!v.has_value()) return 0;
  const std::optional<int64_t> ms = ParseInt64(*v);
  if (!ms.has_value() || *ms <= 0 || *ms > INT_MAX) return std::nullopt;
  return static_cast<int>(*ms);
}

std::string IsoTime(int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  struct tm tm;
  char buf[64];
  if (gmtime_r(&tt, &tm) == nullptr || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return "?";
  }
  return buf;
}

void PrintPlain(const Context& ctx, const Validation& v, bool claims) {
  std::fprintf(ctx.out, "%.*s\n", static_cast<int>(v.status_name.size()), v.status_name.data());
  if (claims && v.valid()) {
    std::fprintf(ctx.out, "%s\n", v.claims.c_str());
    return;
  }
  if (v.valid()) {
    std::fputs("sub: ", ctx.out);
    std::fwrite(v.subject.data(), 1, v.subject.size(), ctx.out);
    std::fputc('\n', ctx.out);
  }
  if (v.exp != 0) {
    std::fprintf(ctx.out, "exp: %lld (%s)\n", static_cast<long long>(v.exp),
                 IsoTime(v.exp).c_str());
  }
}

void PrintJson(const Context& ctx, const Validation& v, bool claims) {
  std::string j = "{\"status\":";
  j += auth::JsonQuote(v.status_name);
  j += ",\"code\":" + std::to_string(v.status);
  j += v.valid() ? ",\"valid\":true" : ",\"valid\":false";
  j += ",\"alg\":" + auth::JsonQuote(v.alg_name);
  if (v.valid()) j += ",\"sub\":" + auth::JsonQuote(v.subject);
  if (v.exp != 0) j += ",\"exp\":" + std::to_string(v.exp);
  if (claims && v.valid() && !v.claims.empty()) j += ",\"claims\":" + v.claims;
  j += "}\n";
  std::fputs(j.c_str(), ctx.out);
}

}  // namespace

int Usage(const Context& ctx, const char* command, const std::string& message, const char* usage) {
  if (message.empty()) {
    std::fputs(usage, ctx.out);
    return kExitOk;
  }
  std::fprintf(ctx.err, "tokenctl %s: %s\n\n%s", command, message.c_str(), usage);
  return kExitError;
}

int RunValidate(const std::vector<std::string>& argv, const Context& ctx) {
  absl::StatusOr<ParsedArgs> args =
      ParseArgs(argv, {{"socket"}, {"audience"}, {"timeout"}, {"claims", false}, {"json", false}});
  if (!args.ok())
    return Usage(ctx, "validate", std::string(args.status().message()), kValidateUsage);
  if (args->Has("help")) return Usage(ctx, "validate", "", kValidateUsage);
  if (args->positionals().size() != 1) {
    return Usage(ctx, "validate",
                 args->positionals().empty() ? "missing TOKEN (give the token, or - to read stdin)"
                                             : "give exactly one TOKEN",
                 kValidateUsage);
  }
  const std::optional<int> timeout = ParseTimeout(*args);
  if (!timeout.has_value()) {
    return Usage(ctx, "validate", "--timeout needs a positive number of milliseconds",
                 kValidateUsage);
  }

  std::string raw = args->positionals()[0];
  if (raw == "-") {
    std::string error;
    std::optional<std::string> in = ReadAll(ctx.in_fd, &error);
    if (!in.has_value()) {
      std::fprintf(ctx.err, "tokenctl validate: %s\n", error.c_str());
      return kExitError;
    }
    raw = *std::move(in);
  }
  const std::string token = NormalizeToken(raw);
  if (token.empty()) {
    std::fprintf(ctx.err, "tokenctl validate: the token is empty\n");
    return kExitError;
  }

  const std::string socket = args->Get("socket").value_or(ctx.socket);
  absl::StatusOr<Client> client = Client::Connect(socket, std::chrono::milliseconds(*timeout));
  if (!client.ok()) {
    std::fprintf(ctx.err, "tokenctl validate: %s\n",
                 std::string(client.status().message()).c_str());
    return kExitError;
  }
  const bool claims = args->Has("claims");
  absl::StatusOr<Validation> v =
      client->Validate(token, args->Get("audience").value_or(""), claims);
  if (!v.ok()) {
    std::fprintf(ctx.err, "tokenctl validate: %s\n", std::string(v.status().message()).c_str());
    return kExitError;
  }
  if (args->Has("json")) {
    PrintJson(ctx, *v, claims);
  } else {
    PrintPlain(ctx, *v, claims);
  }
  return v->valid() ? kExitOk : kExitInvalid;
}

int RunPing(const std::vector<std::string>& argv, const Context& ctx) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"socket"}, {"timeout"}});
  if (!args.ok()) return Usage(ctx, "ping", std::string(args.status().message()), kPingUsage);
  if (args->Has("help")) return Usage(ctx, "ping", "", kPingUsage);
  if (!args->positionals().empty()) {
    return Usage(ctx, "ping", "unexpected argument " + args->positionals()[0], kPingUsage);
  }
  const std::optional<int> timeout = ParseTimeout(*args);
  if (!timeout.has_value()) {
    return Usage(ctx, "ping", "--timeout needs a positive number of milliseconds", kPingUsage);
  }
  const std::string socket = args->Get("socket").value_or(ctx.socket);
  absl::StatusOr<Client> client = Client::Connect(socket, std::chrono::milliseconds(*timeout));
  if (!client.ok()) {
    std::fprintf(ctx.err, "tokenctl ping: %s\n", std::string(client.status().message()).c_str());
    return kExitError;
  }
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s = client->Ping();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  if (!s.ok()) {
    std::fprintf(ctx.err, "tokenctl ping: %s\n", std::string(s.message()).c_str());
    return kExitError;
  }
  std::fprintf(ctx.out, "OK %s (round trip %lld us)\n", socket.c_str(), static_cast<long long>(us));
  return kExitOk;
}

}  // namespace tokend::tokenctl
