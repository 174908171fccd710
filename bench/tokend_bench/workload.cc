// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/workload.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/auth/key_loader.h"
#include "daemon/auth/status.h"
#include "protocol/codec.h"
#include "protocol/codes.h"
#include "tools/minter/minter.h"
#include "tools/minter/signer.h"

namespace tokend::bench {
namespace {

constexpr size_t kMaxTokenBytes = 65000;

void SetRequestId(std::string* out, size_t frame_start, uint32_t id) {
  char* p = out->data() + frame_start + 8;
  p[0] = static_cast<char>(id);
  p[1] = static_cast<char>(id >> 8);
  p[2] = static_cast<char>(id >> 16);
  p[3] = static_cast<char>(id >> 24);
}

char OtherBase64UrlChar(char c) { return c == 'A' ? 'B' : 'A'; }

// `path` without its directory and its last extension (tokenctl's default
// kid for a private key: keygen names the public key's kid the same way).
std::string Stem(std::string_view path) {
  const size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

// The payload of minted token `i`.
std::string Payload(const MintOptions& options, size_t i) {
  const std::string aud =
      options.audience.empty() ? "" : absl::StrCat(",\"aud\":", auth::JsonQuote(options.audience));
  return absl::StrCat("{\"iss\":\"tokend-bench\",\"sub\":\"bench-user-", i, "\"", aud,
                      ",\"iat\":", options.now, ",\"exp\":", options.now + options.ttl_seconds,
                      ",\"jti\":\"bench-", i, "\"}");
}

absl::Status MintError(const MintOptions& options, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("--mint ", options.key_file, ": ", message));
}

// Tokens signed with the private key PEM `pem` (RS/PS/ES/EdDSA).
absl::StatusOr<std::vector<std::string>> MintWithPrivateKey(const MintOptions& options,
                                                            std::string_view pem) {
  absl::StatusOr<auth::PkeyPtr> key = auth::ReadPrivateKeyPem(pem);
  if (!key.ok()) return MintError(options, key.status().message());
  const auth::Alg alg =
      options.alg.empty() ? auth::DefaultAlgFor(key->get()) : auth::AlgFromName(options.alg);
  if (auth::FamilyOf(alg) == auth::AlgFamily::kHmac || alg == auth::Alg::kUnknown) {
    return MintError(options,
                     absl::StrCat("--alg ", options.alg, " cannot sign with a private key"));
  }
  const std::string header =
      auth::JwtHeaderJson(alg, options.kid.empty() ? Stem(options.key_file) : options.kid);
  std::vector<std::string> tokens;
  tokens.reserve(options.count);
  for (size_t i = 0; i < options.count; ++i) {
    absl::StatusOr<std::string> token = auth::SignJws(alg, header, Payload(options, i), key->get());
    if (!token.ok()) return MintError(options, token.status().message());
    tokens.push_back(*std::move(token));
  }
  return tokens;
}

}  // namespace

std::string OutcomeName(int outcome) {
  switch (outcome) {
    case static_cast<int>(Outcome::kUnknownStatus):
      return "UNKNOWN_STATUS";
    case static_cast<int>(Outcome::kProtocolError):
      return "PROTOCOL_ERROR";
    case static_cast<int>(Outcome::kBadResponse):
      return "BAD_RESPONSE";
    case static_cast<int>(Outcome::kConnectionLost):
      return "CONNECTION_LOST";
    case static_cast<int>(Outcome::kNoAnswer):
      return "NO_ANSWER";
    default:
      break;
  }
  if (outcome >= 0 && outcome < static_cast<int>(protocol::kStatusCount)) {
    return std::string(protocol::StatusName(static_cast<uint8_t>(outcome)));
  }
  return "UNKNOWN_STATUS";
}

absl::StatusOr<std::vector<std::string>> LoadTokens(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--tokens ", path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("--tokens ", path, ": read error"));
  std::vector<std::string> tokens;
  size_t line_no = 0;
  const std::string text = ss.str();
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "Bearer ") line = absl::StripLeadingAsciiWhitespace(line.substr(7));
    if (line.size() > kMaxTokenBytes) {
      return absl::InvalidArgumentError(absl::StrCat("--tokens ", path, ": line ", line_no,
                                                     " is longer than ", kMaxTokenBytes, " bytes"));
    }
    tokens.emplace_back(line);
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--tokens ", path, ": no tokens in the file"));
  }
  return tokens;
}

absl::StatusOr<std::vector<std::string>> MintTokens(const MintOptions& options) {
  {
    // A private key PEM is never a daemon key file: sign with it.
    std::ifstream in(options.key_file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.is_open() && ss.str().find("PRIVATE KEY-----") != std::string::npos) {
      return MintWithPrivateKey(options, ss.str());
    }
  }
  absl::StatusOr<auth::KeyMaterial> key = auth::ReadKeyFile(options.key_file, options.kid);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("--mint ", options.key_file, ": ", key.status().message()));
  }
  if (key->public_key != nullptr) {
    return MintError(options, "a public key cannot sign: give the private key PEM");
  }
  auth::Alg alg = key->bound_alg == auth::Alg::kUnknown ? auth::Alg::kHS256 : key->bound_alg;
  if (!options.alg.empty()) {
    const auth::Alg wanted = auth::AlgFromName(options.alg);
    if (auth::FamilyOf(wanted) != auth::AlgFamily::kHmac ||
        (key->bound_alg != auth::Alg::kUnknown && wanted != key->bound_alg)) {
      const std::string_view own = auth::AlgName(alg);
      return MintError(options, absl::StrCat("--alg ", options.alg, " cannot sign with this key (",
                                             absl::string_view(own.data(), own.size()), ")"));
    }
    alg = wanted;
  }
  const std::string kid = options.kid.empty() ? key->kid : options.kid;
  const std::string header = auth::JwtHeaderJson(alg, kid);
  std::vector<std::string> tokens;
  tokens.reserve(options.count);
  for (size_t i = 0; i < options.count; ++i) {
    tokens.push_back(auth::MintToken(alg, header, Payload(options, i), key->secret.span()));
  }
  return tokens;
}

std::string TamperSignature(std::string_view token) {
  std::string t(token);
  if (t.empty()) return "A";
  const size_t first = t.find('.');
  const size_t second = first == std::string::npos ? std::string::npos : t.find('.', first + 1);
  const size_t at =
      (second == std::string::npos || second + 1 >= t.size()) ? t.size() - 1 : second + 1;
  t[at] = OtherBase64UrlChar(t[at]);
  return t;
}

std::unique_ptr<Workload> Workload::Build(const RunSpec& spec,
                                          const std::vector<std::string>& tokens) {
  std::unique_ptr<Workload> w(new Workload());
  w->op_ = spec.op;
  w->invalid_ratio_ = spec.invalid_ratio;
  protocol::AppendPingRequest(&w->ping_, 0);
  if (spec.op == Op::kPing) return w;
  w->valid_.reserve(tokens.size());
  for (const std::string& t : tokens) {
    std::string frame;
    protocol::AppendValidateRequest(&frame, 0, 0, t, spec.audience);
    w->valid_.push_back(std::move(frame));
    if (spec.invalid_ratio > 0) {
      std::string bad;
      protocol::AppendValidateRequest(&bad, 0, 0, TamperSignature(t), spec.audience);
      w->tampered_.push_back(std::move(bad));
    }
  }
  return w;
}

Outcome Workload::AppendRequest(uint64_t seq, uint32_t request_id, std::string* out) const {
  const size_t start = out->size();
  Outcome expected = Outcome::kOk;
  if (op_ == Op::kPing || valid_.empty()) {
    out->append(ping_);
  } else {
    // Request `seq` is tampered when it takes the count of tampered
    // requests among the first seq + 1 past round(seq * ratio).
    const bool tampered =
        !tampered_.empty() && std::llround(static_cast<double>(seq + 1) * invalid_ratio_) >
                                  std::llround(static_cast<double>(seq) * invalid_ratio_);
    const size_t i = static_cast<size_t>(seq % valid_.size());
    if (tampered) {
      out->append(tampered_[i]);
      expected = Outcome::kBadSignature;
    } else {
      out->append(valid_[i]);
    }
  }
  SetRequestId(out, start, request_id);
  return expected;
}

Outcome Workload::AppendValidRequest(size_t index, uint32_t request_id, std::string* out) const {
  const size_t start = out->size();
  if (op_ == Op::kPing || valid_.empty()) {
    out->append(ping_);
  } else {
    out->append(valid_[index % valid_.size()]);
  }
  SetRequestId(out, start, request_id);
  return Outcome::kOk;
}

}  // namespace tokend::bench
