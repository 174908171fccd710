// SPDX-License-Identifier: Apache-2.0
// http_parser_compare.h
//
// The incremental HTTP request parser against the legacy one, on the same
// byte stream read in given pieces, as a connection drives them: after each
// piece arrives, every complete request at the front of the unconsumed
// bytes is parsed by both (the incremental one continuing its earlier
// parse, the legacy one from the first byte, as it always did), and the
// status, the error and every field of each request must agree.
//
// Thread-safety: pure functions. Ownership: none kept.
#ifndef TOKEND_TESTS_LEGACY_HTTP_PARSER_COMPARE_H_
#define TOKEND_TESTS_LEGACY_HTTP_PARSER_COMPARE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/http/request_parser.h"

namespace tokend::server::http::legacy {

// CompareSplits()
//
// Feeds `stream` in pieces of the sizes `cuts` (adding up to at most its
// size) through both parsers with `limits`. Returns "" when they agree
// throughout, else a description of the first difference.
std::string CompareSplits(std::string_view stream, const std::vector<size_t>& cuts,
                          const HttpLimits& limits);

// DescribeRequest()
//
// Every field of `r`, one line each (for comparisons and failure messages).
std::string DescribeRequest(const HttpRequest& r);

}  // namespace tokend::server::http::legacy

#endif  // TOKEND_TESTS_LEGACY_HTTP_PARSER_COMPARE_H_
