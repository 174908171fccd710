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

size_t Service::HandleFrames(std::string_view in, std::string* out, bool* close) {
  *close = false;
  size_t pos = 0;
  // Two clock reads per call (none when no frame is complete), whatever the
  // number of frames answered.
  uint64_t start = 0;
  uint64_t answered = 0;
  while (true) {
    protocol::RequestFrame frame;
    size_t consumed = 0;
    const protocol::FrameStatus st = protocol::NextRequestFrame(in.substr(pos), &frame, &consumed);
    if (st == protocol::FrameStatus::kNeedMore) break;
    if (answered++ == 0) start = clock_();
    if (st == protocol::FrameStatus::kProtocolError) {
      protocol::AppendProtocolError(out, frame.header);
      ServiceCounters::Bump(counters_.protocol_errors);
      *close = true;
      pos += consumed;
      break;
    }
    const protocol::FrameHeader& h = frame.header;
    if (h.opcode == protocol::kOpPing) {
      protocol::AppendPingResponse(out, h.request_id);
      ServiceCounters::Bump(counters_.ping_requests);
    } else {  // kOpValidate: NextRequestFrame admits no other opcode.
      protocol::ValidateRequest req;
      if (!protocol::DecodeValidateRequest(frame.body, &req)) {
        protocol::AppendProtocolError(out, h);
        ServiceCounters::Bump(counters_.protocol_errors);
        *close = true;
        pos += consumed;
        break;
      }
      const bool want_claims = (h.flags & protocol::kFlagWantClaims) != 0;
      const RequestValidator::Outcome o =
          validator_->Validate(req.token, req.audience, want_claims);
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
    pos += consumed;
  }
  if (answered > 0) counters_.latency.Record(clock_() - start, answered);
  return pos;
}

}  // namespace tokend::server
