// SPDX-License-Identifier: Apache-2.0
#include "protocol/codec.h"

#include <cstring>

namespace tokend::protocol {
namespace {

uint16_t Load16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}

uint32_t Load32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

uint64_t Load64(const char* p) {
  return static_cast<uint64_t>(Load32(p)) | (static_cast<uint64_t>(Load32(p + 4)) << 32);
}

void Put16(std::string* out, uint16_t v) {
  char b[2] = {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  out->append(b, 2);
}

void Put32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}

void Put64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 8);
}

bool IsKnownOpcode(uint8_t op) { return op == kOpValidate || op == kOpPing; }

// The largest response body: fixed part, a subject and claims each bounded
// by what a request could carry.
constexpr uint64_t kMaxResponseBody = kValidateResponseFixed + 2ull * kMaxBodySize;

}  // namespace

FrameHeader DecodeHeader(const char* p) {
  FrameHeader h;
  h.body_len = Load32(p);
  h.version = static_cast<uint8_t>(p[4]);
  h.opcode = static_cast<uint8_t>(p[5]);
  h.flags = Load16(p + 6);
  h.request_id = Load32(p + 8);
  return h;
}

void AppendHeader(std::string* out, const FrameHeader& h) {
  Put32(out, h.body_len);
  out->push_back(static_cast<char>(h.version));
  out->push_back(static_cast<char>(h.opcode));
  Put16(out, h.flags);
  Put32(out, h.request_id);
}

FrameStatus NextRequestFrame(std::string_view in, RequestFrame* frame, size_t* consumed) {
  if (in.size() < kHeaderSize) return FrameStatus::kNeedMore;
  frame->header = DecodeHeader(in.data());
  const FrameHeader& h = frame->header;
  if (h.version != kVersion || !IsKnownOpcode(h.opcode) || h.body_len > kMaxBodySize) {
    *consumed = kHeaderSize;
    return FrameStatus::kProtocolError;
  }
  if (in.size() - kHeaderSize < h.body_len) return FrameStatus::kNeedMore;
  frame->body = in.substr(kHeaderSize, h.body_len);
  *consumed = kHeaderSize + h.body_len;
  return FrameStatus::kFrame;
}

bool DecodeValidateRequest(std::string_view body, ValidateRequest* out) {
  if (body.size() < kValidateRequestFixed) return false;
  const size_t token_len = Load16(body.data());
  const size_t audience_len = Load16(body.data() + 2);
  if (token_len + audience_len + kValidateRequestFixed != body.size()) return false;
  out->token = body.substr(kValidateRequestFixed, token_len);
  out->audience = body.substr(kValidateRequestFixed + token_len, audience_len);
  return true;
}

void AppendValidateRequest(std::string* out, uint32_t request_id, uint16_t flags,
                           std::string_view token, std::string_view audience) {
  FrameHeader h;
  h.body_len = static_cast<uint32_t>(kValidateRequestFixed + token.size() + audience.size());
  h.opcode = kOpValidate;
  h.flags = flags;
  h.request_id = request_id;
  AppendHeader(out, h);
  Put16(out, static_cast<uint16_t>(token.size()));
  Put16(out, static_cast<uint16_t>(audience.size()));
  out->append(token);
  out->append(audience);
}

void AppendPingRequest(std::string* out, uint32_t request_id) {
  FrameHeader h;
  h.opcode = kOpPing;
  h.request_id = request_id;
  AppendHeader(out, h);
}

void AppendValidateResponse(std::string* out, uint32_t request_id, const ValidateResponse& r) {
  const bool ok = r.status == 0;
  const std::string_view subject = ok ? r.subject : std::string_view();
  const std::string_view claims = ok ? r.claims : std::string_view();
  FrameHeader h;
  h.body_len = static_cast<uint32_t>(kValidateResponseFixed + subject.size() + claims.size());
  h.opcode = kOpValidate;
  h.request_id = request_id;
  AppendHeader(out, h);
  out->push_back(static_cast<char>(r.status));
  out->push_back(static_cast<char>(r.alg));
  Put16(out, static_cast<uint16_t>(subject.size()));
  Put64(out, static_cast<uint64_t>(r.exp));
  Put32(out, static_cast<uint32_t>(claims.size()));
  out->append(subject);
  out->append(claims);
}

void AppendPingResponse(std::string* out, uint32_t request_id) {
  FrameHeader h;
  h.opcode = kOpPing;
  h.request_id = request_id;
  AppendHeader(out, h);
}

void AppendProtocolError(std::string* out, const FrameHeader& request) {
  FrameHeader h = request;
  h.body_len = 1;
  AppendHeader(out, h);
  out->push_back(static_cast<char>(kProtocolErrorByte));
}

FrameStatus NextResponseFrame(std::string_view in, RequestFrame* frame, size_t* consumed) {
  if (in.size() < kHeaderSize) return FrameStatus::kNeedMore;
  frame->header = DecodeHeader(in.data());
  const FrameHeader& h = frame->header;
  if (h.version != kVersion || h.body_len > kMaxResponseBody) {
    *consumed = kHeaderSize;
    return FrameStatus::kProtocolError;
  }
  if (in.size() - kHeaderSize < h.body_len) return FrameStatus::kNeedMore;
  frame->body = in.substr(kHeaderSize, h.body_len);
  *consumed = kHeaderSize + h.body_len;
  return FrameStatus::kFrame;
}

bool DecodeValidateResponse(std::string_view body, ValidateResponse* out) {
  if (body.size() < kValidateResponseFixed) return false;
  out->status = static_cast<uint8_t>(body[0]);
  out->alg = static_cast<uint8_t>(body[1]);
  const size_t subject_len = Load16(body.data() + 2);
  out->exp = static_cast<int64_t>(Load64(body.data() + 4));
  const size_t claims_len = Load32(body.data() + 12);
  if (kValidateResponseFixed + subject_len + claims_len != body.size()) return false;
  out->subject = body.substr(kValidateResponseFixed, subject_len);
  out->claims = body.substr(kValidateResponseFixed + subject_len, claims_len);
  return true;
}

}  // namespace tokend::protocol
