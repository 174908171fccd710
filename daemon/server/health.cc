// SPDX-License-Identifier: Apache-2.0
#include "daemon/server/health.h"

#include "daemon/util/str_append.h"

namespace tokend::server {
namespace {

// `s` as the inside of a JSON string: quotes, backslashes, and every byte
// outside printable ASCII escaped, so the body is valid JSON (and UTF-8)
// whatever bytes a file name holds.
void AppendJsonEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20 || c >= 0x7f) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    } else {
      out->push_back(ch);
    }
  }
}

}  // namespace

int AppendHealthJson(const HealthSnapshot& h, std::string* out) {
  const bool serving = h.keys_loaded > 0;
  const std::string_view status = !serving ? "unavailable" : h.reload_failed ? "degraded" : "ok";
  StrAppend(out, "{\"status\":\"", status, "\",\"keys\":", h.keys_loaded, ",\"keys_reload\":\"",
            h.reload_failed ? "failed" : "ok", "\"");
  if (h.reload_failed) {
    out->append(",\"reason\":\"");
    const bool cut = h.reload_failure.size() > kMaxHealthReasonBytes;
    AppendJsonEscaped(h.reload_failure.substr(0, kMaxHealthReasonBytes), out);
    if (cut) out->append("...");
    StrAppend(out, "\",\"failing_since\":", h.failing_since_unix);
  }
  StrAppend(out, ",\"last_good_load\":", h.last_good_load_unix, "}\n");
  return serving ? 200 : 503;
}

}  // namespace tokend::server
