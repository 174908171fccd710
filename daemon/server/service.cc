// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/service.h"

#include <cassert>
#include <utility>

#include "protocol/codec.h"

namespace tokend::server {

Service::Service(std::unique_ptr<RequestValidator> validator, NanoClock clock)
    : validator_(std::move(validator)), clock_(clock) {
  assert(validator_ != nullptr);
}

struct Service::Decoded {
  protocol::FrameHeader header;
  protocol::ValidateRequest req;  // for VALIDATE
  size_t consumed = 0;
};

size_t Service::HandleFrames(std::string_view in, std::string* out, bool* close) {
  *close = false;
  size_t pos = 0;
  // Two clock reads per call (none when no frame is complete), whatever the
  // number of frames answered.
  uint64_t start = 0;
  uint64_t answered = 0;
  // Frames are decoded a group at a time (up to kMaxPrepared well-formed
  // frames), the group's tokens go to the validator's Prepare() together,
  // then each frame is answered in order. A frame that is incomplete or
  // malformed ends the group; after the group's answers, a malformed one
  // gets the protocol-error response and ends the call.
  std::array<Decoded, RequestValidator::kMaxPrepared> group;
  std::array<std::string_view, RequestValidator::kMaxPrepared> tokens;
  while (true) {
    size_t n = 0;
    size_t scan = pos;
    protocol::FrameStatus st = protocol::FrameStatus::kFrame;
    bool bad_body = false;
    protocol::RequestFrame frame;
    size_t consumed = 0;
    while (n < group.size()) {
      st = protocol::NextRequestFrame(in.substr(scan), &frame, &consumed);
      if (st != protocol::FrameStatus::kFrame) break;
      Decoded& d = group[n];
      d.header = frame.header;
      d.consumed = consumed;
      // NextRequestFrame admits PING and VALIDATE only.
      if (frame.header.opcode != protocol::kOpPing &&
          !protocol::DecodeValidateRequest(frame.body, &d.req)) {
        bad_body = true;
        break;
      }
      scan += consumed;
      ++n;
    }
    if (n > 0 || st == protocol::FrameStatus::kProtocolError || bad_body) {
      if (answered == 0) start = clock_();
    }
    size_t prepared = 0;
    for (size_t i = 0; i < n; ++i) {
      if (group[i].header.opcode == protocol::kOpValidate) tokens[prepared++] = group[i].req.token;
    }
    if (prepared > 0) validator_->Prepare(std::span(tokens.data(), prepared));
    for (size_t i = 0; i < n; ++i) {
      Answer(group[i], out);
      pos += group[i].consumed;
      ++answered;
    }
    if (st == protocol::FrameStatus::kProtocolError || bad_body) {
      protocol::AppendProtocolError(out, frame.header);
      ServiceCounters::Bump(counters_.protocol_errors);
      *close = true;
      pos += consumed;
      ++answered;
      break;
    }
    if (st == protocol::FrameStatus::kNeedMore) break;
  }
  if (answered > 0) counters_.latency.Record(clock_() - start, answered);
  return pos;
}

void Service::Answer(const Decoded& d, std::string* out) {
  const protocol::FrameHeader& h = d.header;
  if (h.opcode == protocol::kOpPing) {
    protocol::AppendPingResponse(out, h.request_id);
    ServiceCounters::Bump(counters_.ping_requests);
    return;
  }
  const bool want_claims = (h.flags & protocol::kFlagWantClaims) != 0;
  const RequestValidator::Outcome o =
      validator_->Validate(d.req.token, d.req.audience, want_claims);
  protocol::ValidateResponse resp;
  resp.status = o.status;
  resp.alg = o.alg;
  resp.exp = o.exp;
  resp.subject = o.subject;
  if (want_claims) resp.claims = o.claims;
  protocol::AppendValidateResponse(out, h.request_id, resp);
  ServiceCounters::Bump(counters_.validate_requests);
  counters_.CountStatus(o.status);
  counters_.CountKind(o.alg, o.status);
  if (o.cache_hit) ServiceCounters::Bump(counters_.cache_hits);
}

}  // namespace tokend::server
