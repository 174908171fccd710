// SPDX-License-Identifier: Apache-2.0
/* tokend/client.h
 *
 * The C client library of tokend: ask the local tokend daemon whether a
 * bearer token is valid, over its Unix socket (docs/protocol.md). A stable
 * C ABI, usable from C, from C++ (see tokend/client.hpp for an RAII wrapper)
 * and from any language with a C FFI.
 *
 *   tokend_client* c;
 *   int rc = tokend_connect(NULL, 0, &c);            // $TOKEND_SOCKET or default
 *   if (rc != TOKEND_OK) { fprintf(stderr, "%s\n", tokend_strerror(rc)); return 2; }
 *   tokend_result r;
 *   rc = tokend_validate(c, tok, strlen(tok), "api", 3, 0, &r);
 *   if (rc == TOKEND_OK && r.status == TOKEND_STATUS_OK) printf("hello %s\n", r.sub);
 *   else if (rc == TOKEND_OK) printf("refused: %s\n", r.status_name);
 *   tokend_result_clear(&r);
 *   tokend_close(c);
 *
 * Conventions (every function below follows them):
 *
 * (1) Handles are opaque. A tokend_client is created by tokend_connect() and
 *     destroyed by tokend_close(); nothing else frees it.
 *
 * (2) Errors are values. Every function that can fail returns an int: 0
 *     (TOKEND_OK) on success or a negative TOKEND_ERR_* code. A call's
 *     answer about the token (valid, expired, ...) is not an error: it is
 *     tokend_result.status, and the call returns TOKEND_OK. tokend_strerror()
 *     names a code; tokend_last_error() says what went wrong on a handle, in
 *     words. On TOKEND_ERR_NO_DAEMON, _PERMISSION, _CONNECT and _IO, errno
 *     holds the system error.
 *
 * (3) Byte strings are a pointer and a length, never NUL-terminated, and may
 *     hold any bytes; only paths are NUL-terminated C strings. Strings the
 *     library returns are NUL-terminated and also carry their length.
 *
 * (4) Pointer arguments must be non-NULL unless the function says otherwise;
 *     a NULL where one is required returns TOKEND_ERR_INVALID.
 *
 * (5) Thread-safety. A tokend_client is not thread-safe: use one per thread,
 *     or serialize the calls on a handle with your own lock. Distinct handles
 *     share nothing and may be used from different threads at once. The
 *     functions that take no handle (tokend_strerror, tokend_status_name,
 *     tokend_alg_name, tokend_result_clear on distinct results) are
 *     thread-safe. Do not use one handle in both processes after fork().
 *
 * (6) Blocking and time. Every call that talks to the daemon blocks the
 *     calling thread, for at most the handle's timeout (given to
 *     tokend_connect(), changed by tokend_set_timeout()), measured on the
 *     monotonic clock from the start of the call, reconnect included. A
 *     signal (EINTR) neither ends a call early nor extends its deadline. The
 *     library installs no signal handlers, and never raises SIGPIPE when the
 *     daemon goes away (it sends with MSG_NOSIGNAL).
 *
 * (7) Reconnects. When the daemon closed the connection (it restarted, or
 *     dropped an idle client), a call reconnects once, silently, and resends
 *     its unanswered requests (validation has no side effects, so a resend
 *     is safe). A second loss within the same call is reported. After a
 *     timeout or a protocol error the library drops the connection; the next
 *     call connects afresh.
 *
 * (8) Results. Responses are matched to requests by request id, never by
 *     arrival order. A tokend_result owns its strings; release them with
 *     tokend_result_clear(). A call that fails leaves its results cleared
 *     (nothing to release), so clearing is needed only after TOKEND_OK.
 *
 * (9) Exported symbols all start with tokend_; the library exports nothing
 *     else. It needs no initialisation and holds no global state.
 */
#ifndef TOKEND_CLIENT_H_
#define TOKEND_CLIENT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TOKEND_API __attribute__((visibility("default")))
#else
#define TOKEND_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The socket used when tokend_connect() gets no path and TOKEND_SOCKET is
 * unset or empty. */
#define TOKEND_DEFAULT_SOCKET "/run/tokend/tokend.sock"
/* The timeout used when tokend_connect() or tokend_set_timeout() gets 0. */
#define TOKEND_DEFAULT_TIMEOUT_MS 5000

/* Error codes: what a call returns when it could not get an answer. */
enum {
  TOKEND_OK = 0,
  /* A required pointer was NULL, a timeout was negative, the socket path is
   * longer than a Unix socket address holds, an audience is too long to
   * frame, or a batch is larger than 2^32 requests. Nothing was sent. */
  TOKEND_ERR_INVALID = -1,
  /* No daemon listens on the socket: the file is missing (ENOENT,
   * ENOTDIR) or nothing accepts on it (ECONNREFUSED). Start tokend, or
   * pass the path it listens on (TOKEND_SOCKET). */
  TOKEND_ERR_NO_DAEMON = -2,
  /* The socket or a directory above it may not be opened by this user
   * (EACCES, EPERM): run as a member of the socket's group. */
  TOKEND_ERR_PERMISSION = -3,
  /* Connecting failed for another reason (errno says which). */
  TOKEND_ERR_CONNECT = -4,
  /* The daemon did not answer within the timeout. The connection is
   * dropped; the next call reconnects. */
  TOKEND_ERR_TIMEOUT = -5,
  /* The daemon closed the connection, again after the one reconnect. */
  TOKEND_ERR_DISCONNECTED = -6,
  /* A system call on the connection failed (errno says which). */
  TOKEND_ERR_IO = -7,
  /* The daemon answered something this library cannot accept: a protocol
   * error reply (byte 255), a malformed frame, or an id or opcode that
   * matches no request. The connection is dropped. */
  TOKEND_ERR_PROTOCOL = -8,
  /* Memory allocation failed. */
  TOKEND_ERR_NOMEM = -9,
  /* The daemon refused this client by its peer allow-list (--allow-uid,
   * --allow-gid): it sent the refusal frame of docs/protocol.md and closed
   * the connection. Run as an allowed user or group, or change the list. */
  TOKEND_ERR_REFUSED = -10
};

/* Token statuses: the daemon's answer, with exactly the codes and names of
 * docs/protocol.md "Status codes". A daemon newer than this header may send
 * a code not listed here; tokend_status_name() calls it "UNKNOWN", and only
 * TOKEND_STATUS_OK means valid. */
enum {
  TOKEND_STATUS_OK = 0,
  TOKEND_STATUS_MALFORMED = 1,
  TOKEND_STATUS_BAD_SIGNATURE = 2,
  TOKEND_STATUS_UNKNOWN_KEY = 3,
  TOKEND_STATUS_ALG_NOT_ALLOWED = 4,
  TOKEND_STATUS_EXPIRED = 5,
  TOKEND_STATUS_NOT_YET_VALID = 6,
  TOKEND_STATUS_AUDIENCE_MISMATCH = 7,
  TOKEND_STATUS_ISSUER_MISMATCH = 8,
  TOKEND_STATUS_REVOKED = 9,
  TOKEND_STATUS_TOO_LARGE = 10,
  TOKEND_STATUS_MISSING_CLAIM = 11,
  TOKEND_STATUS_UNSUPPORTED_HEADER = 12,
  TOKEND_STATUS_UNKNOWN_TOKEN = 13 /* an opaque token matching no loaded API key */
};

/* Signature algorithms, as the protocol numbers them. */
enum {
  TOKEND_ALG_UNKNOWN = 0, /* the header did not parse, or names no known algorithm */
  TOKEND_ALG_HS256 = 1,   /* HMAC-SHA-256 */
  TOKEND_ALG_HS384 = 2,   /* HMAC-SHA-384 */
  TOKEND_ALG_HS512 = 3,   /* HMAC-SHA-512 */
  TOKEND_ALG_RS256 = 4,   /* RSASSA-PKCS1-v1_5 with SHA-256 */
  TOKEND_ALG_RS384 = 5,
  TOKEND_ALG_RS512 = 6,
  TOKEND_ALG_PS256 = 7, /* RSASSA-PSS with SHA-256 */
  TOKEND_ALG_PS384 = 8,
  TOKEND_ALG_PS512 = 9,
  TOKEND_ALG_ES256 = 10,  /* ECDSA P-256 with SHA-256 */
  TOKEND_ALG_ES384 = 11,  /* ECDSA P-384 with SHA-384 */
  TOKEND_ALG_ES512 = 12,  /* ECDSA P-521 with SHA-512 */
  TOKEND_ALG_EDDSA = 13,  /* Ed25519 */
  TOKEND_ALG_API_KEY = 64 /* an opaque API key (no JWS), name "apikey" */
};

/* Request flags. */
enum {
  /* On TOKEND_STATUS_OK, return the token's payload JSON in `claims`. */
  TOKEND_WANT_CLAIMS = 1
};

/* The longest token a request can carry (the frame limit less the request's
 * fixed fields). A longer token is answered TOKEND_STATUS_TOO_LARGE by the
 * library itself, as the daemon would. */
#define TOKEND_MAX_TOKEN_BYTES 65532

typedef struct tokend_client tokend_client;

/* One answer. Strings are owned by the result: valid until
 * tokend_result_clear(), and never NULL. */
typedef struct tokend_result {
  int status;              /* TOKEND_STATUS_*: the daemon's status code */
  const char* status_name; /* "OK", "EXPIRED", ...: static storage */
  int alg;                 /* TOKEND_ALG_*: the token's algorithm, when known */
  const char* alg_name;    /* "HS256", ..., "EdDSA" or "unknown": static */
  int64_t exp;             /* `exp`, seconds since the epoch; 0 if none/unknown */
  const char* sub;         /* the `sub` claim, "" unless status is OK */
  size_t sub_len;          /* bytes of sub (it may hold a NUL) */
  const char* claims;      /* payload JSON; "" unless OK and TOKEND_WANT_CLAIMS */
  size_t claims_len;       /* bytes of claims */
  void* internal_;         /* the storage behind sub and claims; do not touch */
} tokend_result;

/* One request of a batch. */
typedef struct tokend_request {
  const char* token; /* the compact JWS, without "Bearer " */
  size_t token_len;
  const char* audience; /* NULL or empty (audience_len 0): no audience */
  size_t audience_len;
  int flags; /* 0 or TOKEND_WANT_CLAIMS */
} tokend_request;

/* tokend_connect()
 *
 * Connects to the daemon on the Unix socket `path`, or, when `path` is NULL
 * or "", on $TOKEND_SOCKET, or, when that is unset or empty, on
 * TOKEND_DEFAULT_SOCKET. `timeout_ms` bounds this and every later call on
 * the handle; 0 means TOKEND_DEFAULT_TIMEOUT_MS. On success stores a new
 * handle in *out. On failure stores NULL and returns TOKEND_ERR_INVALID
 * (NULL `out`, negative timeout, path too long), _NO_DAEMON, _PERMISSION,
 * _CONNECT, _TIMEOUT (the listen queue stayed full) or _NOMEM.
 * Reads the environment: do not call it while another thread calls setenv().
 */
TOKEND_API int tokend_connect(const char* path, int timeout_ms, tokend_client** out);

/* tokend_close()
 *
 * Closes the connection and frees the handle. `c` may be NULL. Never blocks.
 */
TOKEND_API void tokend_close(tokend_client* c);

/* tokend_set_timeout()
 *
 * Sets the timeout of later calls on `c`; 0 means TOKEND_DEFAULT_TIMEOUT_MS.
 * Returns TOKEND_ERR_INVALID for a NULL `c` or a negative timeout.
 */
TOKEND_API int tokend_set_timeout(tokend_client* c, int timeout_ms);

/* tokend_validate()
 *
 * Asks the daemon about one token, with an optional expected audience
 * (`audience` may be NULL when `audience_len` is 0) and `flags` (0 or
 * TOKEND_WANT_CLAIMS). On TOKEND_OK, *out holds the answer and must be
 * released with tokend_result_clear(). Any previous contents of *out are
 * overwritten, not freed. Returns TOKEND_ERR_INVALID (NULL argument, or
 * token_len + audience_len too long for a frame while the token alone
 * fits), _NO_DAEMON, _PERMISSION, _CONNECT (the reconnect failed),
 * _TIMEOUT, _DISCONNECTED, _IO, _PROTOCOL or _NOMEM; *out is then cleared.
 */
TOKEND_API int tokend_validate(tokend_client* c, const char* token, size_t token_len,
                               const char* audience, size_t audience_len, int flags,
                               tokend_result* out);

/* tokend_validate_batch()
 *
 * Validates `n` tokens over the one connection, pipelined: requests are
 * written while answers are read, so a batch of any size never waits one
 * round trip per token. results[i] answers requests[i], whatever order the
 * daemon answered in. The timeout bounds the whole batch. On TOKEND_OK
 * every result must be released with tokend_result_clear(). Errors are
 * those of tokend_validate(), for the first request that hits one; all `n`
 * results are then cleared. `n` may be 0 (then `requests` and `results` may
 * be NULL, and nothing is sent).
 */
TOKEND_API int tokend_validate_batch(tokend_client* c, const tokend_request* requests,
                                     tokend_result* results, size_t n);

/* tokend_ping()
 *
 * A round trip that does no validation work: a health check. Returns
 * TOKEND_OK or an error as tokend_validate() does.
 */
TOKEND_API int tokend_ping(tokend_client* c);

/* tokend_result_clear()
 *
 * Frees the strings of `r` and resets it to a cleared result (status
 * TOKEND_STATUS_MALFORMED, empty strings). `r` may be NULL; clearing a
 * cleared result does nothing. Thread-safe for distinct results.
 */
TOKEND_API void tokend_result_clear(tokend_result* r);

/* tokend_last_error()
 *
 * What the last failed call on `c` ran into, in words ("connect
 * /run/tokend/tokend.sock: No such file or directory"), or "" when the last
 * call succeeded. Valid until the next call on `c`. `c` may be NULL (then "").
 */
TOKEND_API const char* tokend_last_error(const tokend_client* c);

/* tokend_strerror()
 *
 * A short static description of the code `err`, saying what to do about it
 * where there is something to do. Never NULL; thread-safe.
 */
TOKEND_API const char* tokend_strerror(int err);

/* tokend_status_name()
 *
 * The protocol name of a status code ("OK", "EXPIRED", ...), or "UNKNOWN".
 * Static storage; thread-safe.
 */
TOKEND_API const char* tokend_status_name(int status);

/* tokend_alg_name()
 *
 * "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
 * "PS512", "ES256", "ES384", "ES512", "EdDSA", or "unknown".
 * Static storage; thread-safe.
 */
TOKEND_API const char* tokend_alg_name(int alg);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TOKEND_CLIENT_H_ */
