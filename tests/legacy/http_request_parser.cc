// SPDX-License-Identifier: Apache-2.0
#include "tests/legacy/http_request_parser.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>

namespace tokend::server::http::legacy {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view v) {
  while (!v.empty() && IsWs(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsWs(v.back())) v.remove_suffix(1);
  return v;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Control characters other than HTAB (RFC 9110 §5.5).
bool HasControl(std::string_view v) {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

// Each comma-separated coding is "chunked" (the library checks it is last).
bool OnlyChunked(std::string_view v) {
  while (true) {
    const size_t comma = v.find(',');
    if (!EqualsIgnoreCase(Trim(v.substr(0, comma)), "chunked")) return false;
    if (comma == std::string_view::npos) return true;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

HttpRequestParser::HttpRequestParser(HttpLimits limits) : limits_(limits) {
  std::memset(&settings_, 0, sizeof(settings_));
  settings_.on_url = &OnUrl;
  settings_.on_header_field = &OnHeaderField;
  settings_.on_header_value = &OnHeaderValue;
  settings_.on_headers_complete = &OnHeadersComplete;
  settings_.on_message_complete = &OnMessageComplete;
  http_parser_init(&parser_, HTTP_REQUEST);
}

void HttpRequestParser::Reset(std::string_view in, HttpRequest* req) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  in_ = in;
  *req = HttpRequest();
  req_ = req;
  error_ = HttpError::kNone;
  headers_done_ = false;
  message_done_ = false;
  header_count_ = 0;
  host_seen_ = false;
  name_begin_ = name_end_ = value_begin_ = value_end_ = nullptr;
  in_value_ = false;
  url_begin_ = url_end_ = nullptr;
}

bool HttpRequestParser::Fail(HttpError e) {
  if (error_ == HttpError::kNone) error_ = e;
  return false;
}

ParseStatus HttpRequestParser::Parse(std::string_view in, HttpRequest* req, HttpError* error) {
  Reset(in, req);
  // Feeds in[from, to); returns the bytes the library took, or nullopt
  // (with error_ set) when it refused them.
  auto execute = [&](size_t from, size_t to) -> std::optional<size_t> {
    const size_t n = http_parser_execute(&parser_, &settings_, in.data() + from, to - from);
    const http_errno e = HTTP_PARSER_ERRNO(&parser_);
    if (error_ != HttpError::kNone) return std::nullopt;
    switch (e) {
      case HPE_OK:
      case HPE_PAUSED:
        return n;
      case HPE_INVALID_METHOD:
        error_ = HttpError::kBadMethod;
        break;
      case HPE_INVALID_CONTENT_LENGTH:
      case HPE_UNEXPECTED_CONTENT_LENGTH:
        error_ = HttpError::kBadContentLength;
        break;
      case HPE_INVALID_TRANSFER_ENCODING:
        error_ = HttpError::kBadTransferEncoding;
        break;
      case HPE_HEADER_OVERFLOW:
        error_ = HttpError::kHeaderTooLong;
        break;
      case HPE_INVALID_VERSION:
        error_ = HttpError::kBadVersion;
        break;
      default:
        error_ = HttpError::kSyntax;
        break;
    }
    return std::nullopt;
  };
  auto refuse = [&](HttpError e) {
    Fail(e);
    *error = error_;
    return ParseStatus::kError;
  };
  *error = HttpError::kNone;

  // Phase 1: the header section, fed no further than the header limit so
  // that refusing a huge one costs no more than the limit. The library
  // pauses on the blank line's last byte (OnHeadersComplete).
  const size_t first = std::min(in.size(), limits_.max_header_bytes);
  std::optional<size_t> n = execute(0, first);
  if (!n) return refuse(error_);
  if (!headers_done_) {
    if (in.size() > limits_.max_header_bytes) return refuse(HttpError::kHeaderTooLong);
    return ParseStatus::kIncomplete;
  }
  size_t parsed = *n;  // the blank line's last byte, which the library reads again
  req->header_bytes = parsed + 1;

  // Phase 2: the body section, fed no further than the body limit. The
  // library pauses right after the request's last byte (OnMessageComplete).
  http_parser_pause(&parser_, 0);
  const size_t body_end = req->header_bytes + limits_.max_body_bytes;
  const size_t last = std::min(in.size(), body_end);
  n = execute(parsed, last);
  if (!n) return refuse(error_);
  parsed += *n;
  if (!message_done_) {
    if (in.size() > body_end) return refuse(HttpError::kBodyTooLarge);
    return ParseStatus::kIncomplete;
  }
  req->size = parsed;
  req->keep_alive = http_should_keep_alive(&parser_) != 0;
  return ParseStatus::kComplete;
}

int HttpRequestParser::OnUrl(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  if (self->url_begin_ == nullptr) {
    self->url_begin_ = at;
  } else if (at != self->url_end_) {
    return self->Fail(HttpError::kBadTarget) ? 0 : 1;
  }
  self->url_end_ = at + n;
  return 0;
}

int HttpRequestParser::OnHeaderField(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  if (self->headers_done_) return 0;  // a chunked body's trailer: ignored
  if (self->in_value_ || self->name_begin_ == nullptr) {
    if (self->in_value_ && !self->EndField()) return 1;
    if (++self->header_count_ > self->limits_.max_headers) {
      return self->Fail(HttpError::kTooManyHeaders) ? 0 : 1;
    }
    self->name_begin_ = at;
    self->in_value_ = false;
  } else if (at != self->name_end_) {
    return self->Fail(HttpError::kBadHeader) ? 0 : 1;
  }
  self->name_end_ = at + n;
  return 0;
}

int HttpRequestParser::OnHeaderValue(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  if (self->headers_done_) return 0;
  if (!self->in_value_) {
    self->in_value_ = true;
    self->value_begin_ = at;
  } else if (at != self->value_end_) {
    // A second piece that does not continue the first: a folded line.
    return self->Fail(HttpError::kBadHeader) ? 0 : 1;
  }
  self->value_end_ = at + n;
  return 0;
}

bool HttpRequestParser::EndField() {
  const std::string_view name(name_begin_, static_cast<size_t>(name_end_ - name_begin_));
  const std::string_view raw =
      value_begin_ == nullptr
          ? std::string_view()
          : std::string_view(value_begin_, static_cast<size_t>(value_end_ - value_begin_));
  in_value_ = false;
  value_begin_ = value_end_ = nullptr;
  for (char c : name) {
    if (IsWs(c)) return Fail(HttpError::kBadHeader);
  }
  Field f = Field::kOther;
  // Dispatch on length first: most names match none.
  switch (name.size()) {
    case 4:
      if (EqualsIgnoreCase(name, "host")) f = Field::kHost;
      break;
    case 6:
      if (EqualsIgnoreCase(name, "expect")) f = Field::kExpect;
      break;
    case 11:
      if (EqualsIgnoreCase(name, "accesstoken")) f = Field::kAccessToken;
      break;
    case 13:
      if (EqualsIgnoreCase(name, "authorization")) f = Field::kAuthorization;
      break;
    case 14:
      if (EqualsIgnoreCase(name, "dapr-api-token")) f = Field::kDaprApiToken;
      if (EqualsIgnoreCase(name, "x-original-uri")) f = Field::kOriginalUri;
      break;
    case 15:
      if (EqualsIgnoreCase(name, "x-tokend-claims")) f = Field::kWantClaims;
      break;
    case 17:
      if (EqualsIgnoreCase(name, "x-tokend-audience")) f = Field::kAudience;
      if (EqualsIgnoreCase(name, "transfer-encoding")) f = Field::kTransferEncoding;
      break;
    default:
      break;
  }
  if (f == Field::kOther) return true;
  if (HasControl(raw)) return Fail(HttpError::kBadHeader);
  const std::string_view value = Trim(raw);
  auto set_once = [&](std::optional<std::string_view>* slot) {
    if (slot->has_value()) return Fail(HttpError::kDuplicateHeader);
    *slot = value;
    return true;
  };
  switch (f) {
    case Field::kHost:
      if (host_seen_) return Fail(HttpError::kDuplicateHeader);
      host_seen_ = true;
      return true;
    case Field::kExpect:
      if (EqualsIgnoreCase(value, "100-continue")) req_->expect_continue = true;
      return true;
    case Field::kAuthorization:
      return set_once(&req_->authorization);
    case Field::kDaprApiToken:
      return set_once(&req_->dapr_api_token);
    case Field::kAccessToken:
      return set_once(&req_->access_token);
    case Field::kOriginalUri:
      return set_once(&req_->original_uri);
    case Field::kWantClaims:
      return set_once(&req_->want_claims);
    case Field::kAudience:
      return set_once(&req_->audience);
    case Field::kTransferEncoding:
      if (!OnlyChunked(value)) return Fail(HttpError::kBadTransferEncoding);
      return true;
    case Field::kOther:
      break;
  }
  return true;
}

bool HttpRequestParser::CheckRequestLine() {
  if (parser_.http_major != 1 || parser_.http_minor > 1) return Fail(HttpError::kBadVersion);
  if (url_begin_ == nullptr) return Fail(HttpError::kBadTarget);
  // The method starts at the first byte that is not an empty line, and one
  // space separates it from the target.
  size_t start = 0;
  while (start < in_.size() && (in_[start] == '\r' || in_[start] == '\n')) ++start;
  const char* method = http_method_str(static_cast<http_method>(parser_.method));
  if (url_begin_ != in_.data() + start + std::strlen(method) + 1) {
    return Fail(HttpError::kBadTarget);
  }
  const std::string_view target(url_begin_, static_cast<size_t>(url_end_ - url_begin_));
  req_->target = target;
  req_->method = static_cast<http_method>(parser_.method);
  req_->version_major = static_cast<uint8_t>(parser_.http_major);
  req_->version_minor = static_cast<uint8_t>(parser_.http_minor);
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(target.data(), target.size(), parser_.method == HTTP_CONNECT, &u) !=
      0) {
    return Fail(HttpError::kBadTarget);
  }
  if (u.field_set & (1 << UF_PATH)) {
    req_->path = target.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
  } else if (parser_.method != HTTP_CONNECT && (u.field_set & (1 << UF_HOST)) == 0) {
    return Fail(HttpError::kBadTarget);
  }
  if (u.field_set & (1 << UF_QUERY)) {
    req_->query = target.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
  }
  return true;
}

int HttpRequestParser::OnHeadersComplete(http_parser* p) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  if (self->in_value_ && !self->EndField()) return -1;
  if (!self->CheckRequestLine()) return -1;
  if (p->http_minor == 1 && !self->host_seen_) {
    self->Fail(HttpError::kMissingHost);
    return -1;
  }
  // A declared body over the limit is refused before any of it arrives.
  if ((p->flags & F_CHUNKED) == 0 && p->content_length != ULLONG_MAX &&
      p->content_length > self->limits_.max_body_bytes) {
    self->Fail(HttpError::kBodyTooLarge);
    return -1;
  }
  self->headers_done_ = true;
  http_parser_pause(p, 1);  // so that Parse() learns where the headers end
  return 0;
}

int HttpRequestParser::OnMessageComplete(http_parser* p) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  self->message_done_ = true;
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace tokend::server::http::legacy
