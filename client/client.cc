// SPDX-License-Identifier: Apache-2.0
// The C ABI of include/tokend/client.h over Connection and the protocol
// codec. Every call, ping and batch alike, runs through one pipelined
// exchange: requests are encoded a window at a time, written while the
// answers are read, and each answer is matched to its request by id.

#include "tokend/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "client/connection.h"
#include "protocol/codec.h"
#include "protocol/codes.h"

namespace proto = ::tokend::protocol;
using tokend::client::Connection;
using tokend::client::Deadline;
using tokend::client::Io;

struct tokend_client {
  std::string path;
  int timeout_ms = TOKEND_DEFAULT_TIMEOUT_MS;
  Connection conn;
  uint32_t next_id = 1;
  std::string in;   // received bytes not yet parsed
  std::string out;  // encoded requests not yet sent
  std::unique_ptr<char[]> recv_buf;
  std::string error;  // tokend_last_error()
  int sys_errno = 0;  // errno to hand back with the error
};

namespace {

constexpr size_t kRecvBufSize = 64 * 1024;
// Encoding stays this far ahead of the socket; a batch never holds all its
// frames in memory at once.
constexpr size_t kSendWindow = 64 * 1024;

void ResetResult(tokend_result* r) {
  r->status = TOKEND_STATUS_MALFORMED;
  r->status_name = tokend_status_name(r->status);
  r->alg = TOKEND_ALG_UNKNOWN;
  r->alg_name = tokend_alg_name(r->alg);
  r->exp = 0;
  r->sub = "";
  r->sub_len = 0;
  r->claims = "";
  r->claims_len = 0;
  r->internal_ = nullptr;
}

// Which requests of a call have their answer; inline for small calls.
class AnsweredSet {
 public:
  explicit AnsweredSet(size_t n) : n_(n) {
    if (n > 64) words_.assign((n + 63) / 64, 0);
  }
  bool Has(size_t i) const { return (Word(i) >> (i % 64)) & 1; }
  void Add(size_t i) {
    (n_ > 64 ? words_[i / 64] : inline_) |= uint64_t{1} << (i % 64);
    ++count_;
  }
  size_t count() const { return count_; }

 private:
  uint64_t Word(size_t i) const { return n_ > 64 ? words_[i / 64] : inline_; }
  size_t n_;
  size_t count_ = 0;
  uint64_t inline_ = 0;
  std::vector<uint64_t> words_;
};

// One call: `n` requests of one opcode (PING has no request bodies).
class Call {
 public:
  Call(uint8_t opcode, const tokend_request* requests, tokend_result* results, size_t n,
       uint32_t base_id)
      : opcode_(opcode),
        requests_(requests),
        results_(results),
        n_(n),
        base_id_(base_id),
        answered_(n) {}

  // Answers locally, without a round trip, each token too long to frame.
  void AnswerOversizedTokens() {
    for (size_t i = 0; i < n_ && opcode_ == proto::kOpValidate; ++i) {
      if (requests_[i].token_len > TOKEND_MAX_TOKEN_BYTES) {
        results_[i].status = TOKEND_STATUS_TOO_LARGE;
        results_[i].status_name = tokend_status_name(TOKEND_STATUS_TOO_LARGE);
        answered_.Add(i);
      }
    }
  }

  bool Done() const { return answered_.count() == n_; }
  bool AllEncoded() const { return next_ == n_; }
  // After a reconnect: send every unanswered request again.
  void Rewind() { next_ = 0; }

  // Appends frames of unsent requests until `out` holds kSendWindow bytes.
  void Encode(std::string* out) {
    while (next_ < n_ && out->size() < kSendWindow) {
      const size_t i = next_++;
      if (answered_.Has(i)) continue;
      const uint32_t id = base_id_ + static_cast<uint32_t>(i);
      if (opcode_ == proto::kOpPing) {
        proto::AppendPingRequest(out, id);
      } else {
        const tokend_request& r = requests_[i];
        proto::AppendValidateRequest(
            out, id, static_cast<uint16_t>(r.flags & TOKEND_WANT_CLAIMS),
            std::string_view(r.token, r.token_len),
            std::string_view(r.audience == nullptr ? "" : r.audience, r.audience_len));
      }
    }
  }

  // Takes one response frame. Returns TOKEND_OK, _PROTOCOL or _NOMEM.
  int Deliver(const proto::RequestFrame& f, std::string* error) {
    // The refusal frame (docs/protocol.md): a protocol error with opcode 0,
    // which no request has, so it can only be the daemon's answer to the
    // connection itself.
    if (f.header.opcode == 0 && proto::IsProtocolErrorBody(f.body)) {
      *error = "the daemon closed the connection at once";
      return TOKEND_ERR_REFUSED;
    }
    const uint32_t id = f.header.request_id;
    const size_t i = static_cast<uint32_t>(id - base_id_);
    if (i >= n_ || answered_.Has(i)) {
      *error = "the daemon answered request id " + std::to_string(id) +
               ", which is not pending on this connection";
      return TOKEND_ERR_PROTOCOL;
    }
    if (proto::IsProtocolErrorBody(f.body)) {
      *error = "the daemon rejected request id " + std::to_string(id) +
               " as a protocol error and closed the connection";
      return TOKEND_ERR_PROTOCOL;
    }
    if (f.header.opcode != opcode_) {
      *error = "the daemon answered request id " + std::to_string(id) + " with opcode " +
               std::to_string(f.header.opcode) + " instead of " + std::to_string(opcode_);
      return TOKEND_ERR_PROTOCOL;
    }
    if (opcode_ == proto::kOpValidate) {
      proto::ValidateResponse v;
      if (!proto::DecodeValidateResponse(f.body, &v)) {
        *error =
            "the daemon's answer to request id " + std::to_string(id) + " has inconsistent lengths";
        return TOKEND_ERR_PROTOCOL;
      }
      const bool want_claims = (requests_[i].flags & TOKEND_WANT_CLAIMS) != 0;
      if (!Fill(v, want_claims, &results_[i])) {
        *error = "out of memory";
        return TOKEND_ERR_NOMEM;
      }
    }
    answered_.Add(i);
    return TOKEND_OK;
  }

 private:
  static bool Fill(const proto::ValidateResponse& v, bool want_claims, tokend_result* r) {
    r->status = v.status;
    r->status_name = tokend_status_name(v.status);
    r->alg = v.alg;
    r->alg_name = tokend_alg_name(v.alg);
    r->exp = v.exp;
    if (v.status != TOKEND_STATUS_OK) return true;  // sub and claims come only with OK
    const std::string_view claims = want_claims ? v.claims : std::string_view();
    if (v.subject.empty() && claims.empty()) return true;
    // One block: sub '\0' claims '\0'.
    char* block = static_cast<char*>(malloc(v.subject.size() + claims.size() + 2));
    if (block == nullptr) return false;
    // (memcpy from a null view is undefined even for 0 bytes.)
    if (!v.subject.empty()) memcpy(block, v.subject.data(), v.subject.size());
    block[v.subject.size()] = '\0';
    char* c = block + v.subject.size() + 1;
    if (!claims.empty()) memcpy(c, claims.data(), claims.size());
    c[claims.size()] = '\0';
    r->sub = block;
    r->sub_len = v.subject.size();
    r->claims = c;
    r->claims_len = claims.size();
    r->internal_ = block;
    return true;
  }

  const uint8_t opcode_;
  const tokend_request* const requests_;
  tokend_result* const results_;
  const size_t n_;
  const uint32_t base_id_;
  AnsweredSet answered_;
  size_t next_ = 0;
};

// Internal result of one pass over a connection: a TOKEND_ERR_* code, or
// kLost when the daemon went away (the caller may reconnect once).
constexpr int kLost = 1;

// Parses every whole frame buffered in c->in. Returns TOKEND_OK or an error.
int ParseResponses(tokend_client* c, Call* call) {
  size_t off = 0;
  int rc = TOKEND_OK;
  while (rc == TOKEND_OK && !call->Done()) {
    proto::RequestFrame f;
    size_t consumed = 0;
    const proto::FrameStatus st =
        proto::NextResponseFrame(std::string_view(c->in).substr(off), &f, &consumed);
    if (st == proto::FrameStatus::kNeedMore) break;
    if (st == proto::FrameStatus::kProtocolError) {
      c->error = "the daemon sent a malformed frame header (version " +
                 std::to_string(f.header.version) + ", body length " +
                 std::to_string(f.header.body_len) + ")";
      return TOKEND_ERR_PROTOCOL;
    }
    off += consumed;
    rc = call->Deliver(f, &c->error);
  }
  c->in.erase(0, off);
  return rc;
}

// The daemon closed the connection while we were still sending: a refused
// peer's request can meet the closed socket (EPIPE) before the client reads
// the refusal frame waiting in its receive queue. Reads what is there
// (never blocking) and returns its error if it holds one, else kLost.
int ReadAfterLoss(tokend_client* c, Call* call) {
  std::string saved_error = c->error;
  for (;;) {
    size_t received = 0;
    const Io io = c->conn.Recv(c->recv_buf.get(), kRecvBufSize, &received, &c->error);
    if (io != Io::kDone || received == 0) break;
    c->in.append(c->recv_buf.get(), received);
  }
  const int rc = ParseResponses(c, call);
  if (rc != TOKEND_OK || call->Done()) return rc;
  c->error = std::move(saved_error);
  return kLost;
}

// Runs `call` on the open connection until it is answered or fails.
int Pump(tokend_client* c, Call* call, const Deadline& deadline) {
  c->out.clear();
  size_t out_off = 0;
  for (;;) {
    int rc = ParseResponses(c, call);
    if (rc != TOKEND_OK) return rc;
    if (call->Done()) return TOKEND_OK;
    if (deadline.Expired()) {
      c->error = "the daemon did not answer within the timeout";
      return TOKEND_ERR_TIMEOUT;
    }

    // Keep the send window full.
    if (out_off == c->out.size()) {
      c->out.clear();
      out_off = 0;
    }
    if (c->out.size() - out_off < kSendWindow / 2 && !call->AllEncoded()) {
      c->out.erase(0, out_off);
      out_off = 0;
      call->Encode(&c->out);
    }
    while (out_off < c->out.size()) {
      size_t sent = 0;
      const Io io =
          c->conn.Send(c->out.data() + out_off, c->out.size() - out_off, &sent, &c->error);
      if (io == Io::kAgain) break;
      if (io == Io::kLost) return ReadAfterLoss(c, call);
      if (io == Io::kFailed) return TOKEND_ERR_IO;
      out_off += sent;
      if (out_off == c->out.size() && !call->AllEncoded()) {
        c->out.clear();
        out_off = 0;
        call->Encode(&c->out);
      }
    }

    const bool want_write = out_off < c->out.size();
    rc = c->conn.Wait(want_write, deadline, &c->error);
    if (rc != TOKEND_OK) return rc;
    size_t received = 0;
    const Io io = c->conn.Recv(c->recv_buf.get(), kRecvBufSize, &received, &c->error);
    if (io == Io::kLost) return kLost;
    if (io == Io::kFailed) return TOKEND_ERR_IO;
    if (io == Io::kDone) c->in.append(c->recv_buf.get(), received);
  }
}

void Disconnect(tokend_client* c) {
  c->conn.Close();
  c->in.clear();
  c->out.clear();
}

// Connects if needed, pumps, and reconnects once if the daemon went away.
int Run(tokend_client* c, Call* call) {
  const Deadline deadline = Deadline::After(c->timeout_ms);
  bool reconnected = false;
  for (;;) {
    if (!c->conn.is_open()) {
      const int rc = c->conn.Connect(c->path, deadline, &c->error);
      if (rc != TOKEND_OK) return rc;
      c->in.clear();
    }
    const int rc = Pump(c, call, deadline);
    if (rc == TOKEND_OK) return rc;
    Disconnect(c);
    if (rc != kLost) return rc;
    if (reconnected) {
      c->error = "the daemon closed the connection again after a reconnect (" + c->error + ")";
      return TOKEND_ERR_DISCONNECTED;
    }
    reconnected = true;
    call->Rewind();
  }
}

// Runs one call on `c` with the C ABI's error conventions.
int RunCall(tokend_client* c, uint8_t opcode, const tokend_request* requests,
            tokend_result* results, size_t n) {
  for (size_t i = 0; i < n && results != nullptr; ++i) ResetResult(&results[i]);
  c->error.clear();
  c->sys_errno = 0;
  int rc;
  try {
    Call call(opcode, requests, results, n, c->next_id);
    c->next_id += static_cast<uint32_t>(n);
    call.AnswerOversizedTokens();
    rc = call.Done() ? TOKEND_OK : Run(c, &call);
  } catch (...) {  // std::bad_alloc from a string or vector: no exception crosses the C ABI
    Disconnect(c);
    c->error = "out of memory";
    rc = TOKEND_ERR_NOMEM;
  }
  if (rc != TOKEND_OK) {
    c->sys_errno = errno;
    for (size_t i = 0; i < n && results != nullptr; ++i) tokend_result_clear(&results[i]);
    errno = c->sys_errno;
  }
  return rc;
}

int SetError(tokend_client* c, const char* message) {
  if (c != nullptr) c->error = message;
  errno = EINVAL;
  return TOKEND_ERR_INVALID;
}

bool AudienceFits(const tokend_request& r) {
  return r.token_len > TOKEND_MAX_TOKEN_BYTES ||
         r.audience_len <= TOKEND_MAX_TOKEN_BYTES - r.token_len;
}

}  // namespace

extern "C" {

int tokend_connect(const char* path, int timeout_ms, tokend_client** out) {
  if (out == nullptr) return SetError(nullptr, "out is NULL");
  *out = nullptr;
  if (timeout_ms < 0) return SetError(nullptr, "negative timeout");
  tokend_client* c = nullptr;
  try {
    std::unique_ptr<tokend_client> h(new tokend_client);
    if (path != nullptr && path[0] != '\0') {
      h->path = path;
    } else {
      const char* env = getenv("TOKEND_SOCKET");
      h->path = env != nullptr && env[0] != '\0' ? env : TOKEND_DEFAULT_SOCKET;
    }
    h->timeout_ms = timeout_ms == 0 ? TOKEND_DEFAULT_TIMEOUT_MS : timeout_ms;
    h->recv_buf.reset(new char[kRecvBufSize]);
    c = h.release();
  } catch (...) {
    errno = ENOMEM;
    return TOKEND_ERR_NOMEM;
  }
  const int rc = c->conn.Connect(c->path, Deadline::After(c->timeout_ms), &c->error);
  if (rc != TOKEND_OK) {
    const int err = errno;
    delete c;
    errno = err;
    return rc;
  }
  *out = c;
  return TOKEND_OK;
}

void tokend_close(tokend_client* c) { delete c; }

int tokend_set_timeout(tokend_client* c, int timeout_ms) {
  if (c == nullptr) return SetError(nullptr, "client is NULL");
  if (timeout_ms < 0) return SetError(c, "negative timeout");
  c->timeout_ms = timeout_ms == 0 ? TOKEND_DEFAULT_TIMEOUT_MS : timeout_ms;
  return TOKEND_OK;
}

int tokend_validate(tokend_client* c, const char* token, size_t token_len, const char* audience,
                    size_t audience_len, int flags, tokend_result* out) {
  if (out != nullptr) ResetResult(out);
  if (c == nullptr) return SetError(nullptr, "client is NULL");
  if (out == nullptr) return SetError(c, "result is NULL");
  if (token == nullptr && token_len != 0) return SetError(c, "token is NULL");
  if (audience == nullptr && audience_len != 0) return SetError(c, "audience is NULL");
  const tokend_request r{token == nullptr ? "" : token, token_len, audience, audience_len, flags};
  if (!AudienceFits(r)) return SetError(c, "token and audience together exceed the frame limit");
  return RunCall(c, proto::kOpValidate, &r, out, 1);
}

int tokend_validate_batch(tokend_client* c, const tokend_request* requests, tokend_result* results,
                          size_t n) {
  if (c == nullptr) return SetError(nullptr, "client is NULL");
  if (n == 0) return TOKEND_OK;
  if (requests == nullptr || results == nullptr) return SetError(c, "requests or results is NULL");
  for (size_t i = 0; i < n; ++i) ResetResult(&results[i]);
  if (n > UINT32_MAX) return SetError(c, "a batch holds at most 2^32 - 1 requests");
  for (size_t i = 0; i < n; ++i) {
    const tokend_request& r = requests[i];
    if ((r.token == nullptr && r.token_len != 0) ||
        (r.audience == nullptr && r.audience_len != 0)) {
      c->error = "request " + std::to_string(i) + " has a NULL token or audience";
      errno = EINVAL;
      return TOKEND_ERR_INVALID;
    }
    if (!AudienceFits(r)) {
      c->error = "request " + std::to_string(i) + ": token and audience exceed the frame limit";
      errno = EINVAL;
      return TOKEND_ERR_INVALID;
    }
  }
  return RunCall(c, proto::kOpValidate, requests, results, n);
}

int tokend_ping(tokend_client* c) {
  if (c == nullptr) return SetError(nullptr, "client is NULL");
  return RunCall(c, proto::kOpPing, nullptr, nullptr, 1);
}

void tokend_result_clear(tokend_result* r) {
  if (r == nullptr) return;
  free(r->internal_);
  ResetResult(r);
}

const char* tokend_last_error(const tokend_client* c) {
  return c == nullptr ? "" : c->error.c_str();
}

const char* tokend_strerror(int err) {
  switch (err) {
    case TOKEND_OK:
      return "success";
    case TOKEND_ERR_INVALID:
      return "invalid argument";
    case TOKEND_ERR_NO_DAEMON:
      return "no tokend daemon listens on the socket (is tokend running? is the path right? "
             "set it with --socket or TOKEND_SOCKET)";
    case TOKEND_ERR_PERMISSION:
      return "permission denied on the tokend socket (run as a member of the socket's group)";
    case TOKEND_ERR_CONNECT:
      return "cannot connect to the tokend socket";
    case TOKEND_ERR_TIMEOUT:
      return "tokend did not answer within the timeout (check the daemon's log, or raise the "
             "timeout)";
    case TOKEND_ERR_DISCONNECTED:
      return "tokend closed the connection (is the daemon restarting or crashing? check its log)";
    case TOKEND_ERR_IO:
      return "I/O error on the tokend socket";
    case TOKEND_ERR_PROTOCOL:
      return "tokend sent an answer this client cannot read (are the daemon and client "
             "versions compatible?)";
    case TOKEND_ERR_NOMEM:
      return "out of memory";
    case TOKEND_ERR_REFUSED:
      return "refused by the daemon's peer allow-list (run as a user or group that --allow-uid "
             "or --allow-gid names, or change them)";
    default:
      return "unknown error";
  }
}

// The protocol's names are string literals: data() is NUL-terminated and
// static, as the C API promises.
const char* tokend_status_name(int status) {
  return (status >= 0 && status <= UINT8_MAX ? proto::StatusName(static_cast<uint8_t>(status))
                                             : proto::kUnknownStatusName)
      .data();
}

const char* tokend_alg_name(int alg) {
  return (alg >= 0 && alg <= UINT8_MAX ? proto::AlgName(static_cast<uint8_t>(alg))
                                       : proto::kUnknownAlgName)
      .data();
}

}  // extern "C"
