// SPDX-License-Identifier: Apache-2.0
// The table of status and algorithm codes (protocol/codes.h) against the
// tables of docs/protocol.md, and the lookups over it.
#include "protocol/codes.h"

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tokend::protocol {
namespace {

std::string ReadProtocolDoc() {
  std::ifstream in(TOKEND_SOURCE_DIR "/docs/protocol.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The lines of `doc`.
std::vector<std::string> Lines(const std::string& doc) {
  std::vector<std::string> out;
  std::istringstream in(doc);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Leading decimal digits of `s` from *pos (advanced past them), or -1.
int Number(const std::string& s, size_t* pos) {
  int n = -1;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
    n = (n < 0 ? 0 : n * 10) + (s[*pos] - '0');
    ++*pos;
  }
  return n;
}

// Rows "| 4 | `ALG_NOT_ALLOWED` | ..." of the "Status codes" table.
// (Parsed by hand: std::regex trips GCC 12's -Wmaybe-uninitialized under
// the sanitizer builds.)
std::map<int, std::string> DocStatuses(const std::string& doc) {
  std::map<int, std::string> out;
  for (const std::string& line : Lines(doc)) {
    if (line.rfind("| ", 0) != 0) continue;
    size_t pos = 2;
    const int code = Number(line, &pos);
    if (code < 0 || line.compare(pos, 4, " | `") != 0) continue;
    pos += 4;
    const size_t close = line.find('`', pos);
    if (close == std::string::npos || line.compare(close, 3, "` |") != 0) continue;
    const std::string name = line.substr(pos, close - pos);
    if (name.empty() ||
        name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos) {
      continue;
    }
    out[code] = name;
  }
  return out;
}

// The list in "| 1 | `alg`: 0 unknown, 1 HS256, ... |".
std::map<int, std::string> DocAlgs(const std::string& doc) {
  std::map<int, std::string> out;
  const std::string prefix = "| 1 | `alg`: ";
  for (const std::string& line : Lines(doc)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string list =
        line.substr(prefix.size(), line.find('|', prefix.size()) - prefix.size());
    std::istringstream items(list);
    for (std::string item; std::getline(items, item, ',');) {
      size_t pos = item.find_first_not_of(' ');
      if (pos == std::string::npos) continue;
      const int code = Number(item, &pos);
      if (code < 0 || pos >= item.size() || item[pos] != ' ') continue;
      ++pos;
      size_t end = pos;
      while (end < item.size() && std::isalnum(static_cast<unsigned char>(item[end]))) ++end;
      if (end > pos) out[code] = item.substr(pos, end - pos);
    }
    break;
  }
  return out;
}

TEST(CodesTest, StatusesAreThoseOfTheProtocolDocument) {
  const std::map<int, std::string> doc = DocStatuses(ReadProtocolDoc());
  ASSERT_FALSE(doc.empty()) << "no status table found in docs/protocol.md";
  std::map<int, std::string> table;
  for (const CodeName& s : kStatuses) table[s.code] = std::string(s.name);
  EXPECT_EQ(table, doc);
}

TEST(CodesTest, AlgorithmsAreThoseOfTheProtocolDocument) {
  std::map<int, std::string> doc = DocAlgs(ReadProtocolDoc());
  ASSERT_EQ(doc[0], "unknown");
  doc.erase(0);
  // Alg 64 has no JWS name: the document says "64 opaque API key" and the
  // table names it "apikey" (what tokend_alg_name() and tokenctl print).
  ASSERT_EQ(doc[64], "opaque");
  doc[64] = "apikey";
  std::map<int, std::string> table;
  for (const CodeName& a : kAlgs) table[a.code] = std::string(a.name);
  EXPECT_EQ(table, doc);
}

TEST(CodesTest, StatusNameOfEveryCodeAndBeyond) {
  EXPECT_EQ(StatusName(0), "OK");
  EXPECT_EQ(StatusName(5), "EXPIRED");
  EXPECT_EQ(StatusName(12), "UNSUPPORTED_HEADER");
  EXPECT_EQ(StatusName(static_cast<uint8_t>(kStatusCount)), "UNKNOWN");
  EXPECT_EQ(StatusName(255), "UNKNOWN");
  EXPECT_EQ(StatusName(kStatusOk), "OK");
  EXPECT_EQ(StatusName(kStatusMalformed), "MALFORMED");
}

TEST(CodesTest, AlgNamesRoundTrip) {
  for (const CodeName& a : kAlgs) {
    EXPECT_EQ(AlgName(a.code), a.name);
    EXPECT_EQ(AlgFromName(a.name), a.code);
  }
  EXPECT_EQ(AlgName(kAlgUnknown), "unknown");
  EXPECT_EQ(AlgName(255), "unknown");
  EXPECT_EQ(AlgFromName("unknown"), kAlgUnknown);
  EXPECT_EQ(AlgFromName("hs256"), kAlgUnknown);  // case-sensitive
  EXPECT_EQ(AlgFromName("none"), kAlgUnknown);
  EXPECT_EQ(AlgFromName(""), kAlgUnknown);
}

TEST(CodesTest, NamesAreNulTerminated) {
  // The client library hands name.data() to C callers.
  for (const CodeName& s : kStatuses) EXPECT_EQ(s.name.data()[s.name.size()], '\0') << s.name;
  for (const CodeName& a : kAlgs) EXPECT_EQ(a.name.data()[a.name.size()], '\0') << a.name;
}

}  // namespace
}  // namespace tokend::protocol
