// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/http/request_parser.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>

namespace tokend::server::http {
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

std::string_view HttpErrorName(HttpError e) {
  switch (e) {
    case HttpError::kNone:
      return "none";
    case HttpError::kSyntax:
      return "syntax error";
    case HttpError::kBadMethod:
      return "unknown method";
    case HttpError::kBadVersion:
      return "unsupported HTTP version";
    case HttpError::kBadTarget:
      return "bad request target";
    case HttpError::kHeaderTooLong:
      return "header section too long";
    case HttpError::kTooManyHeaders:
      return "too many headers";
    case HttpError::kBadHeader:
      return "bad header field";
    case HttpError::kBadContentLength:
      return "bad Content-Length";
    case HttpError::kBadTransferEncoding:
      return "unsupported Transfer-Encoding";
    case HttpError::kMissingHost:
      return "missing Host";
    case HttpError::kDuplicateHeader:
      return "repeated header";
    case HttpError::kBodyTooLarge:
      return "body too large";
  }
  return "unknown";
}

HttpRequestParser::HttpRequestParser(HttpLimits limits) : limits_(limits) {
  std::memset(&settings_, 0, sizeof(settings_));
  settings_.on_url = &OnUrl;
  settings_.on_header_field = &OnHeaderField;
  settings_.on_header_value = &OnHeaderValue;
  settings_.on_headers_complete = &OnHeadersComplete;
  settings_.on_message_complete = &OnMessageComplete;
  Reset();
}

void HttpRequestParser::Reset() {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  st_ = State();
}

bool HttpRequestParser::Fail(HttpError e) {
  if (st_.error == HttpError::kNone) st_.error = e;
  return false;
}

bool HttpRequestParser::Feed(size_t to) {
  if (to <= st_.fed) return true;  // nothing new (a zero-length execute means EOF)
  bytes_fed_ += to - st_.fed;
  const size_t n = http_parser_execute(&parser_, &settings_, in_.data() + st_.fed, to - st_.fed);
  st_.fed += n;
  if (st_.error != HttpError::kNone) return false;
  switch (HTTP_PARSER_ERRNO(&parser_)) {
    case HPE_OK:
    case HPE_PAUSED:
      return true;
    case HPE_INVALID_METHOD:
      return Fail(HttpError::kBadMethod);
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return Fail(HttpError::kBadContentLength);
    case HPE_INVALID_TRANSFER_ENCODING:
      return Fail(HttpError::kBadTransferEncoding);
    case HPE_HEADER_OVERFLOW:
      return Fail(HttpError::kHeaderTooLong);
    case HPE_INVALID_VERSION:
      return Fail(HttpError::kBadVersion);
    default:
      return Fail(HttpError::kSyntax);
  }
}

void HttpRequestParser::Fill(HttpRequest* req) const {
  *req = HttpRequest();
  req->header_bytes = st_.header_bytes;
  req->expect_continue = st_.expect_continue;
  if (st_.phase == Phase::kHeaders) return;
  auto view = [&](const std::optional<Span>& s) -> std::optional<std::string_view> {
    if (!s.has_value()) return std::nullopt;
    return s->In(in_);
  };
  req->method = static_cast<http_method>(parser_.method);
  req->version_major = static_cast<uint8_t>(parser_.http_major);
  req->version_minor = static_cast<uint8_t>(parser_.http_minor);
  req->target = st_.url.In(in_);
  req->authorization = view(st_.authorization);
  req->dapr_api_token = view(st_.dapr_api_token);
  req->access_token = view(st_.access_token);
  req->original_uri = view(st_.original_uri);
  req->audience = view(st_.audience);
  req->want_claims = view(st_.want_claims);
  req->path = st_.path.In(in_);
  req->query = st_.query.In(in_);
  if (st_.message_done) {
    req->size = st_.size;
    req->keep_alive = http_should_keep_alive(&parser_) != 0;
  }
}

ParseStatus HttpRequestParser::Parse(std::string_view in, HttpRequest* req, HttpError* error) {
  if (st_.phase == Phase::kDone || in.size() < st_.fed) Reset();
  in_ = in;
  *error = HttpError::kNone;
  auto refuse = [&](HttpError e) {
    Fail(e);
    *error = st_.error;
    st_.phase = Phase::kDone;
    Fill(req);
    return ParseStatus::kError;
  };

  if (st_.phase == Phase::kHeaders) {
    // The header section, fed no further than the header limit so that
    // refusing a huge one costs no more than the limit. The library pauses
    // on the blank line's last byte (OnHeadersComplete), which it reads
    // again once unpaused.
    if (!Feed(std::min(in.size(), limits_.max_header_bytes))) return refuse(st_.error);
    if (st_.phase == Phase::kHeaders) {
      if (in.size() > limits_.max_header_bytes) return refuse(HttpError::kHeaderTooLong);
      Fill(req);
      return ParseStatus::kIncomplete;
    }
    st_.header_bytes = st_.fed + 1;
    http_parser_pause(&parser_, 0);
  }

  // The body section, fed no further than the body limit. The library
  // pauses right after the request's last byte (OnMessageComplete).
  const size_t body_end = st_.header_bytes + limits_.max_body_bytes;
  if (!Feed(std::min(in.size(), body_end))) return refuse(st_.error);
  if (!st_.message_done) {
    if (in.size() > body_end) return refuse(HttpError::kBodyTooLarge);
    Fill(req);
    return ParseStatus::kIncomplete;
  }
  st_.size = st_.fed;
  Fill(req);
  st_.phase = Phase::kDone;
  return ParseStatus::kComplete;
}

int HttpRequestParser::OnUrl(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  State& st = self->st_;
  const size_t off = self->Offset(at);
  if (!st.url_set) {
    st.url_set = true;
    st.url.begin = off;
  } else if (off != st.url.end) {
    return self->Fail(HttpError::kBadTarget) ? 0 : 1;
  }
  st.url.end = off + n;
  return 0;
}

int HttpRequestParser::OnHeaderField(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  State& st = self->st_;
  if (st.phase != Phase::kHeaders) return 0;  // a chunked body's trailer: ignored
  const size_t off = self->Offset(at);
  if (st.field != FieldState::kName) {
    if (st.field == FieldState::kValue && !self->EndField()) return 1;
    if (++st.header_count > self->limits_.max_headers) {
      return self->Fail(HttpError::kTooManyHeaders) ? 0 : 1;
    }
    st.field = FieldState::kName;
    st.name.begin = off;
  } else if (off != st.name.end) {
    return self->Fail(HttpError::kBadHeader) ? 0 : 1;
  }
  st.name.end = off + n;
  return 0;
}

int HttpRequestParser::OnHeaderValue(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  State& st = self->st_;
  if (st.phase != Phase::kHeaders) return 0;
  const size_t off = self->Offset(at);
  if (st.field != FieldState::kValue) {
    st.field = FieldState::kValue;
    st.value_set = true;
    st.value.begin = off;
  } else if (off != st.value.end) {
    // A second piece that does not continue the first: a folded line.
    return self->Fail(HttpError::kBadHeader) ? 0 : 1;
  }
  st.value.end = off + n;
  return 0;
}

bool HttpRequestParser::EndField() {
  const std::string_view name = st_.name.In(in_);
  const std::string_view raw = st_.value_set ? st_.value.In(in_) : std::string_view();
  st_.field = FieldState::kNone;
  st_.value_set = false;
  st_.value = Span();
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
  const Span trimmed{Offset(value.data()), Offset(value.data()) + value.size()};
  auto set_once = [&](std::optional<Span>* slot) {
    if (slot->has_value()) return Fail(HttpError::kDuplicateHeader);
    *slot = trimmed;
    return true;
  };
  switch (f) {
    case Field::kHost:
      if (st_.host_seen) return Fail(HttpError::kDuplicateHeader);
      st_.host_seen = true;
      return true;
    case Field::kExpect:
      if (EqualsIgnoreCase(value, "100-continue")) st_.expect_continue = true;
      return true;
    case Field::kAuthorization:
      return set_once(&st_.authorization);
    case Field::kDaprApiToken:
      return set_once(&st_.dapr_api_token);
    case Field::kAccessToken:
      return set_once(&st_.access_token);
    case Field::kOriginalUri:
      return set_once(&st_.original_uri);
    case Field::kWantClaims:
      return set_once(&st_.want_claims);
    case Field::kAudience:
      return set_once(&st_.audience);
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
  if (!st_.url_set) return Fail(HttpError::kBadTarget);
  // The method starts at the first byte that is not an empty line, and one
  // space separates it from the target.
  size_t start = 0;
  while (start < in_.size() && (in_[start] == '\r' || in_[start] == '\n')) ++start;
  const char* method = http_method_str(static_cast<http_method>(parser_.method));
  if (st_.url.begin != start + std::strlen(method) + 1) return Fail(HttpError::kBadTarget);
  const std::string_view target = st_.url.In(in_);
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(target.data(), target.size(), parser_.method == HTTP_CONNECT, &u) !=
      0) {
    return Fail(HttpError::kBadTarget);
  }
  if ((u.field_set & (1 << UF_PATH)) == 0 && parser_.method != HTTP_CONNECT &&
      (u.field_set & (1 << UF_HOST)) == 0) {
    return Fail(HttpError::kBadTarget);
  }
  // Kept as spans, so that a call while the body arrives costs nothing more.
  auto part = [&](int field) {
    if ((u.field_set & (1 << field)) == 0) return Span{st_.url.begin, st_.url.begin};
    const size_t begin = st_.url.begin + u.field_data[field].off;
    return Span{begin, begin + u.field_data[field].len};
  };
  st_.path = part(UF_PATH);
  st_.query = part(UF_QUERY);
  return true;
}

int HttpRequestParser::OnHeadersComplete(http_parser* p) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  if (self->st_.field == FieldState::kValue && !self->EndField()) return -1;
  if (!self->CheckRequestLine()) return -1;
  if (p->http_minor == 1 && !self->st_.host_seen) {
    self->Fail(HttpError::kMissingHost);
    return -1;
  }
  // A declared body over the limit is refused before any of it arrives.
  if ((p->flags & F_CHUNKED) == 0 && p->content_length != ULLONG_MAX &&
      p->content_length > self->limits_.max_body_bytes) {
    self->Fail(HttpError::kBodyTooLarge);
    return -1;
  }
  self->st_.phase = Phase::kBody;
  http_parser_pause(p, 1);  // so that Parse() learns where the headers end
  return 0;
}

int HttpRequestParser::OnMessageComplete(http_parser* p) {
  auto* self = static_cast<HttpRequestParser*>(p->data);
  self->st_.message_done = true;
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace tokend::server::http
