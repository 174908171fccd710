// SPDX-License-Identifier: Apache-2.0
// client_c_api.h
//
// Functions written in C (client_c_api.c, compiled as C99 with -Werror)
// that drive include/tokend/client.h the way a C program would. Called by
// client_test.cc. Each returns the first TOKEND_* code that was not OK.
#ifndef TOKEND_TESTS_CLIENT_CLIENT_C_API_H_
#define TOKEND_TESTS_CLIENT_CLIENT_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Connects to `path`, validates `token` (NUL-terminated) for `audience`
 * (may be NULL), copies the answer out, and cleans up. */
int CApiValidate(const char* path, const char* token, const char* audience, int* status,
                 char* status_name, size_t status_name_cap, char* sub, size_t sub_cap,
                 int64_t* exp);

/* Connects, pings, closes. */
int CApiPing(const char* path);

/* Validates `n` tokens in one batch; statuses[i] and whether sub == token. */
int CApiBatch(const char* path, const char* const* tokens, size_t n, int* statuses,
              int* sub_matches);

/* The header's constants as C sees them, for comparing with C++. */
int CApiConstant(int which);

#ifdef __cplusplus
}
#endif

#endif  // TOKEND_TESTS_CLIENT_CLIENT_C_API_H_
