// SPDX-License-Identifier: Apache-2.0
#include "tests/legacy/http_parser_compare.h"

#include <optional>

#include "tests/legacy/http_request_parser.h"

namespace tokend::server::http::legacy {
namespace {

std::string Opt(const std::optional<std::string_view>& v) {
  return v.has_value() ? "[" + std::string(*v) + "]" : "(none)";
}

}  // namespace

std::string DescribeRequest(const HttpRequest& r) {
  std::string s;
  s += "method " + std::to_string(r.method) + "\n";
  s += "target [" + std::string(r.target) + "] path [" + std::string(r.path) + "] query [" +
       std::string(r.query) + "]\n";
  s += "version " + std::to_string(r.version_major) + "." + std::to_string(r.version_minor) + "\n";
  s += "keep_alive " + std::to_string(r.keep_alive) + " expect_continue " +
       std::to_string(r.expect_continue) + "\n";
  s += "authorization " + Opt(r.authorization) + "\n";
  s += "dapr_api_token " + Opt(r.dapr_api_token) + "\n";
  s += "access_token " + Opt(r.access_token) + "\n";
  s += "original_uri " + Opt(r.original_uri) + "\n";
  s += "audience " + Opt(r.audience) + "\n";
  s += "want_claims " + Opt(r.want_claims) + "\n";
  s += "header_bytes " + std::to_string(r.header_bytes) + " size " + std::to_string(r.size) + "\n";
  return s;
}

std::string CompareSplits(std::string_view stream, const std::vector<size_t>& cuts,
                          const HttpLimits& limits) {
  http::HttpRequestParser incremental(limits);
  legacy::HttpRequestParser whole(limits);
  std::string buf;
  size_t at = 0;  // of the stream
  for (size_t cut : cuts) {
    buf.append(stream.substr(at, cut));
    at += cut;
    size_t pos = 0;
    while (pos < buf.size()) {
      const std::string_view in = std::string_view(buf).substr(pos);
      HttpRequest a, b;
      HttpError ea = HttpError::kNone, eb = HttpError::kNone;
      const ParseStatus sa = incremental.Parse(in, &a, &ea);
      const ParseStatus sb = whole.Parse(in, &b, &eb);
      const std::string where = "at stream byte " + std::to_string(at) + ", request at " +
                                std::to_string(at - buf.size() + pos) + ": ";
      if (sa != sb || ea != eb) {
        return where + "incremental status " + std::to_string(static_cast<int>(sa)) + " (" +
               std::string(HttpErrorName(ea)) + "), whole-buffer " +
               std::to_string(static_cast<int>(sb)) + " (" + std::string(HttpErrorName(eb)) + ")";
      }
      if (sa == ParseStatus::kError) return "";  // the connection closes
      if (sa == ParseStatus::kIncomplete) {
        if (a.header_bytes != b.header_bytes || a.expect_continue != b.expect_continue) {
          return where + "incomplete: header_bytes " + std::to_string(a.header_bytes) + " vs " +
                 std::to_string(b.header_bytes) + ", expect_continue " +
                 std::to_string(a.expect_continue) + " vs " + std::to_string(b.expect_continue);
        }
        break;
      }
      const std::string da = DescribeRequest(a), db = DescribeRequest(b);
      if (da != db) return where + "incremental:\n" + da + "whole-buffer:\n" + db;
      pos += a.size;
    }
    buf.erase(0, pos);
  }
  return "";
}

}  // namespace tokend::server::http::legacy
