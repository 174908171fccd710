// SPDX-License-Identifier: Apache-2.0
// reload_latency.cc
//
// tokend-reload-bench: how long a key renamed into the keys directory takes
// to verify tokens. Each trial writes a new key to a hidden temporary file,
// starts the clock, renames it into place, and stops the clock when a
// request-path Verifier (through a per-thread KeySetReader, as the daemon's
// workers use it) first accepts a token signed with it. The previous key is
// then removed and its removal awaited, so trials do not overlap.
//
//   tokend-reload-bench [--trials N] [--coalesce-ms N] [--dir PATH]
//
// Prints p50, p99 and max in milliseconds. The figure includes the
// watcher's coalescing delay (default 30 ms), which dominates it.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/auth/key_set.h"
#include "daemon/auth/key_watcher.h"
#include "daemon/auth/policy.h"
#include "daemon/auth/verifier.h"
#include "tools/minter/minter.h"

namespace tokend::auth {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kNow = 1800000000;
constexpr auto kTrialTimeout = std::chrono::seconds(10);

struct Args {
  int trials = 200;
  int coalesce_ms = 30;
  std::string dir;  // empty: a fresh directory under $TMPDIR
};

bool ParseInt(std::string_view s, int* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out >= 0;
}

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::string_view value;
    if (size_t eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    if (flag == "--trials") {
      if (!ParseInt(value, &args->trials) || args->trials < 1) return false;
    } else if (flag == "--coalesce-ms") {
      if (!ParseInt(value, &args->coalesce_ms)) return false;
    } else if (flag == "--dir") {
      args->dir = std::string(value);
    } else {
      return false;
    }
  }
  return true;
}

std::string SecretFor(int n) {
  return absl::StrCat("reload-bench-secret-", n, "-0123456789abcdef");
}
std::string KidFor(int n) { return absl::StrCat("k", n); }

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

double Percentile(const std::vector<double>& sorted, double p) {
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

int Run(const Args& args) {
  fs::path dir = args.dir;
  bool own_dir = dir.empty();
  if (own_dir) {
    std::string tmpl = (fs::temp_directory_path() / "tokend-reload-bench.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  WriteFile(dir / KidFor(0), SecretFor(0));

  KeyWatcherOptions options;
  options.keys_path = dir.string();
  options.coalesce = std::chrono::milliseconds(args.coalesce_ms);
  options.log = [](LogLevel level, std::string_view line) {
    if (level <= LogLevel::kWarning) std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
  };
  absl::StatusOr<std::shared_ptr<const KeySet>> initial = LoadKeySet(options, nullptr);
  if (!initial.ok()) {
    std::fprintf(stderr, "initial load: %s\n", initial.status().ToString().c_str());
    return 1;
  }
  KeySetPublisher publisher(*initial);
  absl::StatusOr<std::unique_ptr<KeyWatcher>> watcher = KeyWatcher::Create(options, &publisher);
  if (!watcher.ok()) {
    std::fprintf(stderr, "watcher: %s\n", watcher.status().ToString().c_str());
    return 1;
  }

  Policy policy;
  Verifier verifier(policy);
  KeySetReader reader(publisher);
  VerifyResult result;
  auto status_of = [&](const std::string& token) {
    verifier.Verify(token, "", reader.Get(), kNow, &result);
    return result.status;
  };
  // Spins on the request path (as a busy worker would) until `done`.
  auto wait_until = [](auto done) {
    Clock::time_point deadline = Clock::now() + kTrialTimeout;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
  };

  std::vector<double> ms;
  ms.reserve(args.trials);
  for (int n = 1; n <= args.trials; ++n) {
    std::string token = MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, KidFor(n)),
                                  R"({"exp":4102444800})", SecretFor(n));
    fs::path tmp = dir / absl::StrCat(".", KidFor(n), ".tmp");
    WriteFile(tmp, SecretFor(n));
    Clock::time_point start = Clock::now();
    fs::rename(tmp, dir / KidFor(n));
    if (!wait_until([&] { return status_of(token) == Status::kOk; })) {
      std::fprintf(stderr, "trial %d: the key never verified\n", n);
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());

    std::string old_token = MintToken(Alg::kHS256, JwtHeaderJson(Alg::kHS256, KidFor(n - 1)),
                                      R"({"exp":4102444800})", SecretFor(n - 1));
    fs::remove(dir / KidFor(n - 1));
    if (!wait_until([&] { return status_of(old_token) == Status::kUnknownKey; })) {
      std::fprintf(stderr, "trial %d: the old key was never removed\n", n);
      return 1;
    }
  }
  watcher->reset();
  if (own_dir) fs::remove_all(dir);

  std::sort(ms.begin(), ms.end());
  std::printf("reload latency, rename -> first verifying request: %d trials, coalesce %d ms\n",
              args.trials, args.coalesce_ms);
  std::printf("p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", Percentile(ms, 0.50), Percentile(ms, 0.99),
              ms.back());
  return 0;
}

}  // namespace
}  // namespace tokend::auth

int main(int argc, char** argv) {
  tokend::auth::Args args;
  if (!tokend::auth::ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr, "usage: %s [--trials N] [--coalesce-ms N] [--dir PATH]\n", argv[0]);
    return 2;
  }
  return tokend::auth::Run(args);
}
