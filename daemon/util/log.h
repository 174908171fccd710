// SPDX-License-Identifier: Apache-2.0
// log.h
//
// One line per event on stderr, with the sd-daemon(3) priority prefix that
// journald reads ("<4>tokend: ..."). Each line is one write(2), so lines from
// different threads never interleave. Thread-safe. Never pass secrets.
#ifndef TOKEND_DAEMON_UTIL_LOG_H_
#define TOKEND_DAEMON_UTIL_LOG_H_

#include <string_view>

namespace tokend {

enum class LogLevel { kError = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

void Log(LogLevel level, std::string_view message);

inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogWarning(std::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }

}  // namespace tokend

#endif  // TOKEND_DAEMON_UTIL_LOG_H_
