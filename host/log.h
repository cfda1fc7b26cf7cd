// One-line, timestamped log records on stderr, shared by the host and the
// plugin's log callback. stdout is kept for the lines scripts read
// ("grpc listening on ...").
#ifndef MCPREG_HOST_LOG_H_
#define MCPREG_HOST_LOG_H_

#include "absl/strings/string_view.h"

namespace mcpreg::host {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetMinLogLevel(LogLevel level);
void Log(LogLevel level, absl::string_view source, absl::string_view message);

inline void LogInfo(absl::string_view m) { Log(LogLevel::kInfo, "host", m); }
inline void LogWarning(absl::string_view m) {
  Log(LogLevel::kWarning, "host", m);
}
inline void LogError(absl::string_view m) { Log(LogLevel::kError, "host", m); }

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_LOG_H_
