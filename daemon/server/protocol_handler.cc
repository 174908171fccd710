// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/protocol_handler.h"

namespace tokend::server {

ServiceStats& ServiceStats::operator+=(const ServiceStats& o) {
  validate_requests += o.validate_requests;
  ping_requests += o.ping_requests;
  for (size_t i = 0; i < kStatusCount; ++i) responses_by_status[i] += o.responses_by_status[i];
  responses_other_status += o.responses_other_status;
  protocol_errors += o.protocol_errors;
  missing_token += o.missing_token;
  cache_hits += o.cache_hits;
  api_key_requests += o.api_key_requests;
  latency += o.latency;
  return *this;
}

ServiceStats ServiceCounters::Snapshot() const {
  ServiceStats s;
  s.validate_requests = validate_requests.load(std::memory_order_relaxed);
  s.ping_requests = ping_requests.load(std::memory_order_relaxed);
  for (size_t i = 0; i < ServiceStats::kStatusCount; ++i) {
    s.responses_by_status[i] = responses_by_status[i].load(std::memory_order_relaxed);
  }
  s.responses_other_status = responses_other_status.load(std::memory_order_relaxed);
  s.protocol_errors = protocol_errors.load(std::memory_order_relaxed);
  s.missing_token = missing_token.load(std::memory_order_relaxed);
  s.cache_hits = cache_hits.load(std::memory_order_relaxed);
  s.api_key_requests = api_key_requests.load(std::memory_order_relaxed);
  s.latency = latency.Snapshot();
  return s;
}

}  // namespace tokend::server
