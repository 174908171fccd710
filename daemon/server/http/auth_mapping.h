// auth_mapping.h
//
// The HTTP front's two translations, as pure functions: from a parsed
// request to the token and audience to validate, and from a validation
// outcome to the response that nginx's auth_request, Envoy's ext_authz
// (HTTP mode), Traefik's forwardAuth or Authorino's clients expect.
//
// Where the token comes from (first match wins):
//   1. Authorization: Bearer <token> (RFC 6750 §2.1; the scheme is matched
//      case-insensitively, one or more spaces follow it);
//   2. dapr-api-token: <token> (Dapr's header);
//   3. the accessToken query parameter (Nacos's OpenAPI style),
//      percent-decoded.
// An Authorization header with another scheme, or any of these with an
// empty value, is no match.
//
// Responses (all with Content-Length, none with a body unless noted):
//   allowed  200, X-Auth-Subject: <sub>, X-Auth-Expires: <exp, seconds
//            since the epoch; 0 when the token has none>, and, when asked
//            for, X-Auth-Claims: <the payload JSON, base64url>;
//   refused  401, WWW-Authenticate: Bearer realm="tokend",
//            error="invalid_token", error_description="<status name>"
//            (RFC 6750 §3) and x-ext-auth-reason: <status name>;
//   no token 401, WWW-Authenticate: Bearer realm="tokend" (no error
//            attribute, RFC 6750 §3.1) and x-ext-auth-reason: MISSING_TOKEN.
// A subject that could not travel as a header value unchanged (a control
// character, or whitespace at either end) is refused as MALFORMED: the
// request is never let through with a subject other than the token's.
//
// Thread-safety: stateless functions. Ownership: views point into the
// request's buffer or the caller's scratch string.
#ifndef TOKEND_DAEMON_SERVER_HTTP_AUTH_MAPPING_H_
#define TOKEND_DAEMON_SERVER_HTTP_AUTH_MAPPING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/server/http/request_parser.h"

namespace tokend::server::http {

enum class TokenSource : uint8_t {
  kNone,           // no source had a token
  kAuthorization,  // Authorization: Bearer
  kDaprApiToken,   // dapr-api-token
  kQuery,          // accessToken query parameter
  kBadQuery,       // the query could not be read (a bad %-escape, or
                   // accessToken given twice): a 400
};

struct TokenLookup {
  TokenSource source = TokenSource::kNone;
  std::string_view token;  // set for kAuthorization, kDaprApiToken, kQuery
};

// BearerToken()
//
// The token of an Authorization value "Bearer <token>" (scheme in any
// case), or nullopt for another scheme or an empty token.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// QueryParameter()
//
// The value of `name` in `query` (a=b&c=d, percent-decoded into *scratch
// when it has escapes; '+' is left as it is). nullopt when absent; sets
// *bad (and returns nullopt) on a bad %-escape or a name given twice.
std::optional<std::string_view> QueryParameter(std::string_view query, std::string_view name,
                                               std::string* scratch, bool* bad);

// ExtractToken()
//
// The token of `req` by the order above. `scratch` holds a decoded query
// value; the returned view may point into it.
TokenLookup ExtractToken(const HttpRequest& req, std::string* scratch);

// WantClaims()
//
// X-Tokend-Claims: "1" or "true" asks for the claims, "0" or "false" (or no
// header) does not; nullopt for anything else (a 400).
std::optional<bool> WantClaims(const std::optional<std::string_view>& header);

// SafeHeaderValue()
//
// True when `v` can be sent as a header value and read back unchanged: no
// control character (HTAB included), no space at either end.
bool SafeHeaderValue(std::string_view v);

// Base64UrlEncode()
//
// Appends `in` as unpadded base64url (RFC 4648 §5).
void Base64UrlEncode(std::string_view in, std::string* out);

// AppendHttpDate()
//
// Appends `unix_seconds` as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
void AppendHttpDate(int64_t unix_seconds, std::string* out);

// What every response carries.
struct ResponseCommon {
  std::string_view date;           // an IMF-fixdate, or empty for no Date header
  bool close = false;              // the connection closes after this response
  bool keep_alive_header = false;  // say "Connection: keep-alive" (HTTP/1.0)
};

// AppendAllowed()
//
// 200 with the subject, expiry and (when `claims` is set) the claims.
// REQUIRES: SafeHeaderValue(subject).
void AppendAllowed(const ResponseCommon& c, std::string_view subject, int64_t exp,
                   std::optional<std::string_view> claims, std::string* out);

// AppendRefused()
//
// 401 for a token refused with `status` (not OK), named by
// protocol::StatusName().
void AppendRefused(const ResponseCommon& c, uint8_t status, std::string* out);

// AppendMissingToken()
//
// 401 for a request that carries no token.
void AppendMissingToken(const ResponseCommon& c, std::string* out);

// AppendError()
//
// 400 Bad Request, or 413 Content Too Large for kBodyTooLarge; always with
// Connection: close.
void AppendError(const ResponseCommon& c, HttpError error, std::string* out);

// AppendText()
//
// `code` (200, 503, ...) with a text body of `content_type`; the body is
// left out (Content-Length kept) when `head_only`.
void AppendText(const ResponseCommon& c, int code, std::string_view content_type,
                std::string_view body, bool head_only, std::string* out);

// The interim answer to Expect: 100-continue.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace tokend::server::http

#endif  // TOKEND_DAEMON_SERVER_HTTP_AUTH_MAPPING_H_
