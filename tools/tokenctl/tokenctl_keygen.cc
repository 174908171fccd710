// SPDX-License-Identifier: Apache-2.0
// tokenctl keygen: a new random HMAC key file, in a form tokend loads.

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "daemon/auth/status.h"
#include "tools/tokenctl/tokenctl_args.h"
#include "tools/tokenctl/tokenctl_commands.h"

namespace tokend::tokenctl {
namespace {

constexpr char kKeygenUsage[] =
    "usage: tokenctl keygen [--alg HS256|HS384|HS512] OUT\n"
    "       tokenctl keygen --alg RS256|...|PS512|ES256|ES384|ES512|EdDSA [--bits N]\n"
    "                       [--public PUB.jwks|PUB.pem] [--kid KID] OUT.key\n"
    "\n"
    "Writes a new random key for ALG (default HS256) to the new file OUT, mode\n"
    "0600: 32, 48 or 64 bytes for HS256, HS384, HS512. OUT ending in .b64 gets\n"
    "the key as base64 text, any other name the raw bytes. An existing OUT is\n"
    "never overwritten. The key's kid is OUT's file name (less .b64): copy OUT\n"
    "into tokend's --keys directory, and sign with `tokenctl mint --key OUT`.\n"
    "\n"
    "  --alg ALG   HS256, HS384 or HS512 (default HS256)\n"
    "\n"
    "With an asymmetric ALG, OUT gets a new private key (PEM, mode 0600) for the\n"
    "signer: RSA for RS*/PS* (--bits, default 2048), P-256/384/521 for\n"
    "ES256/384/512, Ed25519 for EdDSA. Its public key goes to PUB (default\n"
    "OUT's name with .jwks), for tokend's --keys: a JWK Set bound to ALG whose\n"
    "kid is KID (default OUT's name less its extension), or a .pem public key\n"
    "whose kid is PUB's file name. Sign with `tokenctl mint --key OUT`.\n";

// Fills `buf` from the kernel's CSPRNG.
bool RandomBytes(unsigned char* buf, size_t len, std::string* error) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = getrandom(buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = absl::StrCat("getrandom: ", std::strerror(errno));
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool WriteAll(int fd, const unsigned char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

int RunKeygen(const std::vector<std::string>& argv, const Context& ctx) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"alg"}, {"bits"}, {"public"}, {"kid"}});
  if (!args.ok()) return Usage(ctx, "keygen", std::string(args.status().message()), kKeygenUsage);
  if (args->Has("help")) return Usage(ctx, "keygen", "", kKeygenUsage);
  if (args->positionals().size() != 1) {
    return Usage(ctx, "keygen",
                 args->positionals().empty() ? "missing OUT, the key file to create"
                                             : "give exactly one OUT",
                 kKeygenUsage);
  }
  const std::string alg_name = args->Get("alg").value_or("HS256");
  const auth::Alg alg = auth::AlgFromName(alg_name);
  if (alg == auth::Alg::kUnknown) {
    return Usage(ctx, "keygen", "unknown --alg " + alg_name + " (use HS256, HS384 or HS512)",
                 kKeygenUsage);
  }
  if (auth::FamilyOf(alg) != auth::AlgFamily::kHmac) {
    return RunKeygenAsymmetric(alg, args->positionals()[0], args->Get("bits"), args->Get("public"),
                               args->Get("kid"), ctx);
  }
  const std::string& out = args->positionals()[0];
  const std::string_view name = BaseName(out);
  if (name.empty() || name[0] == '.') {
    std::fprintf(ctx.err,
                 "tokenctl keygen: %s: tokend skips files whose name starts with '.'; choose "
                 "another name\n",
                 out.c_str());
    return kExitError;
  }
  if (name.ends_with(".json") || name.ends_with(".jwks")) {
    std::fprintf(ctx.err,
                 "tokenctl keygen: %s: tokend reads .json and .jwks files as JWK Sets; choose "
                 "another name (raw bytes, or .b64 for base64 text)\n",
                 out.c_str());
    return kExitError;
  }
  const bool b64 = name.ends_with(".b64");

  // A raw key ending in '\n' makes the daemon warn (it looks like `echo`
  // output): draw again, which costs a negligible part of the key space.
  const size_t key_len = auth::AlgHashSize(alg);
  unsigned char key[64];
  std::string error;
  do {
    if (!RandomBytes(key, key_len, &error)) {
      std::fprintf(ctx.err, "tokenctl keygen: %s\n", error.c_str());
      return kExitError;
    }
  } while (!b64 && key[key_len - 1] == '\n');

  unsigned char text[4 * 64 / 3 + 8];  // base64 of 64 bytes, '\n'
  const unsigned char* data = key;
  size_t data_len = key_len;
  if (b64) {
    const int n = EVP_EncodeBlock(text, key, static_cast<int>(key_len));
    text[n] = '\n';
    data = text;
    data_len = static_cast<size_t>(n) + 1;
  }

  int rc = kExitOk;
  const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) {
      std::fprintf(ctx.err,
                   "tokenctl keygen: %s already exists; keygen never overwrites a key (remove it "
                   "first, or choose another name)\n",
                   out.c_str());
    } else {
      std::fprintf(ctx.err, "tokenctl keygen: cannot create %s: %s\n", out.c_str(),
                   std::strerror(err));
    }
    rc = kExitError;
  } else if (fchmod(fd, 0600) != 0 || !WriteAll(fd, data, data_len) || fsync(fd) != 0) {
    std::fprintf(ctx.err, "tokenctl keygen: cannot write %s: %s\n", out.c_str(),
                 std::strerror(errno));
    unlink(out.c_str());
    rc = kExitError;
  }
  if (fd >= 0 && close(fd) != 0 && rc == kExitOk) {
    std::fprintf(ctx.err, "tokenctl keygen: cannot write %s: %s\n", out.c_str(),
                 std::strerror(errno));
    unlink(out.c_str());
    rc = kExitError;
  }
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(text, sizeof text);
  if (rc != kExitOk) return rc;

  std::string kid(name);
  if (b64) kid.resize(kid.size() - 4);
  std::fprintf(ctx.out, "wrote a %zu-byte %s key to %s (kid \"%s\")\n", key_len, alg_name.c_str(),
               out.c_str(), kid.c_str());
  return kExitOk;
}

}  // namespace tokend::tokenctl
