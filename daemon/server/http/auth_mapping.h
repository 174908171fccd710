// SPDX-License-Identifier: Apache-2.0
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
//   3. accessToken: <token> (the header Nacos clients send);
//   4. the accessToken query parameter (Nacos's OpenAPI style) of the
//      request target (Envoy's ext_authz forwards the client's path and
//      query);
//   5. the accessToken query parameter of X-Original-URI (nginx's
//      auth_request subrequest carries no query of its own; the nginx
//      config sends `proxy_set_header X-Original-URI $request_uri`). Its
//      query is what follows the first '?' before any '#'.
// An Authorization header with another scheme, or any of these with an
// empty value, is no match. Query parameters are percent-decoded, names as
// well as values (so `access%54oken` is accessToken, as an application
// decoding the same query would read it); '+' stays '+' (tokens hold no
// spaces). A malformed escape in the accessToken value, or accessToken
// given twice in one query, refuses the request (400) rather than guess.
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
#include <vector>

#include "absl/functional/function_ref.h"
#include "daemon/server/http/request_parser.h"

namespace tokend::server::http {

enum class TokenSource : uint8_t {
  kNone,           // no source had a token
  kAuthorization,  // Authorization: Bearer
  kDaprApiToken,   // dapr-api-token
  kAccessToken,    // accessToken header
  kQuery,          // accessToken query parameter of the request target
  kOriginalUri,    // accessToken query parameter of X-Original-URI
  kBadQuery,       // a query could not be read (a bad %-escape, or
                   // accessToken given twice): a 400
};

struct TokenLookup {
  TokenSource source = TokenSource::kNone;
  std::string_view token;  // set for every source but kNone and kBadQuery
};

// BearerToken()
//
// The token of an Authorization value "Bearer <token>" (scheme in any
// case), or nullopt for another scheme or an empty token.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// QueryParameter()
//
// The value of `name` in `query` (a=b&c=d, percent-decoded into *scratch
// when it has escapes; '+' is left as it is). Names are compared decoded (a
// name with a malformed escape matches nothing). nullopt when absent; sets
// *bad (and returns nullopt) on a bad %-escape in the value or a name given
// twice.
std::optional<std::string_view> QueryParameter(std::string_view query, std::string_view name,
                                               std::string* scratch, bool* bad);

// UriQuery()
//
// The query of a request-target such as X-Original-URI: what follows the
// first '?' before any '#' (the fragment); empty when there is none.
std::string_view UriQuery(std::string_view uri);

// ExtractToken()
//
// The token of `req` by the order above. `scratch` holds a decoded query
// value; the returned view may point into it.
TokenLookup ExtractToken(const HttpRequest& req, std::string* scratch);

// A request's header by lower-case name ("authorization"), or nullopt when
// it has none.
using HeaderLookup = absl::FunctionRef<std::optional<std::string_view>(std::string_view)>;

// ExtractTokenFromHeaders()
//
// ExtractToken() for a request known by a header lookup and its target
// (path and query) rather than by a parsed HttpRequest: the gRPC front's
// CheckRequest. Sources 1-4 above, in that order; X-Original-URI (nginx's)
// is not read.
TokenLookup ExtractTokenFromHeaders(HeaderLookup header, std::string_view target,
                                    std::string* scratch);

// WantClaims()
//
// X-Tokend-Claims: "1" or "true" asks for the claims, "0" or "false" (or no
// header) does not; nullopt for anything else (a 400).
std::optional<bool> WantClaims(const std::optional<std::string_view>& header);

// AudienceAllowed()
//
// Whether X-Tokend-Audience `requested` may be asked for on the HTTP socket:
// empty (no header) always; otherwise only one of `configured` exactly, or
// anything when nothing is configured (the header then adds a check, it
// cannot widen one).
bool AudienceAllowed(std::string_view requested, const std::vector<std::string>& configured);

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
