// SPDX-License-Identifier: Apache-2.0
#include "daemon/config.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "daemon/auth/claims.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Parses `args` (without the program name) with `env` as the environment.
absl::StatusOr<Config> Parse(std::vector<std::string> args,
                             absl::flat_hash_map<std::string, std::string> env = {}) {
  std::vector<char*> argv;
  std::string program = "tokend";
  argv.push_back(program.data());
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  EnvLookup lookup = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  return ParseConfig(static_cast<int>(argv.size() - 1), argv.data(), lookup);
}

std::string ErrorOf(std::vector<std::string> args) {
  absl::StatusOr<Config> c = Parse(std::move(args));
  EXPECT_FALSE(c.ok());
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

TEST(ConfigTest, DefaultsMatchTheDesign) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket_path, "/run/tokend/tokend.sock");
  EXPECT_EQ(c->keys_path, "/k");
  EXPECT_EQ(c->http_socket_path, "");
  EXPECT_THAT(c->audiences, IsEmpty());
  EXPECT_THAT(c->issuers, IsEmpty());
  EXPECT_EQ(c->leeway_seconds, 30);
  EXPECT_EQ(c->max_token_bytes, 8192u);
  EXPECT_EQ(c->revoked_path, "");
  EXPECT_EQ(c->threads, DefaultThreads());
  EXPECT_GE(c->threads, 1);
  EXPECT_EQ(c->event_loop, EventLoopKind::kAuto);
  EXPECT_EQ(c->cache_entries, 1000000u);
  EXPECT_EQ(c->socket_mode, static_cast<mode_t>(0660));
  EXPECT_FALSE(c->socket_group.has_value());
  EXPECT_THAT(c->allow_uids, IsEmpty());
  EXPECT_THAT(c->allow_gids, IsEmpty());
  EXPECT_EQ(c->max_connections, 16384u);
  EXPECT_EQ(c->max_connections_per_uid, 4096u);
  EXPECT_EQ(c->max_buffered_bytes, 16u << 20);
  EXPECT_EQ(c->write_stall_timeout_seconds, 30);
  EXPECT_EQ(c->poll_interval_seconds, 10);
  EXPECT_EQ(c->required_claims, static_cast<uint32_t>(auth::kClaimExp));
  EXPECT_EQ(c->allowed_algs, auth::AlgSet::All());
  EXPECT_FALSE(c->help);
  EXPECT_FALSE(c->version);
}

TEST(ConfigTest, EveryFlagTakesASeparateValue) {
  absl::StatusOr<Config> c = Parse({
      "--socket",
      "/tmp/t.sock",
      "--keys",
      "/etc/keys",
      "--http-socket",
      "/tmp/h.sock",
      "--audience",
      "a1",
      "--issuer",
      "i1",
      "--leeway",
      "5",
      "--max-token-bytes",
      "65532",
      "--revoked",
      "/etc/revoked",
      "--threads",
      "3",
      "--event-loop",
      "epoll",
      "--cache-entries",
      "0",
      "--socket-mode",
      "0600",
      "--socket-group",
      "0",
      "--allow-uid",
      "0,1",
      "--allow-gid",
      "2",
      "--max-connections",
      "7",
      "--max-connections-per-uid",
      "5",
      "--max-buffered-bytes",
      "0",
      "--write-stall-timeout",
      "0",
      "--poll-interval",
      "0",
      "--require-claims",
      "exp,sub,aud",
      "--algorithms",
      "ES256",
  });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket_path, "/tmp/t.sock");
  EXPECT_EQ(c->keys_path, "/etc/keys");
  EXPECT_EQ(c->http_socket_path, "/tmp/h.sock");
  EXPECT_THAT(c->audiences, ElementsAre("a1"));
  EXPECT_THAT(c->issuers, ElementsAre("i1"));
  EXPECT_EQ(c->leeway_seconds, 5);
  EXPECT_EQ(c->max_token_bytes, kMaxTokenBytesLimit);
  EXPECT_EQ(c->revoked_path, "/etc/revoked");
  EXPECT_EQ(c->threads, 3);
  EXPECT_EQ(c->event_loop, EventLoopKind::kEpoll);
  EXPECT_EQ(c->cache_entries, 0u);
  EXPECT_EQ(c->socket_mode, static_cast<mode_t>(0600));
  EXPECT_EQ(c->socket_group, std::optional<gid_t>(0));
  EXPECT_THAT(c->allow_uids, ElementsAre(0u, 1u));
  EXPECT_THAT(c->allow_gids, ElementsAre(2u));
  EXPECT_EQ(c->max_connections, 7u);
  EXPECT_EQ(c->max_connections_per_uid, 5u);
  EXPECT_EQ(c->max_buffered_bytes, 0u);
  EXPECT_EQ(c->write_stall_timeout_seconds, 0);
  EXPECT_EQ(c->poll_interval_seconds, 0);
  EXPECT_EQ(c->required_claims,
            static_cast<uint32_t>(auth::kClaimExp | auth::kClaimSub | auth::kClaimAud));
  auth::AlgSet es256;
  es256.Add(auth::Alg::kES256);
  EXPECT_EQ(c->allowed_algs, es256);
}

TEST(ConfigTest, EqualsFormIsTheSameAsSeparateValue) {
  absl::StatusOr<Config> c = Parse(
      {"--keys=/k", "--leeway=0", "--event-loop=io_uring", "--audience=a=b", "--socket-mode=660"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keys_path, "/k");
  EXPECT_EQ(c->leeway_seconds, 0);
  EXPECT_EQ(c->event_loop, EventLoopKind::kIoUring);
  EXPECT_THAT(c->audiences, ElementsAre("a=b"));  // only the first '=' splits
  EXPECT_EQ(c->socket_mode, static_cast<mode_t>(0660));
}

TEST(ConfigTest, RepeatedAudienceAndIssuerEachAdd) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k", "--audience", "a", "--issuer", "x",
                                    "--audience=b", "--issuer", "y", "--audience", "c"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->audiences, ElementsAre("a", "b", "c"));
  EXPECT_THAT(c->issuers, ElementsAre("x", "y"));
}

TEST(ConfigTest, RepeatedAllowListsAddWithoutDuplicates) {
  absl::StatusOr<Config> c =
      Parse({"--keys", "/k", "--allow-uid", "5,6", "--allow-uid", "6,root", "--allow-gid", "root"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->allow_uids, ElementsAre(5u, 6u, 0u));
  EXPECT_THAT(c->allow_gids, ElementsAre(0u));
}

TEST(ConfigTest, RepeatedScalarKeepsTheLastValue) {
  absl::StatusOr<Config> c = Parse({"--keys", "/a", "--leeway", "1", "--keys", "/b", "--leeway=2"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keys_path, "/b");
  EXPECT_EQ(c->leeway_seconds, 2);
}

TEST(ConfigTest, SocketGroupAcceptsAName) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k", "--socket-group", "root"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket_group, std::optional<gid_t>(0));
}

TEST(ConfigTest, RequireClaimsNoneOrEmptyMeansNone) {
  for (const char* v : {"none", ""}) {
    absl::StatusOr<Config> c = Parse({"--keys", "/k", "--require-claims", v});
    ASSERT_TRUE(c.ok()) << v << ": " << c.status();
    EXPECT_EQ(c->required_claims, 0u) << v;
  }
  absl::StatusOr<Config> all =
      Parse({"--keys", "/k", "--require-claims=exp,nbf,iat,iss,sub,aud,jti"});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->required_claims, 0x7fu);
}

TEST(ConfigTest, AlgorithmsListsExactlyTheAcceptedAlgorithms) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k", "--algorithms", "RS256,ES256,EdDSA,RS256"});
  ASSERT_TRUE(c.ok()) << c.status();
  for (int i = 1; i < static_cast<int>(auth::kAlgCount); ++i) {
    const auth::Alg alg = static_cast<auth::Alg>(i);
    const bool listed =
        alg == auth::Alg::kRS256 || alg == auth::Alg::kES256 || alg == auth::Alg::kEdDSA;
    EXPECT_EQ(c->allowed_algs.Contains(alg), listed) << auth::AlgName(alg);
  }
  // Every JWS name the protocol knows is accepted; the full list is the default.
  absl::StatusOr<Config> all = Parse({"--keys", "/k",
                                      "--algorithms=HS256,HS384,HS512,RS256,RS384,RS512,PS256,"
                                      "PS384,PS512,ES256,ES384,ES512,EdDSA"});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->allowed_algs, auth::AlgSet::All());
  // The config file's form: a variable of tokend.conf, used when the flag is absent.
  absl::StatusOr<Config> env = Parse({"--keys", "/k"}, {{"TOKEND_ALGORITHMS", "HS512"}});
  ASSERT_TRUE(env.ok()) << env.status();
  auth::AlgSet hs512;
  hs512.Add(auth::Alg::kHS512);
  EXPECT_EQ(env->allowed_algs, hs512);
}

TEST(ConfigTest, AnUnknownAlgorithmIsAStartupErrorNamingIt) {
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--algorithms", "RS256,ES256K,EdDSA"}),
              HasSubstr("invalid value \"RS256,ES256K,EdDSA\" for --algorithms: expected a "
                        "comma-separated list of HS256, HS384, HS512, RS256"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--algorithms", "RS256,ES256K,EdDSA"}),
              HasSubstr("(\"ES256K\" is not one)"));
  absl::StatusOr<Config> env = Parse({"--keys", "/k"}, {{"TOKEND_ALGORITHMS", "none"}});
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(env.status().message(),
              HasSubstr("for environment variable TOKEND_ALGORITHMS: expected"));
  EXPECT_THAT(env.status().message(), HasSubstr("(\"none\" is not one)"));
}

TEST(ConfigTest, KeysIsRequired) {
  EXPECT_THAT(ErrorOf({}), HasSubstr("--keys is required"));
  EXPECT_THAT(ErrorOf({"--socket", "/tmp/x"}), HasSubstr("--keys is required"));
}

TEST(ConfigTest, HelpAndVersionNeedNoKeys) {
  absl::StatusOr<Config> h = Parse({"--help"});
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->help);
  absl::StatusOr<Config> h2 = Parse({"-h"});
  ASSERT_TRUE(h2.ok());
  EXPECT_TRUE(h2->help);
  absl::StatusOr<Config> v = Parse({"--version"});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->version);
  EXPECT_THAT(ErrorOf({"--help=yes"}), HasSubstr("--help takes no value"));
  // A broken command line is still an error with --help.
  EXPECT_THAT(ErrorOf({"--help", "--bogus"}), HasSubstr("unknown option --bogus"));
}

TEST(ConfigTest, UsageMentionsEveryFlag) {
  std::string usage = Usage();
  for (const char* flag : {"--socket",
                           "--keys",
                           "--http-socket",
                           "--audience",
                           "--issuer",
                           "--leeway",
                           "--max-token-bytes",
                           "--revoked",
                           "--threads",
                           "--event-loop",
                           "--cache-entries",
                           "--socket-mode",
                           "--socket-group",
                           "--allow-uid",
                           "--allow-gid",
                           "--max-connections",
                           "--max-connections-per-uid",
                           "--max-buffered-bytes",
                           "--write-stall-timeout",
                           "--poll-interval",
                           "--require-claims",
                           "--algorithms",
                           "--help",
                           "--version"}) {
    EXPECT_THAT(usage, HasSubstr(flag));
  }
}

TEST(ConfigTest, UnknownFlagsAndPositionalArgumentsAreErrors) {
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--bogus"}), HasSubstr("unknown option --bogus"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--bogus=1"}), HasSubstr("unknown option --bogus"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "extra"}), HasSubstr("unexpected argument \"extra\""));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "-k"}), HasSubstr("unexpected argument \"-k\""));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--"}), HasSubstr("unexpected argument \"--\""));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--Keys", "/x"}), HasSubstr("unknown option --Keys"));
}

TEST(ConfigTest, MissingValueIsAnError) {
  EXPECT_THAT(ErrorOf({"--keys"}), HasSubstr("--keys needs a value"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--leeway"}), HasSubstr("--leeway needs a value"));
}

struct BadValue {
  std::string flag;
  std::string value;
  std::string expected;  // a fragment of what the message says is expected
};

class ConfigBadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValueTest, NamesTheFlagTheValueAndWhatIsExpected) {
  const BadValue& b = GetParam();
  std::string want = "invalid value \"" + b.value + "\" for --" + b.flag + ": expected ";
  // Both spellings of the flag give the same message.
  std::string separate = ErrorOf({"--keys", "/k", "--" + b.flag, b.value});
  EXPECT_THAT(separate, HasSubstr(want));
  EXPECT_THAT(separate, HasSubstr(b.expected));
  std::string joined = ErrorOf({"--keys", "/k", "--" + b.flag + "=" + b.value});
  EXPECT_EQ(joined, separate);
}

INSTANTIATE_TEST_SUITE_P(
    EveryFlag, ConfigBadValueTest,
    ::testing::Values(
        BadValue{"socket", "", "a socket path"},
        BadValue{"socket", std::string(108, 'x'), "at most 107 bytes"},
        BadValue{"keys", "", "a path"}, BadValue{"http-socket", "", "a socket path"},
        BadValue{"http-socket", std::string(200, 'y'), "at most 107 bytes"},
        BadValue{"audience", "", "a non-empty audience"},
        BadValue{"issuer", "", "a non-empty issuer"},
        BadValue{"leeway", "abc", "seconds from 0 to 86400"},
        BadValue{"leeway", "-1", "seconds from 0 to 86400"},
        BadValue{"leeway", "86401", "seconds from 0 to 86400"},
        BadValue{"leeway", "1.5", "seconds from 0 to 86400"},
        BadValue{"leeway", " 5", "seconds from 0 to 86400"},
        BadValue{"leeway", "+5", "seconds from 0 to 86400"},
        BadValue{"leeway", "", "seconds from 0 to 86400"},
        BadValue{"leeway", "99999999999999999999999", "seconds from 0 to 86400"},
        BadValue{"max-token-bytes", "0", "bytes from 1 to 65532"},
        BadValue{"max-token-bytes", "65533", "bytes from 1 to 65532"},
        BadValue{"max-token-bytes", "8k", "bytes from 1 to 65532"},
        BadValue{"revoked", "", "a path"}, BadValue{"threads", "0", "threads from 1 to 1024"},
        BadValue{"threads", "1025", "threads from 1 to 1024"},
        BadValue{"threads", "two", "threads from 1 to 1024"},
        BadValue{"event-loop", "uring", "auto, io_uring or epoll"},
        BadValue{"event-loop", "EPOLL", "auto, io_uring or epoll"},
        BadValue{"event-loop", "", "auto, io_uring or epoll"},
        BadValue{"cache-entries", "-1", "entries (0 turns the cache off)"},
        BadValue{"cache-entries", "100000001", "from 0 to 100000000"},
        BadValue{"socket-mode", "0800", "an octal file mode from 0 to 0777"},
        BadValue{"socket-mode", "1777", "an octal file mode from 0 to 0777"},
        BadValue{"socket-mode", "rw-rw----", "an octal file mode"},
        BadValue{"socket-mode", "", "an octal file mode"},
        BadValue{"socket-mode", "00660", "an octal file mode"},
        BadValue{"socket-group", "no-such-group-tokend-test", "an existing group name"},
        BadValue{"socket-group", "", "a group name or id"},
        BadValue{"socket-group", "4294967295", "a numeric id below 2^32-1"},
        BadValue{"allow-uid", "", "a comma-separated list of existing user names or numeric ids"},
        BadValue{"allow-uid", "0,,1", "(\"\" is not one)"},
        BadValue{"allow-uid", "no-such-user-tokend-test", "existing user names"},
        BadValue{"allow-uid", "1x", "(\"1x\" is not one)"},
        BadValue{"allow-uid", "0,-1", "(\"-1\" is not one)"},
        BadValue{"allow-gid", "", "a comma-separated list of existing group names or numeric ids"},
        BadValue{"allow-gid", "0,no-such-group-tokend-test",
                 "(\"no-such-group-tokend-test\" is not one)"},
        BadValue{"max-connections", "0", "connections from 1 to 1048576"},
        BadValue{"max-connections", "1048577", "connections from 1 to 1048576"},
        BadValue{"max-connections-per-uid", "0", "connections from 1 to 1048576"},
        BadValue{"max-buffered-bytes", "-1", "bytes (0 = no limit) from 0 to 1099511627776"},
        BadValue{"write-stall-timeout", "86401", "seconds (0 = never) from 0 to 86400"},
        BadValue{"poll-interval", "-5", "seconds (0 turns polling off) from 0 to 86400"},
        BadValue{"poll-interval", "10s", "from 0 to 86400"},
        BadValue{"require-claims", "exp,foo", "exp, nbf, iat, iss, sub, aud, jti"},
        BadValue{"require-claims", "exp,", "exp, nbf, iat, iss, sub, aud, jti"},
        BadValue{"require-claims", "EXP", "exp, nbf, iat, iss, sub, aud, jti"},
        BadValue{"algorithms", "", "a comma-separated list of HS256"},
        BadValue{"algorithms", "RS256,", "(\"\" is not one)"},
        BadValue{"algorithms", "rs256", "(\"rs256\" is not one)"},
        BadValue{"algorithms", "none", "(\"none\" is not one)"},
        BadValue{"algorithms", "apikey", "(\"apikey\" is not one)"},
        BadValue{"algorithms", "ES256 ,EdDSA", "(\"ES256 \" is not one)"}));

TEST(ConfigTest, TheBadValueNamesTheSubItemOfAList) {
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--allow-uid", "0,nobody-tokend-x"}),
              HasSubstr("invalid value \"0,nobody-tokend-x\" for --allow-uid: expected a "
                        "comma-separated list of existing user names or numeric ids "
                        "(\"nobody-tokend-x\" is not one)"));
}

TEST(ConfigTest, PerUidCapDefaultsToAQuarterAndMayNotExceedTheTotal) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k", "--max-connections", "10"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_connections_per_uid, 3u);
  c = Parse({"--keys", "/k", "--max-connections", "1"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_connections_per_uid, 1u);
  EXPECT_THAT(
      ErrorOf({"--keys", "/k", "--max-connections", "10", "--max-connections-per-uid", "11"}),
      HasSubstr("--max-connections-per-uid 11 exceeds --max-connections 10"));
}

TEST(ConfigTest, AdminSocketIsParsedAndMustDifferFromTheOthers) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k", "--admin-socket", "/tmp/adm.sock"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->admin_socket_path, "/tmp/adm.sock");
  EXPECT_EQ(Parse({"--keys", "/k"})->admin_socket_path, "");
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--socket", "/tmp/a", "--admin-socket", "/tmp/a"}),
              HasSubstr("--admin-socket and --socket must differ"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--http-socket", "/tmp/h", "--admin-socket", "/tmp/h"}),
              HasSubstr("--admin-socket and --http-socket must differ"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--admin-socket", ""}), HasSubstr("a socket path"));
}

TEST(ConfigTest, GrpcSocketIsParsedAndMustDifferFromTheOthers) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k", "--grpc-socket", "/tmp/g.sock"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->grpc_socket_path, "/tmp/g.sock");
  EXPECT_EQ(Parse({"--keys", "/k"})->grpc_socket_path, "");
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--socket", "/tmp/a", "--grpc-socket", "/tmp/a"}),
              HasSubstr("--grpc-socket and --socket must differ"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--http-socket", "/tmp/h", "--grpc-socket", "/tmp/h"}),
              HasSubstr("--grpc-socket and --http-socket must differ"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--admin-socket", "/tmp/m", "--grpc-socket", "/tmp/m"}),
              HasSubstr("--grpc-socket and --admin-socket must differ"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--grpc-socket", ""}), HasSubstr("a socket path"));
}

TEST(ConfigTest, GrpcSocketRefusesPeerAllowListsItCannotCheck) {
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--grpc-socket", "/tmp/g", "--allow-uid", "0"}),
              HasSubstr("--grpc-socket cannot check --allow-uid/--allow-gid"));
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--grpc-socket", "/tmp/g", "--allow-gid", "0"}),
              HasSubstr("--grpc-socket cannot check --allow-uid/--allow-gid"));
}

TEST(ConfigTest, HttpSocketMustDifferFromSocket) {
  EXPECT_THAT(ErrorOf({"--keys", "/k", "--socket", "/tmp/a", "--http-socket", "/tmp/a"}),
              HasSubstr("--http-socket and --socket must differ"));
}

TEST(ConfigTest, EnvironmentFillsFlagsNotOnTheCommandLine) {
  absl::StatusOr<Config> c = Parse({"--leeway", "7"}, {{"TOKEND_KEYS", "/env/keys"},
                                                       {"TOKEND_LEEWAY", "99"},
                                                       {"TOKEND_EVENT_LOOP", "epoll"},
                                                       {"TOKEND_MAX_TOKEN_BYTES", "100"},
                                                       {"TOKEND_AUDIENCE", "env-aud"},
                                                       {"TOKEND_SOCKET", ""}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keys_path, "/env/keys");
  EXPECT_EQ(c->leeway_seconds, 7);  // the command line wins
  EXPECT_EQ(c->event_loop, EventLoopKind::kEpoll);
  EXPECT_EQ(c->max_token_bytes, 100u);
  EXPECT_THAT(c->audiences, ElementsAre("env-aud"));
  EXPECT_EQ(c->socket_path, "/run/tokend/tokend.sock");  // empty variable: unset
}

TEST(ConfigTest, CommandLineAudiencesReplaceTheEnvironments) {
  absl::StatusOr<Config> c =
      Parse({"--keys", "/k", "--audience", "cli"}, {{"TOKEND_AUDIENCE", "env"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->audiences, ElementsAre("cli"));
}

TEST(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  absl::StatusOr<Config> c = Parse({"--keys", "/k"}, {{"TOKEND_THREADS", "lots"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("invalid value \"lots\" for environment variable TOKEND_THREADS"));
}

TEST(ConfigTest, WithoutALookupTheEnvironmentIsIgnored) {
  std::string program = "tokend";
  char* argv[] = {program.data(), nullptr};
  absl::StatusOr<Config> c = ParseConfig(1, argv);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("--keys is required"));
}

}  // namespace
}  // namespace tokend
