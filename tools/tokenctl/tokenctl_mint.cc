// SPDX-License-Identifier: Apache-2.0
// tokenctl mint: a signed JWT from a key file, read by the daemon's rules
// (daemon/auth/key_loader.h) and checked by them (Keyring::Build), so that
// a token minted here is one tokend accepts when it loads the same file.

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/keyring.h"
#include "daemon/auth/status.h"
#include "simdjson.h"
#include "tools/minter/minter.h"
#include "tools/tokenctl/tokenctl_args.h"
#include "tools/tokenctl/tokenctl_commands.h"

namespace tokend::tokenctl {
namespace {

constexpr char kMintUsage[] =
    "usage: tokenctl mint --key FILE [--kid KID] [--alg ALG] [--sub SUB] [--aud AUD]...\n"
    "                     [--iss ISS] [--ttl SECONDS] [--claim NAME=VALUE]...\n"
    "\n"
    "Prints a JWT signed with the key in FILE, which is read as tokend reads\n"
    "its --keys: raw bytes, base64 text (.b64), or a JWK Set (.json, .jwks);\n"
    "or with the private key PEM that `tokenctl keygen --alg RS256` (etc.)\n"
    "wrote, whose kid defaults to its file name less the extension.\n"
    "The token carries iat (now) and exp (now + SECONDS).\n"
    "\n"
    "  --key FILE          the key file (make one with `tokenctl keygen`)\n"
    "  --kid KID           picks the key of a JWK Set, and is the header's kid\n"
    "                      (default: the key's own kid, its file name for raw\n"
    "                      and .b64 files)\n"
    "  --alg ALG           HS256, HS384 or HS512 (default: the algorithm the key\n"
    "                      is bound to, else the strongest its length allows);\n"
    "                      with a private key, one of its type (default RS256,\n"
    "                      the curve's ES alg, or EdDSA)\n"
    "  --sub SUB           the subject\n"
    "  --aud AUD           an audience; repeat it for several (aud is then an array)\n"
    "  --iss ISS           the issuer\n"
    "  --ttl SECONDS       lifetime (default 3600; negative mints an expired token)\n"
    "  --claim NAME=VALUE  another claim; VALUE is used as JSON when it parses as\n"
    "                      JSON (42, true, [\"a\"], {\"k\":1}, \"text\"), else as a\n"
    "                      string. It replaces a claim of the same name set by\n"
    "                      the options above.\n";

constexpr int64_t kDefaultTtl = 3600;

// The payload's members in order; a later Set() of a name replaces it in place.
class Payload {
 public:
  void Set(std::string_view name, std::string json) {
    for (auto& [n, v] : members_) {
      if (n == name) {
        v = std::move(json);
        return;
      }
    }
    members_.emplace_back(std::string(name), std::move(json));
  }
  std::string Json() const {
    std::string out = "{";
    for (const auto& [n, v] : members_) {
      if (out.size() > 1) out.push_back(',');
      out += auth::JsonQuote(n);
      out.push_back(':');
      out += v;
    }
    out.push_back('}');
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

// VALUE as JSON text when it is a whole JSON value, else as a JSON string.
std::string ClaimValueJson(const std::string& value) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (!value.empty() && parser.parse(value).get(e) == simdjson::SUCCESS) return value;
  return auth::JsonQuote(value);
}

int Fail(const Context& ctx, const std::string& message) {
  std::fprintf(ctx.err, "tokenctl mint: %s\n", message.c_str());
  return kExitError;
}

}  // namespace

int RunMint(const std::vector<std::string>& argv, const Context& ctx) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(argv, {{"key"},
                                                     {"kid"},
                                                     {"alg"},
                                                     {"sub"},
                                                     {"aud", true, true},
                                                     {"iss"},
                                                     {"ttl"},
                                                     {"claim", true, true}});
  if (!args.ok()) return Usage(ctx, "mint", std::string(args.status().message()), kMintUsage);
  if (args->Has("help")) return Usage(ctx, "mint", "", kMintUsage);
  if (!args->positionals().empty()) {
    return Usage(ctx, "mint", "unexpected argument " + args->positionals()[0], kMintUsage);
  }
  const std::optional<std::string> key_path = args->Get("key");
  if (!key_path.has_value() || key_path->empty()) {
    return Usage(ctx, "mint", "missing --key FILE (make one with `tokenctl keygen`)", kMintUsage);
  }
  std::optional<auth::Alg> wanted_alg;
  if (const std::optional<std::string> a = args->Get("alg"); a.has_value()) {
    wanted_alg = auth::AlgFromName(*a);
    if (*wanted_alg == auth::Alg::kUnknown) {
      return Usage(ctx, "mint", "unknown --alg " + *a + " (use HS256, HS384, HS512, RS256, ...)",
                   kMintUsage);
    }
  }
  int64_t ttl = kDefaultTtl;
  if (const std::optional<std::string> t = args->Get("ttl"); t.has_value()) {
    const std::optional<int64_t> v = ParseInt64(*t);
    if (!v.has_value() || *v < -(int64_t{1} << 40) || *v > (int64_t{1} << 40)) {
      return Usage(ctx, "mint", "--ttl needs a whole number of seconds", kMintUsage);
    }
    ttl = *v;
  }
  Payload payload;
  if (const auto iss = args->Get("iss"); iss.has_value()) payload.Set("iss", auth::JsonQuote(*iss));
  if (const auto sub = args->Get("sub"); sub.has_value()) payload.Set("sub", auth::JsonQuote(*sub));
  const std::vector<std::string> auds = args->GetAll("aud");
  if (auds.size() == 1) {
    payload.Set("aud", auth::JsonQuote(auds[0]));
  } else if (auds.size() > 1) {
    std::string list = "[";
    for (const std::string& a : auds) {
      if (list.size() > 1) list.push_back(',');
      list += auth::JsonQuote(a);
    }
    list.push_back(']');
    payload.Set("aud", std::move(list));
  }
  payload.Set("iat", std::to_string(ctx.now));
  payload.Set("exp", std::to_string(ctx.now + ttl));
  for (const std::string& claim : args->GetAll("claim")) {
    const size_t eq = claim.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Usage(ctx, "mint", "--claim " + claim + ": write it as NAME=VALUE", kMintUsage);
    }
    payload.Set(std::string_view(claim).substr(0, eq), ClaimValueJson(claim.substr(eq + 1)));
  }

  // The key, read and checked as the daemon reads and checks it.
  const std::string kid_flag = args->Get("kid").value_or("");
  if (IsPrivateKeyPemFile(*key_path)) {
    return MintWithPrivateKey(*key_path, wanted_alg, kid_flag, payload.Json(), ctx);
  }
  absl::StatusOr<auth::KeyMaterial> key = auth::ReadKeyFile(*key_path, kid_flag);
  if (!key.ok()) return Fail(ctx, std::string(key.status().message()));
  std::vector<auth::KeyMaterial> one;
  if (key->public_key != nullptr) {
    return Fail(ctx, absl::StrCat(*key_path, ": key \"", key->kid,
                                  "\" is a public key, which only verifies; sign with its private"
                                  " key (--key NAME.key from `tokenctl keygen --alg RS256 ...`)"));
  }
  one.push_back(
      auth::KeyMaterial{key->kid, key->bound_alg, key->secret.Clone(), key->source, {}, {}});
  absl::StatusOr<std::shared_ptr<const auth::Keyring>> ring = auth::Keyring::Build(std::move(one));
  if (!ring.ok()) {
    return Fail(ctx, absl::StrCat(std::string(ring.status().message()),
                                  " (tokend would refuse this key too; make a new one with "
                                  "`tokenctl keygen`)"));
  }
  auth::Alg alg = auth::Alg::kHS256;
  for (auth::Alg a : {auth::Alg::kHS384, auth::Alg::kHS512}) {
    if (key->secret.size() >= auth::AlgHashSize(a)) alg = a;
  }
  if (key->bound_alg != auth::Alg::kUnknown) {
    if (wanted_alg.has_value() && *wanted_alg != key->bound_alg) {
      return Fail(ctx, absl::StrCat(*key_path, ": key \"", key->kid, "\" is bound to ",
                                    std::string(auth::AlgName(key->bound_alg)),
                                    "; drop --alg or "
                                    "pass --alg ",
                                    std::string(auth::AlgName(key->bound_alg))));
    }
    alg = key->bound_alg;
  } else if (wanted_alg.has_value()) {
    alg = *wanted_alg;
  }
  const auth::Key* k = (*ring)->FindByKid(key->kid);
  if (k == nullptr || k->MacFor(alg) == nullptr) {
    return Fail(ctx, absl::StrCat(*key_path, ": the key is ", key->secret.size(), " bytes; ",
                                  std::string(auth::AlgName(alg)), " needs at least ",
                                  auth::AlgHashSize(alg), " (make one with `tokenctl keygen --alg ",
                                  std::string(auth::AlgName(alg)), "`)"));
  }
  const std::string header_kid = kid_flag.empty() ? key->kid : kid_flag;
  if (header_kid != key->kid) {
    std::fprintf(ctx.err,
                 "tokenctl mint: note: tokend knows the key in %s as kid \"%s\", not \"%s\"\n",
                 key_path->c_str(), key->kid.c_str(), header_kid.c_str());
  }
  const std::string token = auth::MintToken(alg, auth::JwtHeaderJson(alg, header_kid),
                                            payload.Json(), key->secret.span());
  std::fprintf(ctx.out, "%s\n", token.c_str());
  return kExitOk;
}

}  // namespace tokend::tokenctl
