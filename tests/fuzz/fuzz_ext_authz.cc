// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a CheckRequest through the gRPC front's decision
// (ExtAuthz::Check over the fake validator), as any client of the gRPC
// socket could send them. Bytes that protobuf does not parse are what gRPC
// refuses before the service sees them, and are skipped. Checked:
//   - exactly one of ok_response and denied_response is set;
//   - status OK comes with an ok_response whose x-auth-subject is a safe
//     header value, and dynamic_metadata naming the same subject;
//   - UNAUTHENTICATED (16) comes with a 401, INVALID_ARGUMENT (3) with a
//     400, each with x-ext-auth-reason; no other status appears.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "daemon/server/grpc/ext_authz_service.h"
#include "daemon/server/http/auth_mapping.h"
#include "tests/fuzz/stream_split.h"
#include "tests/server/fake_validator.h"

namespace {

using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;

const std::string* Find(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& hs,
    const std::string& key) {
  for (const auto& h : hs) {
    if (h.header().key() == key) return &h.header().value();
  }
  return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tokend::server::grpcfront::ExtAuthz* authz = new tokend::server::grpcfront::ExtAuthz(
      [] { return std::make_unique<tokend::server::testing::FakeValidator>(); },
      tokend::server::grpcfront::ExtAuthzOptions{{"api", "billing"}});
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);  // refused parses are expected here
    return true;
  }();
  (void)quiet;
  CheckRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  CheckResponse res;
  authz->Check(req, &res);
  FUZZ_CHECK(res.has_ok_response() != res.has_denied_response());
  const int code = res.status().code();
  if (code == 0) {
    FUZZ_CHECK(res.has_ok_response());
    const std::string* sub = Find(res.ok_response().headers(), "x-auth-subject");
    FUZZ_CHECK(sub != nullptr);
    FUZZ_CHECK(tokend::server::http::SafeHeaderValue(*sub));
    FUZZ_CHECK(res.dynamic_metadata().fields().at("subject").string_value() == *sub);
    return 0;
  }
  FUZZ_CHECK(code == 16 || code == 3);
  FUZZ_CHECK(res.has_denied_response());
  FUZZ_CHECK(res.denied_response().status().code() ==
             (code == 16 ? envoy::type::v3::Unauthorized : envoy::type::v3::BadRequest));
  const std::string* reason = Find(res.denied_response().headers(), "x-ext-auth-reason");
  FUZZ_CHECK(reason != nullptr && *reason == res.status().message());
  return 0;
}
