// SPDX-License-Identifier: Apache-2.0
// fake_validator.h
//
// A RequestValidator for server tests: a pure function of its inputs, so a
// response can be predicted from the request alone.
//   token "ok:<sub>"  -> OK, HS256, exp 1700000000, subject <sub>,
//                        claims {"sub":"<sub>","aud":"<audience>"}
//   token "exp"       -> EXPIRED (5), HS384, exp 1
//   token "apikey:<sub>" -> OK, alg 64 (an opaque API key), exp 0, subject <sub>
//   token "status:N"  -> status N (any byte), alg 0
//   anything else     -> BAD_SIGNATURE (2), HS256
// It also counts its calls (atomically: a test may read the count from
// another thread).
#ifndef TOKEND_TESTS_SERVER_FAKE_VALIDATOR_H_
#define TOKEND_TESTS_SERVER_FAKE_VALIDATOR_H_

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/service.h"

namespace tokend::server::testing {

inline constexpr int64_t kFakeExp = 1700000000;

class FakeValidator : public RequestValidator {
 public:
  explicit FakeValidator(std::atomic<uint64_t>* calls = nullptr) : calls_(calls) {}

  void Prepare(std::span<const std::string_view> tokens) override {
    if (!record) return;
    std::string e = "P";
    for (std::string_view t : tokens) e.append(" ").append(t);
    events.push_back(std::move(e));
  }

  Outcome Validate(std::string_view token, std::string_view audience, bool want_claims) override {
    if (calls_ != nullptr) calls_->fetch_add(1, std::memory_order_relaxed);
    if (record) events.push_back("V " + std::string(token));
    last_want_claims = want_claims;
    Outcome o;
    if (token.substr(0, 3) == "ok:") {
      subject_.assign(token.substr(3));
      claims_ = "{\"sub\":\"" + subject_ + "\",\"aud\":\"" + std::string(audience) + "\"}";
      o.status = 0;
      o.alg = 1;
      o.exp = kFakeExp;
      o.subject = subject_;
      o.claims = claims_;  // the Service must drop it without WANT_CLAIMS
      return o;
    }
    if (token.substr(0, 7) == "apikey:") {
      subject_.assign(token.substr(7));
      o.status = 0;
      o.alg = 64;
      o.subject = subject_;
      return o;
    }
    if (token == "exp") {
      o.status = 5;
      o.alg = 2;
      o.exp = 1;
      return o;
    }
    if (token.substr(0, 7) == "status:") {
      o.status = static_cast<uint8_t>(std::atoi(std::string(token.substr(7)).c_str()));
      return o;
    }
    o.status = 2;
    o.alg = 1;
    subject_ = "must-not-be-sent";
    o.subject = subject_;
    return o;
  }

  bool last_want_claims = false;
  // With `record`, each Prepare() ("P tok1 tok2 ...") and Validate()
  // ("V tok") call, in order.
  bool record = false;
  std::vector<std::string> events;

 private:
  std::atomic<uint64_t>* calls_;
  std::string subject_;
  std::string claims_;
};

}  // namespace tokend::server::testing

#endif  // TOKEND_TESTS_SERVER_FAKE_VALIDATOR_H_
