// SPDX-License-Identifier: Apache-2.0
/* tokend/client.h used from C99: this file is compiled as C with
 * -Wall -Wextra -Wpedantic -Werror, so the header must be valid, warning-free
 * C, and usable in a dozen lines. */
#include "tests/client/client_c_api.h"

#include <stdlib.h>
#include <string.h>

#include "tokend/client.h"

static void CopyOut(char* dst, size_t cap, const char* src) {
  if (cap == 0) return;
  strncpy(dst, src, cap - 1);
  dst[cap - 1] = '\0';
}

int CApiValidate(const char* path, const char* token, const char* audience, int* status,
                 char* status_name, size_t status_name_cap, char* sub, size_t sub_cap,
                 int64_t* exp) {
  tokend_client* c = NULL;
  tokend_result r;
  int rc = tokend_connect(path, 10000, &c);
  if (rc != TOKEND_OK) return rc;
  rc = tokend_validate(c, token, strlen(token), audience, audience ? strlen(audience) : 0, 0, &r);
  if (rc == TOKEND_OK) {
    *status = r.status;
    CopyOut(status_name, status_name_cap, r.status_name);
    CopyOut(sub, sub_cap, r.sub);
    *exp = r.exp;
    tokend_result_clear(&r);
  }
  tokend_close(c);
  return rc;
}

int CApiPing(const char* path) {
  tokend_client* c = NULL;
  int rc = tokend_connect(path, 10000, &c);
  if (rc != TOKEND_OK) return rc;
  rc = tokend_ping(c);
  tokend_close(c);
  return rc;
}

int CApiBatch(const char* path, const char* const* tokens, size_t n, int* statuses,
              int* sub_matches) {
  tokend_client* c = NULL;
  tokend_request* reqs;
  tokend_result* results;
  size_t i;
  int rc = tokend_connect(path, 10000, &c);
  if (rc != TOKEND_OK) return rc;
  reqs = (tokend_request*)calloc(n, sizeof *reqs);
  results = (tokend_result*)calloc(n, sizeof *results);
  if (reqs == NULL || results == NULL) {
    rc = TOKEND_ERR_NOMEM;
  } else {
    for (i = 0; i < n; ++i) {
      reqs[i].token = tokens[i];
      reqs[i].token_len = strlen(tokens[i]);
      reqs[i].audience = NULL;
      reqs[i].audience_len = 0;
      reqs[i].flags = 0;
    }
    rc = tokend_validate_batch(c, reqs, results, n);
    for (i = 0; rc == TOKEND_OK && i < n; ++i) {
      statuses[i] = results[i].status;
      sub_matches[i] = results[i].sub_len == reqs[i].token_len &&
                       memcmp(results[i].sub, tokens[i], reqs[i].token_len) == 0;
      tokend_result_clear(&results[i]);
    }
  }
  free(reqs);
  free(results);
  tokend_close(c);
  return rc;
}

int CApiConstant(int which) {
  switch (which) {
    case 0:
      return TOKEND_STATUS_UNSUPPORTED_HEADER;
    case 1:
      return TOKEND_ERR_NOMEM;
    case 2:
      return TOKEND_WANT_CLAIMS;
    case 3:
      return TOKEND_MAX_TOKEN_BYTES;
    case 4:
      return TOKEND_DEFAULT_TIMEOUT_MS;
    default:
      return (int)sizeof(tokend_result);
  }
}
