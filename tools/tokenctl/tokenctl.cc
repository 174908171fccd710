// SPDX-License-Identifier: Apache-2.0
// tokenctl: the command-line client of tokend. Reads the world (arguments,
// environment, clock) and hands it to one subcommand; nothing else.

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tokend/client.h"
#include "tools/tokenctl/tokenctl_commands.h"

namespace {

constexpr char kUsage[] =
    "usage: tokenctl COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  validate  ask tokend whether a token is valid (exit 0 valid, 1 not, 2 error)\n"
    "  ping      check that tokend answers\n"
    "  keygen    write a new random HMAC key file, or an RSA/EC/Ed25519 key pair\n"
    "  mint      sign a token with a key file, as the daemon would accept it\n"
    "  apikey    make an opaque API key, or the digest line of an existing one\n"
    "  decode    print a token's header and claims, UNVERIFIED\n"
    "\n"
    "Run `tokenctl COMMAND --help` for a command's options.\n"
    "The socket is --socket PATH, else $TOKEND_SOCKET, else " TOKEND_DEFAULT_SOCKET ".\n";

}  // namespace

int main(int argc, char** argv) {
  namespace tc = tokend::tokenctl;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return tc::kExitError;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return tc::kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);

  tc::Context ctx;
  ctx.now = static_cast<int64_t>(time(nullptr));
  const char* env = getenv("TOKEND_SOCKET");
  ctx.socket = env != nullptr && env[0] != '\0' ? env : TOKEND_DEFAULT_SOCKET;

  int rc;
  if (command == "validate") {
    rc = tc::RunValidate(args, ctx);
  } else if (command == "ping") {
    rc = tc::RunPing(args, ctx);
  } else if (command == "keygen") {
    rc = tc::RunKeygen(args, ctx);
  } else if (command == "mint") {
    rc = tc::RunMint(args, ctx);
  } else if (command == "apikey") {
    rc = tc::RunApiKey(args, ctx);
  } else if (command == "decode") {
    rc = tc::RunDecode(args, ctx);
  } else {
    std::fprintf(stderr, "tokenctl: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
    return tc::kExitError;
  }
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "tokenctl: cannot write the output: %s\n", std::strerror(errno));
    return tc::kExitError;
  }
  return rc;
}
