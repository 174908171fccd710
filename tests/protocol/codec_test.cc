// SPDX-License-Identifier: Apache-2.0
// Byte-exact tests of the wire codec against docs/protocol.md.
#include "protocol/codec.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace tokend::protocol {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

std::string Header(uint32_t body_len, uint8_t version, uint8_t opcode, uint16_t flags,
                   uint32_t id) {
  FrameHeader h;
  h.body_len = body_len;
  h.version = version;
  h.opcode = opcode;
  h.flags = flags;
  h.request_id = id;
  std::string s;
  AppendHeader(&s, h);
  return s;
}

TEST(CodecTest, PingRequestIsTheProtocolExample) {
  std::string out;
  AppendPingRequest(&out, 7);
  EXPECT_EQ(out, Bytes({0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00}));
}

TEST(CodecTest, PingResponseIsTheSameTwelveBytes) {
  std::string out;
  AppendPingResponse(&out, 7);
  EXPECT_EQ(out, Bytes({0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00}));
}

TEST(CodecTest, HeaderIsLittleEndianInFieldOrder) {
  const std::string h = Header(0x04030201, 1, 1, 0x0605, 0x0a090807);
  EXPECT_EQ(h, Bytes({0x01, 0x02, 0x03, 0x04, 0x01, 0x01, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a}));
  const FrameHeader d = DecodeHeader(h.data());
  EXPECT_EQ(d.body_len, 0x04030201u);
  EXPECT_EQ(d.version, 1);
  EXPECT_EQ(d.opcode, 1);
  EXPECT_EQ(d.flags, 0x0605);
  EXPECT_EQ(d.request_id, 0x0a090807u);
}

TEST(CodecTest, DecodeHeaderReadsHighBytesUnsigned) {
  const std::string h =
      Bytes({0xff, 0xff, 0xff, 0xff, 0xfe, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  const FrameHeader d = DecodeHeader(h.data());
  EXPECT_EQ(d.body_len, 0xffffffffu);
  EXPECT_EQ(d.version, 0xfe);
  EXPECT_EQ(d.opcode, 0xfd);
  EXPECT_EQ(d.flags, 0xffff);
  EXPECT_EQ(d.request_id, 0xffffffffu);
}

TEST(CodecTest, ValidateRequestIsByteExact) {
  std::string out;
  AppendValidateRequest(&out, 0x01020304, kFlagWantClaims, "abc", "de");
  EXPECT_EQ(out, Bytes({0x09, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x04, 0x03, 0x02,
                        0x01, 0x03, 0x00, 0x02, 0x00, 'a',  'b',  'c',  'd',  'e'}));
}

TEST(CodecTest, ValidateResponseOkIsByteExact) {
  std::string out;
  ValidateResponse r;
  r.status = 0;
  r.alg = 1;
  r.exp = 0x0102030405060708;
  r.subject = "bob";
  r.claims = "{}";
  AppendValidateResponse(&out, 9, r);
  EXPECT_EQ(out, Bytes({0x15, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x09, 0x00, 0x00,
                        0x00, 0x00, 0x01, 0x03, 0x00, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03,
                        0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 'b',  'o',  'b',  '{',  '}'}));
}

TEST(CodecTest, ValidateResponseNegativeExpIsTwosComplement) {
  std::string out;
  ValidateResponse r;
  r.status = 5;
  r.exp = -1;
  AppendValidateResponse(&out, 1, r);
  ASSERT_EQ(out.size(), kHeaderSize + kValidateResponseFixed);
  EXPECT_EQ(out.substr(kHeaderSize + 4, 8), std::string(8, '\xff'));
  RequestFrame f;
  size_t used = 0;
  ASSERT_EQ(NextResponseFrame(out, &f, &used), FrameStatus::kFrame);
  ValidateResponse d;
  ASSERT_TRUE(DecodeValidateResponse(f.body, &d));
  EXPECT_EQ(d.exp, -1);
}

TEST(CodecTest, NonOkResponseDropsSubjectAndClaims) {
  std::string out;
  ValidateResponse r;
  r.status = 2;  // BAD_SIGNATURE
  r.alg = 1;
  r.subject = "mallory";
  r.claims = "{\"sub\":\"mallory\"}";
  AppendValidateResponse(&out, 3, r);
  EXPECT_EQ(out, Bytes({0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x03, 0x00,
                        0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));
}

TEST(CodecTest, ProtocolErrorEchoesTheHeaderWithBody255) {
  FrameHeader bad;
  bad.body_len = 70000;
  bad.version = 9;
  bad.opcode = 77;
  bad.flags = 0xabcd;
  bad.request_id = 0x11223344;
  std::string out;
  AppendProtocolError(&out, bad);
  EXPECT_EQ(out,
            Bytes({0x01, 0x00, 0x00, 0x00, 0x09, 0x4d, 0xcd, 0xab, 0x44, 0x33, 0x22, 0x11, 0xff}));
  EXPECT_TRUE(IsProtocolErrorBody(std::string_view(out).substr(kHeaderSize)));
}

TEST(CodecTest, IsProtocolErrorBodyIsExactlyOneByte255) {
  EXPECT_TRUE(IsProtocolErrorBody("\xff"));
  EXPECT_FALSE(IsProtocolErrorBody(""));
  EXPECT_FALSE(IsProtocolErrorBody("\xfe"));
  EXPECT_FALSE(IsProtocolErrorBody("\xff\xff"));
}

TEST(CodecTest, PingExampleDecodesAsOneFrame) {
  const std::string in =
      Bytes({0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00});
  RequestFrame f;
  size_t used = 0;
  ASSERT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kFrame);
  EXPECT_EQ(used, 12u);
  EXPECT_EQ(f.header.opcode, kOpPing);
  EXPECT_EQ(f.header.request_id, 7u);
  EXPECT_TRUE(f.body.empty());
}

TEST(CodecTest, EveryProperPrefixOfAFrameNeedsMore) {
  std::string in;
  AppendValidateRequest(&in, 5, 0, "header.payload.sig", "aud");
  for (size_t n = 0; n < in.size(); ++n) {
    RequestFrame f;
    size_t used = 12345;
    EXPECT_EQ(NextRequestFrame(std::string_view(in).substr(0, n), &f, &used),
              FrameStatus::kNeedMore)
        << "prefix " << n;
    EXPECT_EQ(used, 12345u) << "nothing consumed at prefix " << n;
  }
  RequestFrame f;
  size_t used = 0;
  ASSERT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kFrame);
  EXPECT_EQ(used, in.size());
}

TEST(CodecTest, FrameStopsAtItsBodyAndLeavesTheRest) {
  std::string in;
  AppendValidateRequest(&in, 1, 0, "tok", "");
  const size_t first = in.size();
  AppendPingRequest(&in, 2);
  RequestFrame f;
  size_t used = 0;
  ASSERT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kFrame);
  EXPECT_EQ(used, first);
  EXPECT_EQ(f.body.size(), first - kHeaderSize);
  ASSERT_EQ(NextRequestFrame(std::string_view(in).substr(used), &f, &used), FrameStatus::kFrame);
  EXPECT_EQ(f.header.request_id, 2u);
}

TEST(CodecTest, BadVersionIsAProtocolError) {
  for (int v : {0, 2, 255}) {
    const std::string in = Header(0, static_cast<uint8_t>(v), kOpPing, 0, 1);
    RequestFrame f;
    size_t used = 0;
    EXPECT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kProtocolError) << v;
    EXPECT_EQ(f.header.version, v);
    EXPECT_EQ(used, kHeaderSize);
  }
}

TEST(CodecTest, UnknownOpcodeIsAProtocolError) {
  for (int op : {0, 3, 4, 128, 255}) {
    const std::string in = Header(0, 1, static_cast<uint8_t>(op), 0, 1);
    RequestFrame f;
    size_t used = 0;
    EXPECT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kProtocolError) << op;
    EXPECT_EQ(f.header.opcode, op);
  }
}

TEST(CodecTest, BodyOf65536IsAwaitedAndAccepted) {
  std::string in = Header(kMaxBodySize, 1, kOpPing, 0, 1);
  RequestFrame f;
  size_t used = 0;
  EXPECT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kNeedMore);
  in.append(kMaxBodySize - 1, 'x');
  EXPECT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kNeedMore);
  in.push_back('x');
  ASSERT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kFrame);
  EXPECT_EQ(f.body.size(), 65536u);
  EXPECT_EQ(used, kHeaderSize + 65536u);
}

TEST(CodecTest, BodyOf65537IsAProtocolErrorWithoutWaitingForTheBody) {
  const std::string in = Header(kMaxBodySize + 1, 1, kOpValidate, 0, 42);
  RequestFrame f;
  size_t used = 0;
  ASSERT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kProtocolError);
  EXPECT_EQ(f.header.body_len, 65537u);
  EXPECT_EQ(f.header.request_id, 42u);
  EXPECT_EQ(used, kHeaderSize);
  const std::string huge = Header(0xffffffff, 1, kOpPing, 0, 1);
  EXPECT_EQ(NextRequestFrame(huge, &f, &used), FrameStatus::kProtocolError);
}

TEST(CodecTest, HeaderErrorIsReportedBeforeItsBodyArrives) {
  // Eleven bytes are not yet a header: no verdict.
  const std::string in = Header(0, 7, kOpPing, 0, 1);
  RequestFrame f;
  size_t used = 0;
  EXPECT_EQ(NextRequestFrame(std::string_view(in).substr(0, 11), &f, &used),
            FrameStatus::kNeedMore);
  EXPECT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kProtocolError);
}

TEST(CodecTest, ValidateRequestDecodesTokenAndAudience) {
  std::string in;
  AppendValidateRequest(&in, 1, 0, "a.b.c", "svc");
  RequestFrame f;
  size_t used = 0;
  ASSERT_EQ(NextRequestFrame(in, &f, &used), FrameStatus::kFrame);
  ValidateRequest r;
  ASSERT_TRUE(DecodeValidateRequest(f.body, &r));
  EXPECT_EQ(r.token, "a.b.c");
  EXPECT_EQ(r.audience, "svc");
}

TEST(CodecTest, ValidateRequestWithEmptyTokenAndAudienceDecodes) {
  ValidateRequest r;
  ASSERT_TRUE(DecodeValidateRequest(Bytes({0, 0, 0, 0}), &r));
  EXPECT_TRUE(r.token.empty());
  EXPECT_TRUE(r.audience.empty());
}

TEST(CodecTest, InconsistentValidateLengthsAreRejected) {
  ValidateRequest r;
  // Shorter than the fixed part.
  for (size_t n = 0; n < kValidateRequestFixed; ++n) {
    EXPECT_FALSE(DecodeValidateRequest(std::string(n, '\0'), &r)) << n;
  }
  // token_len 3 + audience_len 0 + 4 = 7, body 8: one byte too many.
  EXPECT_FALSE(DecodeValidateRequest(Bytes({3, 0, 0, 0, 'a', 'b', 'c', 'd'}), &r));
  // ... and one too few.
  EXPECT_FALSE(DecodeValidateRequest(Bytes({3, 0, 0, 0, 'a', 'b'}), &r));
  // audience_len too large.
  EXPECT_FALSE(DecodeValidateRequest(Bytes({1, 0, 5, 0, 'a', 'b'}), &r));
  // Both at 0xffff with a short body: no overflow into acceptance.
  EXPECT_FALSE(DecodeValidateRequest(Bytes({0xff, 0xff, 0xff, 0xff, 'a'}), &r));
  EXPECT_TRUE(DecodeValidateRequest(Bytes({3, 0, 1, 0, 'a', 'b', 'c', 'd'}), &r));
}

TEST(CodecTest, ValidateResponseRoundTrips) {
  ValidateResponse r;
  r.status = 0;
  r.alg = 3;
  r.exp = 1700000000;
  r.subject = "user-1";
  r.claims = R"({"sub":"user-1"})";
  std::string out;
  AppendValidateResponse(&out, 77, r);
  RequestFrame f;
  size_t used = 0;
  ASSERT_EQ(NextResponseFrame(out, &f, &used), FrameStatus::kFrame);
  EXPECT_EQ(used, out.size());
  EXPECT_EQ(f.header.request_id, 77u);
  EXPECT_EQ(f.header.flags, 0);
  ValidateResponse d;
  ASSERT_TRUE(DecodeValidateResponse(f.body, &d));
  EXPECT_EQ(d.status, 0);
  EXPECT_EQ(d.alg, 3);
  EXPECT_EQ(d.exp, 1700000000);
  EXPECT_EQ(d.subject, "user-1");
  EXPECT_EQ(d.claims, R"({"sub":"user-1"})");
}

TEST(CodecTest, InconsistentValidateResponseIsRejected) {
  std::string out;
  ValidateResponse r;
  r.subject = "abc";
  AppendValidateResponse(&out, 1, r);
  std::string body = out.substr(kHeaderSize);
  ValidateResponse d;
  ASSERT_TRUE(DecodeValidateResponse(body, &d));
  EXPECT_FALSE(DecodeValidateResponse(body.substr(0, body.size() - 1), &d));
  EXPECT_FALSE(DecodeValidateResponse(body + "x", &d));
  EXPECT_FALSE(DecodeValidateResponse(body.substr(0, kValidateResponseFixed - 1), &d));
}

TEST(CodecTest, ResponseWithBadVersionIsAProtocolError) {
  const std::string in = Header(0, 2, kOpPing, 0, 1);
  RequestFrame f;
  size_t used = 0;
  EXPECT_EQ(NextResponseFrame(in, &f, &used), FrameStatus::kProtocolError);
}

TEST(CodecTest, ResponseLargerThanAnyRequestCouldCauseIsAProtocolError) {
  const std::string in = Header(0x7fffffff, 1, kOpValidate, 0, 1);
  RequestFrame f;
  size_t used = 0;
  EXPECT_EQ(NextResponseFrame(in, &f, &used), FrameStatus::kProtocolError);
}

}  // namespace
}  // namespace tokend::protocol
