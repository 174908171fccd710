// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/http/http_service.h"

#include <time.h>

#include <cassert>
#include <utility>

#include "protocol/codes.h"

namespace tokend::server::http {
namespace {

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

bool IsGetOrHead(const HttpRequest& req) {
  return req.method == HTTP_GET || req.method == HTTP_HEAD;
}

}  // namespace

int64_t RealtimeSeconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

HttpService::HttpService(std::unique_ptr<RequestValidator> validator, HttpServiceOptions options)
    : validator_(std::move(validator)), options_(std::move(options)), parser_(options_.limits) {
  assert(validator_ != nullptr || options_.role == HttpRole::kAdmin);
  assert(options_.clock != nullptr);
}

ResponseCommon HttpService::Common(const HttpRequest& req) {
  if (options_.wall_clock != nullptr) {
    const int64_t now = options_.wall_clock();
    if (now != date_second_) {
      date_second_ = now;
      date_.clear();
      AppendHttpDate(now, &date_);
    }
  }
  ResponseCommon c;
  c.date = date_;
  c.close = !req.keep_alive;
  // An HTTP/1.0 client keeps the connection only when told it may.
  c.keep_alive_header = req.keep_alive && req.version_minor == 0;
  return c;
}

void HttpService::AnswerAdmin(const HttpRequest& req, std::string* out) {
  ResponseCommon common = Common(req);
  const bool head = req.method == HTTP_HEAD;
  if (req.path != "/healthz" && req.path != "/metrics") {
    AppendText(common, 404, kTextPlain, "not found\n", head, out);
    return;
  }
  if (!IsGetOrHead(req)) {
    AppendText(common, 405, kTextPlain, "method not allowed\n", head, out);
    return;
  }
  ServiceCounters::Bump(counters_.ping_requests);
  if (req.path == "/healthz") {
    if (options_.health) {
      body_.clear();
      const int code = options_.health(&body_);
      AppendText(common, code, kJson, body_, head, out);
    } else {
      AppendText(common, 200, kTextPlain, "ok\n", head, out);
    }
  } else if (options_.metrics) {
    body_.clear();
    options_.metrics(&body_);
    AppendText(common, 200, kPrometheusText, body_, head, out);
  } else {
    AppendText(common, 404, kTextPlain, "not found\n", head, out);
  }
}

bool HttpService::Answer(const HttpRequest& req, std::string* out) {
  if (options_.role == HttpRole::kAdmin) {
    AnswerAdmin(req, out);
    return true;
  }
  ResponseCommon common = Common(req);
  const std::optional<bool> want_claims = WantClaims(req.want_claims);
  const TokenLookup token = ExtractToken(req, &scratch_);
  if (!want_claims.has_value() || token.source == TokenSource::kBadQuery) {
    ServiceCounters::Bump(counters_.protocol_errors);
    AppendError(common, HttpError::kSyntax, out);
    return false;
  }
  if (token.source == TokenSource::kNone) {
    ServiceCounters::Bump(counters_.missing_token);
    AppendMissingToken(common, out);
    return true;
  }
  const std::string_view audience = req.audience.value_or(std::string_view());
  if (!AudienceAllowed(audience, options_.audiences)) {
    // A client's own header must not widen what the relying party accepts.
    ServiceCounters::Bump(counters_.validate_requests);
    counters_.CountStatus(protocol::kStatusAudienceMismatch);
    AppendRefused(common, protocol::kStatusAudienceMismatch, out);
    return true;
  }
  const RequestValidator::Outcome o = validator_->Validate(token.token, audience, *want_claims);
  ServiceCounters::Bump(counters_.validate_requests);
  if (o.cache_hit) ServiceCounters::Bump(counters_.cache_hits);
  uint8_t status = o.status;
  // A subject that would not arrive unchanged upstream is no subject to
  // pass on: refuse rather than let the request through as someone else.
  if (status == protocol::kStatusOk && !SafeHeaderValue(o.subject))
    status = protocol::kStatusMalformed;
  counters_.CountStatus(status);
  counters_.CountKind(o.alg, o.status);
  if (status == protocol::kStatusOk) {
    AppendAllowed(common, o.subject, o.exp,
                  *want_claims ? std::optional<std::string_view>(o.claims) : std::nullopt, out);
  } else {
    AppendRefused(common, status, out);
  }
  return true;
}

namespace {

// One connection's parser, kept between reads.
class HttpSession final : public ProtocolSession {
 public:
  explicit HttpSession(const HttpLimits& limits) : parser(limits) {}
  HttpRequestParser parser;
};

}  // namespace

size_t HttpService::Handle(std::string_view in, std::string* out, bool* close) {
  return HandleWith(parser_, /*resume=*/false, in, out, close);
}

size_t HttpService::HandleConnection(std::string_view in, std::string* out, bool* close,
                                     std::unique_ptr<ProtocolSession>* session) {
  if (*session == nullptr) *session = std::make_unique<HttpSession>(options_.limits);
  // Only an HttpService makes the sessions it is given.
  auto* s = static_cast<HttpSession*>(session->get());
  return HandleWith(s->parser, /*resume=*/true, in, out, close);
}

size_t HttpService::HandleWith(HttpRequestParser& parser, bool resume, std::string_view in,
                               std::string* out, bool* close) {
  *close = false;
  size_t pos = 0;
  uint64_t start = 0;
  uint64_t answered = 0;
  HttpRequest req;
  while (pos < in.size()) {
    HttpError error = HttpError::kNone;
    if (!resume) parser.Reset();
    const ParseStatus st = parser.Parse(in.substr(pos), &req, &error);
    if (st == ParseStatus::kIncomplete) {
      // Called once per arrival of bytes, so this is sent at most once: the
      // input ends exactly at the headers only on the call that brought them.
      if (req.expect_continue && req.header_bytes != 0 && req.header_bytes == in.size() - pos) {
        out->append(kContinueResponse);
      }
      break;
    }
    if (answered++ == 0) start = options_.clock();
    if (st == ParseStatus::kError) {
      ServiceCounters::Bump(counters_.protocol_errors);
      ResponseCommon common = Common(req);
      AppendError(common, error, out);
      *close = true;
      pos = in.size();
      break;
    }
    if (!Answer(req, out)) {
      *close = true;
      pos = in.size();
      break;
    }
    pos += req.size;
    if (!req.keep_alive) {
      *close = true;
      break;
    }
  }
  if (answered > 0) counters_.latency.Record(options_.clock() - start, answered);
  return pos;
}

}  // namespace tokend::server::http
