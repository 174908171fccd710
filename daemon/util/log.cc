// SPDX-License-Identifier: Apache-2.0
#include "daemon/util/log.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace tokend {

void Log(LogLevel level, std::string_view message) {
  std::string line;
  line.reserve(message.size() + 16);
  line.push_back('<');
  line.push_back(static_cast<char>('0' + static_cast<int>(level)));
  line += ">tokend: ";
  for (char c : message) line.push_back(c == '\n' ? ' ' : c);
  line.push_back('\n');
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace tokend
