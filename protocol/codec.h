// SPDX-License-Identifier: Apache-2.0
// codec.h
//
// Pure encode/decode of the tokend wire protocol, version 1
// (docs/protocol.md). No file
// descriptors, no allocation beyond appending to the caller's string, no
// state: thread-safe. Shared by the server and the client library.
#ifndef TOKEND_PROTOCOL_CODEC_H_
#define TOKEND_PROTOCOL_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tokend::protocol {

inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kOpValidate = 1;
inline constexpr uint8_t kOpPing = 2;
inline constexpr size_t kHeaderSize = 12;
inline constexpr uint32_t kMaxBodySize = 65536;
inline constexpr uint16_t kFlagWantClaims = 1;
inline constexpr uint8_t kProtocolErrorByte = 255;
// Fixed part of a VALIDATE request body (token_len, audience_len).
inline constexpr size_t kValidateRequestFixed = 4;
// Fixed part of a VALIDATE response body (status .. claims_len).
inline constexpr size_t kValidateResponseFixed = 16;

struct FrameHeader {
  uint32_t body_len = 0;
  uint8_t version = kVersion;
  uint8_t opcode = 0;
  uint16_t flags = 0;
  uint32_t request_id = 0;
};

// REQUIRES: `p` points at kHeaderSize readable bytes.
FrameHeader DecodeHeader(const char* p);
// Appends the 12 header bytes.
void AppendHeader(std::string* out, const FrameHeader& h);

// A complete request frame, viewing the caller's buffer.
struct RequestFrame {
  FrameHeader header;
  std::string_view body;
};

enum class FrameStatus {
  kNeedMore,       // fewer bytes than a whole frame; nothing consumed
  kFrame,          // *frame is a whole frame of `*consumed` bytes
  kProtocolError,  // the header is invalid (version, opcode, body_len);
                   // frame->header holds it, the body is not awaited
};

// NextRequestFrame()
//
// Looks at the front of `in`. A bad version, an unknown opcode or a body
// longer than kMaxBodySize is a protocol error as soon as the 12 header
// bytes are in: the body is never waited for.
FrameStatus NextRequestFrame(std::string_view in, RequestFrame* frame, size_t* consumed);

// VALIDATE request body.
struct ValidateRequest {
  std::string_view token;
  std::string_view audience;  // empty: no per-request audience
};

// DecodeValidateRequest()
//
// False when token_len + audience_len + 4 != body.size() (a protocol error).
[[nodiscard]] bool DecodeValidateRequest(std::string_view body, ValidateRequest* out);

// Client side: appends a whole request frame.
void AppendValidateRequest(std::string* out, uint32_t request_id, uint16_t flags,
                           std::string_view token, std::string_view audience);
void AppendPingRequest(std::string* out, uint32_t request_id);

// VALIDATE response body fields.
struct ValidateResponse {
  uint8_t status = 0;
  uint8_t alg = 0;
  int64_t exp = 0;
  std::string_view subject;  // sent only when status is 0 (OK)
  std::string_view claims;   // sent only when status is 0 (OK)
};

// Server side: appends a whole response frame. The subject and claims of a
// non-OK response are dropped, as the protocol requires.
void AppendValidateResponse(std::string* out, uint32_t request_id, const ValidateResponse& r);
void AppendPingResponse(std::string* out, uint32_t request_id);
// The one-byte 255 answer to a frame the server cannot process: the
// request's header fields echoed, body_len 1.
void AppendProtocolError(std::string* out, const FrameHeader& request);

// NextResponseFrame()
//
// Client side: the front response frame of `in`, or kNeedMore. A response
// header with a version other than 1 or a body over kMaxBodySize + the
// response overhead is kProtocolError.
FrameStatus NextResponseFrame(std::string_view in, RequestFrame* frame, size_t* consumed);

// DecodeValidateResponse()
//
// False when the body's lengths are inconsistent.
[[nodiscard]] bool DecodeValidateResponse(std::string_view body, ValidateResponse* out);

// IsProtocolErrorBody()
//
// True for the one-byte body 255 that a protocol error carries.
inline bool IsProtocolErrorBody(std::string_view body) {
  return body.size() == 1 && static_cast<uint8_t>(body[0]) == kProtocolErrorByte;
}

}  // namespace tokend::protocol

#endif  // TOKEND_PROTOCOL_CODEC_H_
