// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes through the server's request path, as a client could send
// them, cut into reads at arbitrary points.
//
// Input: byte 0 seeds the cut points; the rest is the byte stream. The
// stream is fed three ways: whole, in chunks whose sizes come from the
// seed, and (for short inputs) one byte at a time; each way through both
// Service::HandleFrames over an accumulating buffer and a Connection. Checked:
//   - HandleFrames never consumes more than it was given, and consumes
//     nothing but whole frames (or a bad frame's header);
//   - every response frame is well formed: version 1, flags 0, the opcode
//     of its request, its request's id, a body that decodes; or, last and
//     only then, the protocol-error frame (the request's header echoed,
//     body 255), after which the connection closes;
//   - there is one response per complete request frame up to the first
//     protocol error;
//   - the output, and whether the connection closes, are the same however
//     the stream is cut.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/server/connection.h"
#include "daemon/server/service.h"
#include "protocol/codec.h"
#include "tests/fuzz/stream_split.h"
#include "tests/server/fake_validator.h"

namespace {

using namespace tokend;

using tokend::fuzz::Outcome;

// Service::HandleFrames over a buffer that accumulates the reads.
Outcome FeedService(std::string_view stream, const std::vector<size_t>& cuts) {
  server::Service service(std::make_unique<server::testing::FakeValidator>());
  Outcome r;
  std::string buf;
  size_t pos = 0;
  for (size_t n : cuts) {
    if (r.closed) break;
    buf.append(stream.substr(pos, n));
    pos += n;
    const size_t before = r.out.size();
    bool close = false;
    const size_t used = service.HandleFrames(buf, &r.out, &close);
    FUZZ_CHECK(used <= buf.size());
    if (!close) {
      // Only whole frames were consumed: what is left is not a whole frame.
      protocol::RequestFrame f;
      size_t c = 0;
      FUZZ_CHECK(protocol::NextRequestFrame(std::string_view(buf).substr(used), &f, &c) ==
                 protocol::FrameStatus::kNeedMore);
    }
    FUZZ_CHECK(used > 0 || r.out.size() == before);
    buf.erase(0, used);
    r.closed = close;
  }
  return r;
}

// The same through a Connection, as the event loops drive it.
Outcome FeedConnection(std::string_view stream, const std::vector<size_t>& cuts) {
  server::Service service(std::make_unique<server::testing::FakeValidator>());
  const auto now = server::Connection::Clock::now();
  server::Connection conn(-1, SIZE_MAX, now);
  Outcome r;
  size_t pos = 0;
  for (size_t n : cuts) {
    conn.OnInput(stream.substr(pos, n), service, now);
    pos += n;
    // Send a little now and then, as a loop would.
    if (n % 3 == 0) {
      const std::string_view s = conn.PrepareSend();
      r.out.append(s.substr(0, s.size() / 2));
      conn.OnSent(s.size() / 2, now);
    }
  }
  const std::string_view s = conn.PrepareSend();
  r.out.append(s);
  conn.OnSent(s.size(), now);
  r.closed = conn.drain_reason() == server::Connection::DrainReason::kProtocolError;
  FUZZ_CHECK(!r.closed || conn.ShouldClose());
  return r;
}

// Checks the responses against the requests the codec finds in `stream`.
void CheckResponses(std::string_view stream, const Outcome& r) {
  std::string_view out = r.out;
  bool saw_error = false;
  while (!stream.empty()) {
    protocol::RequestFrame req;
    size_t used = 0;
    const protocol::FrameStatus st = protocol::NextRequestFrame(stream, &req, &used);
    if (st == protocol::FrameStatus::kNeedMore) break;
    FUZZ_CHECK(out.size() >= protocol::kHeaderSize);
    const protocol::FrameHeader h = protocol::DecodeHeader(out.data());
    FUZZ_CHECK(out.size() >= protocol::kHeaderSize + h.body_len);
    const std::string_view body = out.substr(protocol::kHeaderSize, h.body_len);
    out.remove_prefix(protocol::kHeaderSize + h.body_len);
    FUZZ_CHECK(h.request_id == req.header.request_id);
    FUZZ_CHECK(h.opcode == req.header.opcode);
    protocol::ValidateRequest vr;
    const bool bad = st == protocol::FrameStatus::kProtocolError ||
                     (req.header.opcode == protocol::kOpValidate &&
                      !protocol::DecodeValidateRequest(req.body, &vr));
    if (bad) {
      FUZZ_CHECK(protocol::IsProtocolErrorBody(body));
      FUZZ_CHECK(h.version == req.header.version);
      FUZZ_CHECK(h.flags == req.header.flags);
      saw_error = true;
      break;
    }
    FUZZ_CHECK(h.version == protocol::kVersion);
    FUZZ_CHECK(h.flags == 0);
    if (h.opcode == protocol::kOpPing) {
      FUZZ_CHECK(body.empty());
    } else {
      protocol::ValidateResponse v;
      FUZZ_CHECK(protocol::DecodeValidateResponse(body, &v));
      if (v.status != 0) FUZZ_CHECK(v.subject.empty() && v.claims.empty());
      if ((req.header.flags & protocol::kFlagWantClaims) == 0) FUZZ_CHECK(v.claims.empty());
    }
    stream.remove_prefix(used);
  }
  FUZZ_CHECK(out.empty());
  FUZZ_CHECK(r.closed == saw_error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::vector<size_t> whole = {stream.size()};
  const std::vector<size_t> chunks = tokend::fuzz::Cuts(stream.size(), data[0]);

  const Outcome ref = FeedService(stream, whole);
  CheckResponses(stream, ref);
  const Outcome a = FeedService(stream, chunks);
  FUZZ_CHECK(a.out == ref.out && a.closed == ref.closed);
  const Outcome b = FeedConnection(stream, chunks);
  FUZZ_CHECK(b.out == ref.out && b.closed == ref.closed);
  const Outcome c = FeedConnection(stream, whole);
  FUZZ_CHECK(c.out == ref.out && c.closed == ref.closed);
  if (stream.size() <= 4096) {
    const std::vector<size_t> bytes(stream.size(), 1);
    const Outcome d = FeedService(stream, bytes);
    FUZZ_CHECK(d.out == ref.out && d.closed == ref.closed);
  }
  return 0;
}
