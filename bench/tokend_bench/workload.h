// SPDX-License-Identifier: Apache-2.0
// workload.h
//
// The requests a run sends: PINGs, or VALIDATEs cycling through a set of
// tokens read from a file or minted with a key file (tokend::minter and
// ReadKeyFile, so the key is read exactly as the daemon reads it), a share
// of them with a tampered signature. A private key PEM (tokenctl keygen)
// mints RS/PS/ES/EdDSA tokens with tools/minter/signer.h instead. Each request frame is built once,
// up front; sending one copies it and writes the request id in.
//
// Thread-safety: a Workload is immutable once made; any number of runner
// threads share it by const reference. Ownership: it owns its frames.
#ifndef TOKEND_BENCH_TOKEND_BENCH_WORKLOAD_H_
#define TOKEND_BENCH_TOKEND_BENCH_WORKLOAD_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/tokend_bench/args.h"

namespace tokend::bench {

// What a response is counted as: the 13 VALIDATE statuses of the protocol
// (a PING's echo counts as OK), then what the client itself saw.
enum class Outcome : uint8_t {
  // 0 .. 12: the protocol's status codes, OK .. UNSUPPORTED_HEADER.
  kOk = 0,
  kBadSignature = 2,
  kUnknownStatus = 13,   // a status byte outside the protocol's table
  kProtocolError = 14,   // the one-byte 255 answer
  kBadResponse = 15,     // undecodable body, wrong opcode, or an id never sent
  kConnectionLost = 16,  // in flight when its connection failed
  kNoAnswer = 17,        // still in flight when the run gave up waiting
};
inline constexpr int kOutcomeCount = 18;

// "OK", "BAD_SIGNATURE", ..., "PROTOCOL_ERROR", "NO_ANSWER".
std::string OutcomeName(int outcome);

// LoadTokens()
//
// The tokens in `path`, one a line; blank lines and lines starting with
// '#' are skipped, surrounding whitespace and a "Bearer " prefix dropped.
// Fails on an unreadable file, no tokens, or a token over 65,000 bytes.
absl::StatusOr<std::vector<std::string>> LoadTokens(const std::string& path);

struct MintOptions {
  std::string key_file;
  std::string alg;  // a JWS alg name; empty: the key's bound alg, HS256, or
                    // a private key's default (RS256, its curve's ES, EdDSA)
  std::string kid;  // empty: the key's own kid (its file name, or the JWK's;
                    // a private key's file name without its extension)
  size_t count = 1;
  std::string audience;  // empty: no aud claim
  int64_t now = 0;       // iat; exp is now + ttl_seconds
  int64_t ttl_seconds = 24 * 3600;
};

// MintTokens()
//
// `count` distinct tokens (each its own sub and jti) signed with the key
// in `key_file` under `alg`. A file holding a PEM private key is signed
// with (tokenctl mint --key does the same; an RSA signature costs about a
// millisecond, so many unique RSA tokens take a while); any other file is
// read as the daemon reads a key. Fails when the key file cannot be read,
// or when `alg` is unknown or not one the key can sign (an HS alg needs a
// secret, the others the matching private key; a secret bound to one alg
// signs only that one); never puts key bytes in the message.
absl::StatusOr<std::vector<std::string>> MintTokens(const MintOptions& options);

// TamperSignature()
//
// `token` with the first character of its signature segment replaced by
// another base64url character: still canonical base64url, so the daemon
// must answer BAD_SIGNATURE (not MALFORMED). A token with no second '.' is
// returned with its last character changed.
std::string TamperSignature(std::string_view token);

class Workload {
 public:
  // Build()
  //
  // PINGs for Op::kPing; for Op::kValidate one VALIDATE frame per token
  // (and one per tampered token when spec.invalid_ratio > 0), carrying
  // spec.audience. `tokens` may be empty for PING.
  static std::unique_ptr<Workload> Build(const RunSpec& spec,
                                         const std::vector<std::string>& tokens);

  // AppendRequest()
  //
  // Appends the `seq`th request with `request_id` to `out` and returns the
  // outcome it should get. The sequence decides which token, and whether it
  // is tampered: exactly round(seq * invalid_ratio) of the first `seq`.
  Outcome AppendRequest(uint64_t seq, uint32_t request_id, std::string* out) const;

  // AppendValidRequest()
  //
  // Appends the VALIDATE of distinct token `index` (modulo their number),
  // never tampered, with `request_id`; a PING for a PING workload. Returns
  // the outcome it should get (OK).
  Outcome AppendValidRequest(size_t index, uint32_t request_id, std::string* out) const;

  Op op() const { return op_; }
  size_t distinct_tokens() const { return valid_.size(); }

 private:
  Workload() = default;

  Op op_ = Op::kPing;
  double invalid_ratio_ = 0;
  std::vector<std::string> valid_;     // whole frames, request id 0
  std::vector<std::string> tampered_;  // same order; empty when the ratio is 0
  std::string ping_;
};

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_WORKLOAD_H_
