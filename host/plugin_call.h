// One plugin call from a thread that can wait (the REST gateway's): start
// it, block until the plugin completes or the deadline passes. On the
// deadline the plugin is asked to cancel and the caller gets
// DEADLINE_EXCEEDED at once; the call's state lives on until the plugin's
// completion arrives, as the ABI requires.
#ifndef MCPREG_HOST_PLUGIN_CALL_H_
#define MCPREG_HOST_PLUGIN_CALL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "host/hosted_instance.h"

namespace mcpreg::host {

struct PluginReply {
  int32_t code = 0;  // gRPC status code
  std::string message;
  std::string details;   // serialized google.rpc.Status, may be empty
  std::string response;  // serialized response message, when code is OK
};

PluginReply CallPluginAndWait(
    const HostedInstance& plugin, const std::string& method,
    const std::vector<std::pair<std::string, std::string>>& metadata,
    const std::string& peer, const std::string& request, absl::Time deadline);

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_PLUGIN_CALL_H_
