// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes through the HTTP front, as a client could send them to the
// HTTP socket, cut into reads at arbitrary points.
//
// Input: byte 0 seeds the cut points and picks small or default limits; the
// rest is the byte stream (to the auth socket's service, and to the admin
// socket's). The stream is fed whole, in chunks whose sizes
// come from the seed, and (for short inputs) one byte at a time, each way
// through HttpService::Handle over an accumulating buffer (stateless: every
// call parses from the first byte, as the parser always did before it
// became incremental), through HandleConnection() (incremental: the parse
// continues across calls), and through a Connection as the loops drive it.
// Checked:
//   - Handle() never consumes more than it was given;
//   - the parser is consistent: a complete request's size covers its
//     headers, and the same bytes alone parse to the same request;
//   - every response is well formed: a status line, header lines without a
//     stray CR or LF, a Content-Length that matches the body; a 400 or 413
//     is last and closes the connection;
//   - the responses (less interim 100 Continue, which depends on where the
//     reads end by design), and whether the connection closes, are the same
//     however the stream is cut, incremental or not;
//   - the incremental parser and the legacy whole-buffer one
//     (tests/legacy/) agree on every request, status and error, read after
//     read (legacy::CompareSplits).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/connection.h"
#include "daemon/server/http/auth_mapping.h"
#include "daemon/server/http/http_service.h"
#include "daemon/server/http/request_parser.h"
#include "tests/fuzz/stream_split.h"
#include "tests/legacy/http_parser_compare.h"
#include "tests/server/fake_validator.h"

namespace {

using namespace tokend::server;

using tokend::fuzz::Outcome;

uint64_t ZeroClock() { return 0; }

http::HttpServiceOptions Options(bool small, bool admin = false) {
  http::HttpServiceOptions o;
  if (admin) o.role = http::HttpRole::kAdmin;
  if (small) {
    o.limits.max_header_bytes = 256;
    o.limits.max_headers = 6;
    o.limits.max_body_bytes = 64;
  }
  o.health = [](std::string* body) {
    body->append("{\"status\":\"ok\"}\n");
    return 200;
  };
  o.metrics = [](std::string* out) { out->append("tokend_up 1\n"); };
  o.clock = &ZeroClock;
  o.wall_clock = nullptr;  // no Date: outputs compare byte for byte
  return o;
}

std::unique_ptr<http::HttpService> NewService(bool small, bool admin = false) {
  if (admin) return std::make_unique<http::HttpService>(nullptr, Options(small, admin));
  return std::make_unique<http::HttpService>(std::make_unique<testing::FakeValidator>(),
                                             Options(small));
}

std::string WithoutContinue(std::string s) {
  for (size_t p; (p = s.find(http::kContinueResponse)) != std::string::npos;) {
    s.erase(p, http::kContinueResponse.size());
  }
  return s;
}

Outcome FeedService(std::string_view stream, const std::vector<size_t>& cuts, bool small,
                    bool admin = false) {
  auto service = NewService(small, admin);
  Outcome r;
  std::string buf;
  size_t pos = 0;
  for (size_t n : cuts) {
    if (r.closed) break;
    buf.append(stream.substr(pos, n));
    pos += n;
    bool close = false;
    const size_t used = service->Handle(buf, &r.out, &close);
    FUZZ_CHECK(used <= buf.size());
    buf.erase(0, used);
    r.closed = close;
  }
  r.out = WithoutContinue(std::move(r.out));
  return r;
}

// As FeedService, through the incremental HandleConnection().
Outcome FeedSession(std::string_view stream, const std::vector<size_t>& cuts, bool small,
                    bool admin = false) {
  auto service = NewService(small, admin);
  std::unique_ptr<ProtocolSession> session;
  Outcome r;
  std::string buf;
  size_t pos = 0;
  for (size_t n : cuts) {
    if (r.closed) break;
    buf.append(stream.substr(pos, n));
    pos += n;
    bool close = false;
    const size_t used = service->HandleConnection(buf, &r.out, &close, &session);
    FUZZ_CHECK(used <= buf.size());
    buf.erase(0, used);
    r.closed = close;
  }
  r.out = WithoutContinue(std::move(r.out));
  return r;
}

Outcome FeedConnection(std::string_view stream, const std::vector<size_t>& cuts, bool small) {
  auto service = NewService(small);
  const auto now = Connection::Clock::now();
  Connection conn(-1, SIZE_MAX, now);
  Outcome r;
  size_t pos = 0;
  for (size_t n : cuts) {
    conn.OnInput(stream.substr(pos, n), *service, now);
    pos += n;
    if (n % 3 == 0) {
      const std::string_view s = conn.PrepareSend();
      r.out.append(s.substr(0, s.size() / 2));
      conn.OnSent(s.size() / 2, now);
    }
  }
  const std::string_view s = conn.PrepareSend();
  r.out.append(s);
  conn.OnSent(s.size(), now);
  r.closed = conn.drain_reason() == Connection::DrainReason::kProtocolError;
  r.out = WithoutContinue(std::move(r.out));
  return r;
}

// Splits the output into responses and checks each one's shape.
void CheckResponses(const Outcome& r) {
  std::string_view out = r.out;
  bool last_closes = false;
  while (!out.empty()) {
    FUZZ_CHECK(out.substr(0, 9) == "HTTP/1.1 ");
    const size_t end = out.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view head = out.substr(0, end + 2);
    size_t length = SIZE_MAX;
    bool closes = false;
    for (size_t p = 0; p < head.size();) {
      const size_t eol = head.find("\r\n", p);
      FUZZ_CHECK(eol != std::string_view::npos);
      const std::string_view line = head.substr(p, eol - p);
      FUZZ_CHECK(line.find('\r') == std::string_view::npos);
      FUZZ_CHECK(line.find('\n') == std::string_view::npos);
      FUZZ_CHECK(line.find('\0') == std::string_view::npos);
      if (line.substr(0, 16) == "Content-Length: ") {
        length = std::strtoul(std::string(line.substr(16)).c_str(), nullptr, 10);
      }
      if (line == "Connection: close") closes = true;
      p = eol + 2;
    }
    FUZZ_CHECK(length != SIZE_MAX);
    const std::string_view status = out.substr(9, 3);
    FUZZ_CHECK(status == "200" || status == "400" || status == "401" || status == "413" ||
               status == "404" || status == "405" || status == "503");
    if (status == "400" || status == "413") FUZZ_CHECK(closes);
    FUZZ_CHECK(!last_closes);  // nothing follows a response that closes
    last_closes = closes;
    out.remove_prefix(end + 4);
    // A HEAD answer has a Content-Length but no body; no body tokend sends
    // starts like a status line.
    if (!out.empty() && out.substr(0, 9) != "HTTP/1.1 ") {
      FUZZ_CHECK(out.size() >= length);
      out.remove_prefix(length);
    }
  }
  FUZZ_CHECK(r.closed == last_closes);
}

// The parser on its own: sizes are consistent and a complete request parses
// the same from exactly its own bytes.
void CheckParser(std::string_view stream, bool small) {
  http::HttpRequestParser p(Options(small).limits);
  http::HttpRequest req;
  http::HttpError error;
  const http::ParseStatus st = p.Parse(stream, &req, &error);
  if (st == http::ParseStatus::kError) {
    FUZZ_CHECK(error != http::HttpError::kNone);
    return;
  }
  FUZZ_CHECK(error == http::HttpError::kNone);
  if (st == http::ParseStatus::kIncomplete) return;
  FUZZ_CHECK(req.header_bytes > 0 && req.header_bytes <= req.size && req.size <= stream.size());
  const http::HttpRequest first = req;
  FUZZ_CHECK(p.Parse(stream.substr(0, first.size), &req, &error) == http::ParseStatus::kComplete);
  FUZZ_CHECK(req.size == first.size && req.header_bytes == first.header_bytes);
  FUZZ_CHECK(req.target == first.target && req.keep_alive == first.keep_alive);
  FUZZ_CHECK(req.authorization == first.authorization);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool small = (data[0] & 1) != 0;
  const std::vector<size_t> whole = {stream.size()};
  const std::vector<size_t> chunks = tokend::fuzz::Cuts(stream.size(), data[0]);

  CheckParser(stream, small);
  const Outcome ref = FeedService(stream, whole, small);
  CheckResponses(ref);
  const Outcome a = FeedService(stream, chunks, small);
  FUZZ_CHECK(a.out == ref.out && a.closed == ref.closed);
  const Outcome b = FeedConnection(stream, chunks, small);
  FUZZ_CHECK(b.out == ref.out && b.closed == ref.closed);
  const Outcome c = FeedSession(stream, chunks, small);
  FUZZ_CHECK(c.out == ref.out && c.closed == ref.closed);
  // The admin socket's service on the same bytes: well formed, and the
  // same answers however the stream is cut.
  const Outcome admin = FeedService(stream, whole, small, /*admin=*/true);
  CheckResponses(admin);
  const Outcome f = FeedSession(stream, chunks, small, /*admin=*/true);
  FUZZ_CHECK(f.out == admin.out && f.closed == admin.closed);
  const http::HttpLimits limits = Options(small).limits;
  FUZZ_CHECK(http::legacy::CompareSplits(stream, whole, limits).empty());
  FUZZ_CHECK(http::legacy::CompareSplits(stream, chunks, limits).empty());
  if (stream.size() <= 2048) {
    const std::vector<size_t> bytes(stream.size(), 1);
    const Outcome d = FeedService(stream, bytes, small);
    FUZZ_CHECK(d.out == ref.out && d.closed == ref.closed);
    const Outcome e = FeedSession(stream, bytes, small);
    FUZZ_CHECK(e.out == ref.out && e.closed == ref.closed);
    FUZZ_CHECK(http::legacy::CompareSplits(stream, bytes, limits).empty());
  }
  return 0;
}
