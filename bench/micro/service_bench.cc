// SPDX-License-Identifier: Apache-2.0
// The server's request path without I/O: Service::HandleFrames (binary
// protocol) and HttpService::Handle (HTTP front) over a validator that
// answers at once, so what is timed is framing or parsing, dispatch,
// response encoding, and the latency histogram's clock reads (two per
// Handle() call; the "no_clock" variants read a constant instead).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "daemon/server/http/http_service.h"
#include "daemon/server/service.h"
#include "protocol/codec.h"

namespace {

using namespace tokend::server;

class InstantValidator final : public RequestValidator {
 public:
  Outcome Validate(std::string_view, std::string_view, bool) override {
    Outcome o;
    o.status = 0;
    o.alg = 1;
    o.exp = 1700000000;
    o.subject = "alice";
    return o;
  }
};

uint64_t NoClock() { return 0; }

const std::string kToken(180, 'x');  // a typical HS256 token's length

void BM_BinaryHandleFrames(benchmark::State& state) {
  const int frames = static_cast<int>(state.range(0));
  const bool clock = state.range(1) != 0;
  Service service(std::make_unique<InstantValidator>(), clock ? &MonotonicNanos : &NoClock);
  std::string in;
  for (int i = 0; i < frames; ++i) tokend::protocol::AppendValidateRequest(&in, i, 0, kToken, "");
  std::string out;
  for (auto _ : state) {
    out.clear();
    bool close = false;
    benchmark::DoNotOptimize(service.HandleFrames(in, &out, &close));
  }
  state.SetItemsProcessed(state.iterations() * frames);
}
BENCHMARK(BM_BinaryHandleFrames)->ArgsProduct({{1, 64}, {0, 1}})->ArgNames({"frames", "clock"});

// Through the ProtocolHandler interface, as the loops call it.
void BM_BinaryHandleVirtual(benchmark::State& state) {
  std::unique_ptr<ProtocolHandler> handler =
      std::make_unique<Service>(std::make_unique<InstantValidator>());
  std::string in;
  tokend::protocol::AppendValidateRequest(&in, 1, 0, kToken, "");
  std::string out;
  for (auto _ : state) {
    out.clear();
    bool close = false;
    benchmark::DoNotOptimize(handler->Handle(in, &out, &close));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BinaryHandleVirtual);

void BM_HttpHandle(benchmark::State& state) {
  const int requests = static_cast<int>(state.range(0));
  http::HttpServiceOptions o;
  o.clock = state.range(1) != 0 ? &MonotonicNanos : &NoClock;
  http::HttpService service(std::make_unique<InstantValidator>(), o);
  std::string in;
  for (int i = 0; i < requests; ++i) {
    // What nginx's auth_request sends (proxy_pass, HTTP/1.0 by default).
    in +=
        "GET /_auth HTTP/1.1\r\nHost: tokend\r\nX-Original-URI: /protected/page\r\n"
        "User-Agent: curl/7.88.1\r\nAccept: */*\r\nAuthorization: Bearer " +
        kToken + "\r\n\r\n";
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    bool close = false;
    benchmark::DoNotOptimize(service.Handle(in, &out, &close));
  }
  state.SetItemsProcessed(state.iterations() * requests);
}
BENCHMARK(BM_HttpHandle)->ArgsProduct({{1, 16}, {0, 1}})->ArgNames({"requests", "clock"});

}  // namespace
