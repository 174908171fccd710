// SPDX-License-Identifier: Apache-2.0
// The table of status and algorithm codes (protocol/codes.h) against the
// tables of docs/protocol.md, and the lookups over it.
#include "protocol/codes.h"

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace tokend::protocol {
namespace {

std::string ReadProtocolDoc() {
  std::ifstream in(TOKEND_SOURCE_DIR "/docs/protocol.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Rows "| 4 | `ALG_NOT_ALLOWED` | ..." of the "Status codes" table.
std::map<int, std::string> DocStatuses(const std::string& doc) {
  std::map<int, std::string> out;
  const std::regex row(R"(\n\| (\d+) \| `([A-Z_]+)` \|)");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator();
       ++it) {
    out[std::stoi((*it)[1])] = (*it)[2];
  }
  return out;
}

// The list in "| 1 | `alg`: 0 unknown, 1 HS256, ... |".
std::map<int, std::string> DocAlgs(const std::string& doc) {
  std::map<int, std::string> out;
  std::smatch line;
  if (!std::regex_search(doc, line, std::regex(R"(\| 1 \| `alg`: ([^|]*)\|)"))) return out;
  const std::string list = line[1];
  const std::regex item(R"((\d+) ([A-Za-z0-9]+))");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), item); it != std::sregex_iterator();
       ++it) {
    out[std::stoi((*it)[1])] = (*it)[2];
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
