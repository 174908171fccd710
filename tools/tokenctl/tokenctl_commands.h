// SPDX-License-Identifier: Apache-2.0
// tokenctl_commands.h
//
// The subcommands of tokenctl, each a function from its arguments to an
// exit code: 0 success (validate: the token is valid), 1 the token is not
// valid (validate only), 2 a usage, file or connection error. Each prints
// its results to `out` and its errors, with what to do about them, to
// `err`; `--help` prints the command's usage to `out` and returns 0.
// The world comes in through Context (stdin, time, environment): the
// commands read no globals, so tests can drive them.
#ifndef TOKEND_TOOLS_TOKENCTL_TOKENCTL_COMMANDS_H_
#define TOKEND_TOOLS_TOKENCTL_TOKENCTL_COMMANDS_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "daemon/auth/status.h"

namespace tokend::tokenctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitError = 2;

struct Context {
  FILE* out = stdout;
  FILE* err = stderr;
  int in_fd = 0;       // where `-` reads the token from
  int64_t now = 0;     // seconds since the epoch, for `mint`
  std::string socket;  // --socket default: $TOKEND_SOCKET or the built-in path
};

int RunValidate(const std::vector<std::string>& args, const Context& ctx);
int RunPing(const std::vector<std::string>& args, const Context& ctx);
int RunKeygen(const std::vector<std::string>& args, const Context& ctx);
int RunMint(const std::vector<std::string>& args, const Context& ctx);
int RunApiKey(const std::vector<std::string>& args, const Context& ctx);
int RunDecode(const std::vector<std::string>& args, const Context& ctx);

// tokenctl_asym.cc: keygen of an RSA / EC / Ed25519 pair for `alg`, and
// mint with a private key PEM.
int RunKeygenAsymmetric(auth::Alg alg, const std::string& out,
                        const std::optional<std::string>& bits,
                        const std::optional<std::string>& public_path,
                        const std::optional<std::string>& kid, const Context& ctx);
bool IsPrivateKeyPemFile(const std::string& path);
int MintWithPrivateKey(const std::string& path, std::optional<auth::Alg> alg,
                       const std::string& kid, const std::string& payload_json, const Context& ctx);

// Usage()
//
// Prints `usage` to `out` when `--help` was asked (returns kExitOk), else
// prints `message` and the usage to `err` (returns kExitError).
int Usage(const Context& ctx, const char* command, const std::string& message, const char* usage);

}  // namespace tokend::tokenctl

#endif  // TOKEND_TOOLS_TOKENCTL_TOKENCTL_COMMANDS_H_
