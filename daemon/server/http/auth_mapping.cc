// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/http/auth_mapping.h"

#include <time.h>

#include <cstdio>
#include <utility>

#include "daemon/util/str_append.h"
#include "protocol/codes.h"

namespace tokend::server::http {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in` into *out; false on a bad escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;  // "%", "%4" at the end
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

void AppendStatusLine(int code, std::string* out) {
  std::string_view reason;
  switch (code) {
    case 200:
      reason = "OK";
      break;
    case 400:
      reason = "Bad Request";
      break;
    case 401:
      reason = "Unauthorized";
      break;
    case 404:
      reason = "Not Found";
      break;
    case 405:
      reason = "Method Not Allowed";
      break;
    case 413:
      reason = "Content Too Large";
      break;
    case 503:
      reason = "Service Unavailable";
      break;
    default:
      reason = "Unknown";
      break;
  }
  StrAppend(out, "HTTP/1.1 ", code, " ", reason, "\r\n");
}

// Date, Connection, and Content-Length (always: a keep-alive client needs
// it to find the next response).
void AppendCommon(const ResponseCommon& c, size_t content_length, std::string* out) {
  if (!c.date.empty()) StrAppend(out, "Date: ", c.date, "\r\n");
  if (c.close) {
    out->append("Connection: close\r\n");
  } else if (c.keep_alive_header) {
    out->append("Connection: keep-alive\r\n");
  }
  StrAppend(out, "Content-Length: ", content_length, "\r\n");
}

}  // namespace

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (Lower(authorization[i]) != kScheme[i]) return std::nullopt;
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;  // "Bearerx", or a tab
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && IsWs(rest.back())) rest.remove_suffix(1);
  if (rest.empty()) return std::nullopt;
  return rest;
}

std::optional<std::string_view> QueryParameter(std::string_view query, std::string_view name,
                                               std::string* scratch, bool* bad) {
  *bad = false;
  std::optional<std::string_view> raw;
  std::string decoded_name;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view sent = pair.substr(0, eq);
    if (sent.find('%') == std::string_view::npos) {
      if (sent != name) continue;
    } else if (!PercentDecode(sent, &decoded_name) || decoded_name != name) {
      continue;
    }
    if (raw.has_value()) {
      *bad = true;
      return std::nullopt;
    }
    raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  if (!raw.has_value()) return std::nullopt;
  if (raw->find('%') == std::string_view::npos) return raw;
  if (!PercentDecode(*raw, scratch)) {
    *bad = true;
    return std::nullopt;
  }
  return std::string_view(*scratch);
}

std::string_view UriQuery(std::string_view uri) {
  uri = uri.substr(0, uri.find('#'));
  const size_t q = uri.find('?');
  return q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);
}

TokenLookup ExtractToken(const HttpRequest& req, std::string* scratch) {
  if (req.authorization.has_value()) {
    if (std::optional<std::string_view> t = BearerToken(*req.authorization)) {
      return {TokenSource::kAuthorization, *t};
    }
  }
  if (req.dapr_api_token.has_value() && !req.dapr_api_token->empty()) {
    return {TokenSource::kDaprApiToken, *req.dapr_api_token};
  }
  if (req.access_token.has_value() && !req.access_token->empty()) {
    return {TokenSource::kAccessToken, *req.access_token};
  }
  const std::pair<std::string_view, TokenSource> queries[] = {
      {req.query, TokenSource::kQuery},
      {req.original_uri.has_value() ? UriQuery(*req.original_uri) : std::string_view(),
       TokenSource::kOriginalUri},
  };
  for (const auto& [query, source] : queries) {
    if (query.empty()) continue;
    bool bad = false;
    std::optional<std::string_view> t = QueryParameter(query, "accessToken", scratch, &bad);
    if (bad) return {TokenSource::kBadQuery, {}};
    if (t.has_value() && !t->empty()) return {source, *t};
  }
  return {};
}

TokenLookup ExtractTokenFromHeaders(HeaderLookup header, std::string_view target,
                                    std::string* scratch) {
  HttpRequest req;
  req.authorization = header("authorization");
  req.dapr_api_token = header("dapr-api-token");
  req.access_token = header("accesstoken");
  req.query = UriQuery(target);
  return ExtractToken(req, scratch);
}

std::optional<bool> WantClaims(const std::optional<std::string_view>& header) {
  if (!header.has_value()) return false;
  const std::string_view v = *header;
  if (v == "1") return true;
  if (v == "0") return false;
  auto is = [&](std::string_view word) {
    if (v.size() != word.size()) return false;
    for (size_t i = 0; i < v.size(); ++i) {
      if (Lower(v[i]) != word[i]) return false;
    }
    return true;
  };
  if (is("true")) return true;
  if (is("false")) return false;
  return std::nullopt;
}

bool AudienceAllowed(std::string_view requested, const std::vector<std::string>& configured) {
  if (requested.empty() || configured.empty()) return true;
  for (const std::string& a : configured) {
    if (a == requested) return true;
  }
  return false;
}

bool SafeHeaderValue(std::string_view v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return v.empty() || (v.front() != ' ' && v.back() != ' ');
}

void Base64UrlEncode(std::string_view in, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  const size_t n = in.size();
  out->reserve(out->size() + (n + 2) / 3 * 4);
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
  }
}

void AppendHttpDate(int64_t unix_seconds, std::string* out) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t t = static_cast<time_t>(unix_seconds);
  tm g;
  if (gmtime_r(&t, &g) == nullptr) return;
  char buf[40];
  const int n = std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              kDays[g.tm_wday % 7], g.tm_mday, kMonths[g.tm_mon % 12],
                              g.tm_year + 1900, g.tm_hour, g.tm_min, g.tm_sec);
  if (n > 0) out->append(buf, static_cast<size_t>(n));
}

void AppendAllowed(const ResponseCommon& c, std::string_view subject, int64_t exp,
                   std::optional<std::string_view> claims, std::string* out) {
  AppendStatusLine(200, out);
  AppendCommon(c, 0, out);
  StrAppend(out, "X-Auth-Subject: ", subject, "\r\nX-Auth-Expires: ", exp, "\r\n");
  if (claims.has_value()) {
    out->append("X-Auth-Claims: ");
    Base64UrlEncode(*claims, out);
    out->append("\r\n");
  }
  out->append("\r\n");
}

void AppendRefused(const ResponseCommon& c, uint8_t status, std::string* out) {
  const std::string_view name = protocol::StatusName(status);
  AppendStatusLine(401, out);
  AppendCommon(c, 0, out);
  StrAppend(out,
            "WWW-Authenticate: Bearer realm=\"tokend\", error=\"invalid_token\", "
            "error_description=\"",
            name, "\"\r\nx-ext-auth-reason: ", name, "\r\n\r\n");
}

void AppendMissingToken(const ResponseCommon& c, std::string* out) {
  AppendStatusLine(401, out);
  AppendCommon(c, 0, out);
  out->append(
      "WWW-Authenticate: Bearer realm=\"tokend\"\r\n"
      "x-ext-auth-reason: MISSING_TOKEN\r\n\r\n");
}

void AppendError(const ResponseCommon& c, HttpError error, std::string* out) {
  ResponseCommon closing = c;
  closing.close = true;
  AppendStatusLine(error == HttpError::kBodyTooLarge ? 413 : 400, out);
  AppendCommon(closing, 0, out);
  out->append("\r\n");
}

void AppendText(const ResponseCommon& c, int code, std::string_view content_type,
                std::string_view body, bool head_only, std::string* out) {
  AppendStatusLine(code, out);
  AppendCommon(c, body.size(), out);
  StrAppend(out, "Content-Type: ", content_type, "\r\n\r\n");
  if (!head_only) out->append(body);
}

}  // namespace tokend::server::http
