// SPDX-License-Identifier: Apache-2.0
// claims_compare.h
//
// ExpectSameClaims(): a gtest check that two ClaimsViews hold the same
// claims, field by field, for the tests that hold the flat claims scan to
// the DOM parser's answers.
#ifndef TOKEND_TESTS_AUTH_CLAIMS_COMPARE_H_
#define TOKEND_TESTS_AUTH_CLAIMS_COMPARE_H_

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "daemon/auth/claims.h"

namespace tokend::auth {

inline void ExpectSameClaims(const ClaimsView& a, const ClaimsView& b, std::string_view json) {
  EXPECT_EQ(a.present, b.present) << json;
  EXPECT_EQ(a.exp, b.exp) << json;
  EXPECT_EQ(a.nbf, b.nbf) << json;
  EXPECT_EQ(a.iat, b.iat) << json;
  EXPECT_EQ(a.iss, b.iss) << json;
  EXPECT_EQ(a.sub, b.sub) << json;
  EXPECT_EQ(a.jti, b.jti) << json;
  EXPECT_EQ(std::vector<std::string_view>(a.aud.begin(), a.aud.end()),
            std::vector<std::string_view>(b.aud.begin(), b.aud.end()))
      << json;
}

}  // namespace tokend::auth

#endif  // TOKEND_TESTS_AUTH_CLAIMS_COMPARE_H_
