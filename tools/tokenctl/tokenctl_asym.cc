// SPDX-License-Identifier: Apache-2.0
// tokenctl's asymmetric parts: `keygen` of RSA, EC and Ed25519 key pairs
// (a private PEM for the signer, the public key for tokend), `mint` with a
// private PEM, and `decode`, which prints a token's header and claims
// without checking anything.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/status.h"
#include "tools/minter/minter.h"
#include "tools/minter/signer.h"
#include "tools/tokenctl/tokenctl_args.h"
#include "tools/tokenctl/tokenctl_commands.h"

namespace tokend::tokenctl {
namespace {

constexpr char kDecodeUsage[] =
    "usage: tokenctl decode TOKEN|-\n"
    "\n"
    "Prints the header and the claims of TOKEN (- reads it from stdin; a\n"
    "`Bearer ` prefix is stripped) WITHOUT VERIFYING ANYTHING: not the\n"
    "signature, not the expiry, not the audience. Use `tokenctl validate` to\n"
    "ask tokend whether the token is valid.\n";

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// `path` without its directory and its last extension.
std::string Stem(std::string_view path) {
  std::string_view name = BaseName(path);
  const size_t dot = name.rfind('.');
  return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

// Creates `path` (never overwriting) with `mode` and writes `data`.
bool WriteNewFile(const std::string& path, std::string_view data, mode_t mode, const Context& ctx) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    std::fprintf(ctx.err, "tokenctl keygen: cannot create %s: %s%s\n", path.c_str(),
                 std::strerror(errno),
                 errno == EEXIST ? " (keygen never overwrites a file; remove it first)" : "");
    return false;
  }
  bool ok = fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n > 0) done += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok) {
    std::fprintf(ctx.err, "tokenctl keygen: cannot write %s: %s\n", path.c_str(),
                 std::strerror(errno));
    unlink(path.c_str());
  }
  return ok;
}

}  // namespace

int RunKeygenAsymmetric(auth::Alg alg, const std::string& out,
                        const std::optional<std::string>& bits_flag,
                        const std::optional<std::string>& public_flag,
                        const std::optional<std::string>& kid_flag, const Context& ctx) {
  int bits = 2048;
  if (bits_flag.has_value()) {
    const std::optional<int64_t> b = ParseInt64(*bits_flag);
    if (!b.has_value() || *b < 2048 || *b > 8192 || auth::FamilyOf(alg) != auth::AlgFamily::kRsa) {
      std::fprintf(ctx.err, "tokenctl keygen: --bits is for RSA keys, 2048 to 8192\n");
      return kExitError;
    }
    bits = static_cast<int>(*b);
  }
  const char* kind = auth::FamilyOf(alg) == auth::AlgFamily::kRsa ? "RSA"
                     : alg == auth::Alg::kES256                   ? "P-256"
                     : alg == auth::Alg::kES384                   ? "P-384"
                     : alg == auth::Alg::kES512                   ? "P-521"
                                                                  : "Ed25519";
  const std::string stem = Stem(out);
  const std::string dir =
      out.rfind('/') == std::string::npos ? "" : out.substr(0, out.rfind('/') + 1);
  const std::string pub_path = public_flag.value_or(dir + stem + ".jwks");
  if (std::string_view(out).ends_with(".pem") || std::string_view(out).ends_with(".jwks") ||
      std::string_view(out).ends_with(".json")) {
    std::fprintf(ctx.err,
                 "tokenctl keygen: %s: name the private key file NAME.key (tokend reads .pem,"
                 " .jwks and .json files in its keys directory as public keys, and refuses"
                 " private ones)\n",
                 out.c_str());
    return kExitError;
  }
  const bool pub_pem = std::string_view(pub_path).ends_with(".pem");
  if (!pub_pem && !std::string_view(pub_path).ends_with(".jwks") &&
      !std::string_view(pub_path).ends_with(".json")) {
    std::fprintf(ctx.err, "tokenctl keygen: --public must end in .jwks, .json or .pem\n");
    return kExitError;
  }
  const std::string kid = pub_pem ? Stem(pub_path) : kid_flag.value_or(stem);

  absl::StatusOr<auth::PkeyPtr> key = auth::GenerateKey(kind, bits);
  if (!key.ok()) {
    std::fprintf(ctx.err, "tokenctl keygen: %s\n", std::string(key.status().message()).c_str());
    return kExitError;
  }
  absl::StatusOr<std::string> priv = auth::PrivateKeyPem(key->get());
  absl::StatusOr<std::string> pub =
      pub_pem ? auth::PublicKeyPem(key->get()) : auth::PublicJwk(key->get(), kid, alg);
  if (!priv.ok() || !pub.ok()) {
    std::fprintf(ctx.err, "tokenctl keygen: OpenSSL failed to encode the key\n");
    return kExitError;
  }
  std::string pub_text = pub_pem ? *pub : absl::StrCat("{\"keys\":[", *pub, "]}\n");
  if (!WriteNewFile(out, *priv, 0600, ctx)) return kExitError;
  if (!WriteNewFile(pub_path, pub_text, 0644, ctx)) {
    unlink(out.c_str());
    return kExitError;
  }
  std::fprintf(ctx.out,
               "wrote a %s private key to %s (mode 0600: keep it with the signer)\n"
               "wrote its public key to %s (kid \"%s\"): copy it into tokend's --keys\n",
               kind, out.c_str(), pub_path.c_str(), kid.c_str());
  return kExitOk;
}

bool IsPrivateKeyPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4096] = {0};
  in.read(head, sizeof head - 1);
  return std::string_view(head, static_cast<size_t>(in.gcount())).find("PRIVATE KEY-----") !=
         std::string_view::npos;
}

int MintWithPrivateKey(const std::string& path, std::optional<auth::Alg> wanted_alg,
                       const std::string& kid_flag, const std::string& payload_json,
                       const Context& ctx) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<auth::PkeyPtr> key = auth::ReadPrivateKeyPem(ss.str());
  if (!key.ok()) {
    std::fprintf(ctx.err, "tokenctl mint: %s: %s\n", path.c_str(),
                 std::string(key.status().message()).c_str());
    return kExitError;
  }
  const auth::Alg alg = wanted_alg.value_or(auth::DefaultAlgFor(key->get()));
  const std::string kid = kid_flag.empty() ? Stem(path) : kid_flag;
  absl::StatusOr<std::string> token =
      auth::SignJws(alg, auth::JwtHeaderJson(alg, kid), payload_json, key->get());
  if (!token.ok()) {
    std::fprintf(ctx.err, "tokenctl mint: %s: %s\n", path.c_str(),
                 std::string(token.status().message()).c_str());
    return kExitError;
  }
  std::fprintf(ctx.out, "%s\n", token->c_str());
  return kExitOk;
}

int RunDecode(const std::vector<std::string>& argv, const Context& ctx) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {});
  if (!args.ok()) return Usage(ctx, "decode", std::string(args.status().message()), kDecodeUsage);
  if (args->Has("help")) return Usage(ctx, "decode", "", kDecodeUsage);
  if (args->positionals().size() != 1) {
    return Usage(ctx, "decode", "give exactly one TOKEN (or - for stdin)", kDecodeUsage);
  }
  std::string token = args->positionals()[0];
  if (token == "-") {
    token.clear();
    char buf[4096];
    for (ssize_t n; (n = read(ctx.in_fd, buf, sizeof buf)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      token.append(buf, static_cast<size_t>(n));
    }
  }
  while (!token.empty() && std::strchr(" \t\r\n", token.back()) != nullptr) token.pop_back();
  if (token.rfind("Bearer ", 0) == 0) token.erase(0, 7);
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos) {
    std::fprintf(ctx.err, "tokenctl decode: not a compact JWS (three segments separated by '.')\n");
    return kExitError;
  }
  std::string header, payload;
  if (!auth::Base64UrlDecode(std::string_view(token).substr(0, d1), header) ||
      !auth::Base64UrlDecode(std::string_view(token).substr(d1 + 1, d2 - d1 - 1), payload)) {
    std::fprintf(ctx.err, "tokenctl decode: a segment is not canonical unpadded base64url\n");
    return kExitError;
  }
  std::fprintf(ctx.out,
               "UNVERIFIED: signature, expiry and audience NOT checked; do not trust these "
               "contents\nheader: %s\nclaims: %s\n",
               header.c_str(), payload.c_str());
  return kExitOk;
}

}  // namespace tokend::tokenctl
