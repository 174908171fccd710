// SPDX-License-Identifier: Apache-2.0
// tokenctl apikey: opaque API keys (DESIGN.md "Opaque API keys"). `new`
// draws a token, prints it once and appends its digest line to an .apikeys
// file; `hash` turns a token read from stdin into such a line. The token is
// never written to a file, and the line carries only its SHA-256.

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "daemon/auth/api_keys.h"
#include "daemon/auth/base64url.h"
#include "tools/tokenctl/tokenctl_args.h"
#include "tools/tokenctl/tokenctl_commands.h"

namespace tokend::tokenctl {
namespace {

constexpr char kApiKeyUsage[] =
    "usage: tokenctl apikey new --sub NAME [--expires TIME] FILE\n"
    "       tokenctl apikey hash --sub NAME [--expires TIME] < TOKEN\n"
    "\n"
    "Opaque API keys, such as Dapr's APP_API_TOKEN. tokend stores only their\n"
    "SHA-256, one line per key in a FILE ending in .apikeys in its --keys\n"
    "directory; it reloads the file when it changes.\n"
    "\n"
    "  new   draws 32 random bytes and prints them, base64url, once on stdout:\n"
    "        this is the token, which is written nowhere else. Its line is\n"
    "        appended to FILE (created with mode 0600 if absent).\n"
    "  hash  reads an existing token (at least 16 bytes, one line) from stdin\n"
    "        and prints its line, to append to an .apikeys file.\n"
    "\n"
    "  --sub NAME       the subject tokend answers for the key (visible ASCII)\n"
    "  --expires TIME   RFC 3339 time after which the key answers EXPIRED,\n"
    "                   e.g. 2027-01-31T00:00:00Z (default: never)\n";

constexpr size_t kNewTokenBytes = 32;
constexpr size_t kMaxStdinBytes = 64 * 1024;

int Fail(const Context& ctx, const std::string& message) {
  std::fprintf(ctx.err, "tokenctl apikey: %s\n", message.c_str());
  return kExitError;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The digest line for `token` from the flags, or an error message in *error.
bool MakeLine(std::string_view token, const ParsedArgs& args, std::string* line,
              std::string* error) {
  const std::string sub = args.Get("sub").value_or("");
  if (sub.empty()) {
    *error = "--sub NAME is required (the subject tokend answers for this key)";
    return false;
  }
  if (!auth::ValidApiKeySubject(sub)) {
    *error = "--sub must be 1 to 255 bytes of visible ASCII (no spaces or control characters)";
    return false;
  }
  int64_t exp = 0;
  if (std::optional<std::string> e = args.Get("expires")) {
    absl::Time t;
    std::string why;
    if (!absl::ParseTime(absl::RFC3339_full, *e, &t, &why) || absl::ToUnixSeconds(t) <= 0 ||
        absl::ToUnixSeconds(t) > auth::kMaxApiKeyExpiry) {
      *error = "--expires is not an RFC 3339 time from 1970 to 9999, such as 2027-01-31T00:00:00Z";
      return false;
    }
    exp = absl::ToUnixSeconds(t);
  }
  *line = auth::ApiKeyLine(auth::ApiKeyDigestOf(token), sub, exp);
  return true;
}

// Appends `line` and a newline to `path`, creating it with mode 0600; adds
// a newline first when the file does not end with one.
bool AppendLine(const std::string& path, const std::string& line, std::string* error) {
  const int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  bool ok = fstat(fd, &st) == 0;
  if (ok && !S_ISREG(st.st_mode)) {
    close(fd);
    *error = path + " is not a regular file";
    return false;
  }
  std::string text;
  char last = '\n';
  if (ok && st.st_size > 0) ok = pread(fd, &last, 1, st.st_size - 1) == 1;
  if (last != '\n') text = "\n";
  text += line;
  text += '\n';
  ok = ok && WriteAll(fd, text) && fsync(fd) == 0;
  const int err = errno;
  if (close(fd) != 0 && ok) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!ok) *error = "cannot write " + path + ": " + std::strerror(err);
  return ok;
}

int RunNew(const ParsedArgs& args, const Context& ctx) {
  if (args.positionals().size() != 2) {
    return Usage(ctx, "apikey",
                 args.positionals().size() < 2 ? "missing FILE, the .apikeys file to append to"
                                               : "give exactly one FILE",
                 kApiKeyUsage);
  }
  const std::string& path = args.positionals()[1];
  if (!path.ends_with(".apikeys")) {
    return Fail(ctx, path +
                         ": the name must end in .apikeys, or tokend would read the file "
                         "as an HMAC key");
  }
  unsigned char raw[kNewTokenBytes];
  for (size_t done = 0; done < sizeof raw;) {
    const ssize_t n = getrandom(raw + done, sizeof raw - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ctx, std::string("getrandom: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  std::string token =
      auth::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  OPENSSL_cleanse(raw, sizeof raw);
  std::string line, error;
  int rc = kExitOk;
  if (!MakeLine(token, args, &line, &error) || !AppendLine(path, line, &error)) {
    rc = Fail(ctx, error);
  } else {
    // Printed only once its line is safely in the file.
    std::fprintf(ctx.out, "%s\n", token.c_str());
    std::fprintf(ctx.err,
                 "tokenctl apikey: appended its line to %s; the token above is shown only "
                 "this once\n",
                 path.c_str());
  }
  OPENSSL_cleanse(token.data(), token.size());
  return rc;
}

int RunHash(const ParsedArgs& args, const Context& ctx) {
  if (args.positionals().size() != 1) {
    return Usage(ctx, "apikey", "hash reads the token from stdin, not from the command line",
                 kApiKeyUsage);
  }
  std::string token;
  char buf[4096];
  while (token.size() <= kMaxStdinBytes) {
    const ssize_t n = read(ctx.in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ctx, std::string("cannot read stdin: ") + std::strerror(errno));
    if (n == 0) break;
    token.append(buf, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(buf, sizeof buf);
  if (token.ends_with('\n')) token.pop_back();
  if (token.ends_with('\r')) token.pop_back();
  std::string line, error;
  int rc = kExitOk;
  if (token.size() > kMaxStdinBytes || token.find('\n') != std::string::npos) {
    rc = Fail(ctx, "stdin must hold one token on one line");
  } else if (token.size() < auth::kMinApiKeyBytes) {
    rc = Fail(ctx, "the token is " + std::to_string(token.size()) +
                       " bytes; tokend never accepts an API key shorter than 16");
  } else if (std::count(token.begin(), token.end(), '.') == 2) {
    rc = Fail(ctx,
              "the token has two dots, so tokend reads it as a JWS and never looks it up "
              "as an API key");
  } else if (!MakeLine(token, args, &line, &error)) {
    rc = Fail(ctx, error);
  } else {
    std::fprintf(ctx.out, "%s\n", line.c_str());
  }
  OPENSSL_cleanse(token.data(), token.size());
  return rc;
}

}  // namespace

int RunApiKey(const std::vector<std::string>& argv, const Context& ctx) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"sub"}, {"expires"}});
  if (!args.ok()) return Usage(ctx, "apikey", std::string(args.status().message()), kApiKeyUsage);
  if (args->Has("help")) return Usage(ctx, "apikey", "", kApiKeyUsage);
  const std::string action = args->positionals().empty() ? "" : args->positionals()[0];
  if (action == "new") return RunNew(*args, ctx);
  if (action == "hash") return RunHash(*args, ctx);
  return Usage(ctx, "apikey",
               action.empty() ? "missing new or hash" : "unknown apikey command \"" + action + "\"",
               kApiKeyUsage);
}

}  // namespace tokend::tokenctl
