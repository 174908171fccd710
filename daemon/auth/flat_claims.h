// SPDX-License-Identifier: Apache-2.0
// flat_claims.h
//
// The fast path of ClaimsParser: one pass over the shape nearly every JWT
// claims set has, a flat object whose names and strings are printable ASCII
// without escapes, whose numbers are integers of at most 18 digits, and
// whose only nesting is an array of such scalars. It builds no DOM, so it
// costs about a third of simdjson's DOM parse on a typical claims set.
//
// It decides nothing on its own. It either fills *out exactly as the DOM path
// would for the same bytes (kScanned), or declines (kDeclined) at the first
// byte outside that shape, valid or not, and the caller runs simdjson's DOM
// parser, which accepts or refuses. So it can never accept a document the DOM
// path refuses: every refusal, and every escape, non-ASCII byte, float,
// big integer or nested object, is the DOM path's to judge. The claims fuzzer
// holds the two paths to the same answers.
//
// Stateless; the scratch it is given (a DuplicateMemberChecker and the
// audience list) is the caller's, per thread.
#ifndef TOKEND_DAEMON_AUTH_FLAT_CLAIMS_H_
#define TOKEND_DAEMON_AUTH_FLAT_CLAIMS_H_

#include <string_view>
#include <vector>

#include "daemon/auth/claims.h"
#include "daemon/auth/json_dup.h"

namespace tokend::auth {

enum class FlatScan { kScanned, kDeclined };

// ScanFlatClaims()
//
// Scans `json` as described above. On kScanned, *out holds the claims, its
// string views point into `json`, and out->aud into `audiences`. On
// kDeclined, *out, `dups` and `audiences` hold partial results the caller
// must reset before parsing again.
// REQUIRES: kJsonPadding readable bytes follow json.end() (16-byte loads may
// read past the end; what lies there is never taken as part of the document).
// REQUIRES: `dups` reset and `audiences` empty; *out cleared.
FlatScan ScanFlatClaims(std::string_view json, DuplicateMemberChecker& dups,
                        std::vector<std::string_view>& audiences, ClaimsView* out);

}  // namespace tokend::auth

#endif  // TOKEND_DAEMON_AUTH_FLAT_CLAIMS_H_
