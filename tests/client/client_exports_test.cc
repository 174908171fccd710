// SPDX-License-Identifier: Apache-2.0
// libtokend-client exports its C API and nothing else: the shared library
// (nm -D) and the static archive (nm -g) define exactly the tokend_*
// functions that include/tokend/client.h declares and libtokend-client.map
// lists, all under the version node TOKEND_CLIENT_1.

#include <stdio.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

struct NmSymbol {
  char type;
  std::string name;
};

// Runs `command` and returns its stdout lines, or fails the test.
std::vector<std::string> Lines(const std::string& command, bool* ok) {
  std::vector<std::string> lines;
  FILE* p = popen(command.c_str(), "r");
  *ok = p != nullptr;
  if (p == nullptr) return lines;
  char buf[4096];
  std::string all;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) all.append(buf, n);
  *ok = pclose(p) == 0;
  std::istringstream in(all);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Defined symbols from `nm` output lines "<addr> <type> <name>" (lines
// without an address are undefined symbols or archive member names).
std::vector<NmSymbol> Defined(const std::vector<std::string>& lines) {
  std::vector<NmSymbol> out;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    std::string addr, type, name, rest;
    if (!(in >> addr >> type >> name) || (in >> rest) || type.size() != 1) continue;
    if (addr.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) continue;
    out.push_back({type[0], name});
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsIdentChar(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

// The functions client.h declares: the tokend_ name before the '(' of
// each TOKEND_API declaration.
std::set<std::string> HeaderFunctions() {
  const std::string text =
      ReadFile(std::string(TOKEND_SOURCE_DIR) + "/client/include/tokend/client.h");
  std::set<std::string> out;
  for (size_t at = text.find("TOKEND_API "); at != std::string::npos;
       at = text.find("TOKEND_API ", at + 1)) {
    const size_t paren = text.find('(', at);
    size_t begin = paren;
    while (begin > at && IsIdentChar(text[begin - 1])) --begin;
    const std::string name = text.substr(begin, paren - begin);
    if (name.rfind("tokend_", 0) == 0) out.insert(name);
  }
  return out;
}

// The symbols the version script makes global: lines "  tokend_name;".
std::set<std::string> MapSymbols() {
  std::istringstream in(ReadFile(std::string(TOKEND_SOURCE_DIR) + "/client/libtokend-client.map"));
  std::set<std::string> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string word;
    if (words >> word && word.rfind("tokend_", 0) == 0 && word.back() == ';') {
      out.insert(word.substr(0, word.size() - 1));
    }
  }
  return out;
}

TEST(ClientExportsTest, HeaderAndVersionScriptListTheSameFunctions) {
  const std::set<std::string> header = HeaderFunctions();
  EXPECT_GE(header.size(), 10u);
  EXPECT_EQ(header, MapSymbols());
}

TEST(ClientExportsTest, SharedLibraryExportsOnlyTheApiUnderItsVersion) {
  bool ok = false;
  const std::vector<NmSymbol> syms =
      Defined(Lines(std::string(TOKEND_NM) + " -D --defined-only " + TOKEND_CLIENT_SHARED, &ok));
  if (!ok) GTEST_SKIP() << "nm -D could not run on " << TOKEND_CLIENT_SHARED;
  std::set<std::string> exported;
  for (const NmSymbol& s : syms) {
    if (s.type == 'A' && s.name == "TOKEND_CLIENT_1") continue;  // the version node
    const size_t at = s.name.find("@@");
    ASSERT_NE(at, std::string::npos) << s.name << " has no version";
    EXPECT_EQ(s.name.substr(at), "@@TOKEND_CLIENT_1") << s.name;
    EXPECT_EQ(s.type, 'T') << s.name;
    exported.insert(s.name.substr(0, at));
  }
  EXPECT_EQ(exported, HeaderFunctions());
}

TEST(ClientExportsTest, StaticArchiveDefinesOnlyTheApiAsStrongSymbols) {
  bool ok = false;
  const std::vector<NmSymbol> syms =
      Defined(Lines(std::string(TOKEND_NM) + " -g --defined-only " + TOKEND_CLIENT_STATIC, &ok));
  if (!ok) GTEST_SKIP() << "nm could not run on " << TOKEND_CLIENT_STATIC;
  std::set<std::string> strong;
  for (const NmSymbol& s : syms) {
    // Weak and unique symbols (W, V, u) are C++ library inlines that the
    // final link merges with every other copy; they cannot clash.
    if (s.type == 'W' || s.type == 'V' || s.type == 'u' || s.type == 'w' || s.type == 'v') continue;
    strong.insert(s.name);
  }
  EXPECT_EQ(strong, HeaderFunctions());
}

}  // namespace
