// Tool policies, per-call checks, the audit trail and client configuration.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_GOVERNANCE_HANDLERS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_GOVERNANCE_HANDLERS_H_

#include "absl/status/statusor.h"
#include "mcpreg/v1/registry.pb.h"
#include "plugin/sdk/call_context.h"
#include "plugin/sdk/plugin_instance.h"
#include "plugin/src/registry_dependencies.h"

namespace mcpreg {

absl::StatusOr<v1::ToolPolicy> HandleSetToolPolicy(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::SetToolPolicyRequest& request);
absl::StatusOr<v1::ToolPolicy> HandleGetToolPolicy(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::GetToolPolicyRequest& request);
// Validates a policy and decides tool names against it; saves and audits
// nothing (an unauthenticated call is audited as usual).
absl::StatusOr<v1::TestToolPolicyResponse> HandleTestToolPolicy(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::TestToolPolicyRequest& request);
// Asynchronous: each answers once its audit row has committed, from the
// audit writer's thread, so no worker waits for the commit.
void HandleCheckToolCall(RegistryDependencies& deps,
                         const sdk::CallContext& ctx,
                         const v1::CheckToolCallRequest& request,
                         sdk::Reply<v1::CheckToolCallResponse> reply);
void HandleFilterTools(RegistryDependencies& deps, const sdk::CallContext& ctx,
                       const v1::FilterToolsRequest& request,
                       sdk::Reply<v1::FilterToolsResponse> reply);
// Their fast paths, on the host's thread: they take the call (true) only
// when the caller, the grant and the server's policy are all cached, so
// nothing blocks but the hand-over of the audit row.
bool AnswerCheckToolCallFromCaches(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::CheckToolCallRequest& request,
    const sdk::Reply<v1::CheckToolCallResponse>& reply);
bool AnswerFilterToolsFromCaches(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::FilterToolsRequest& request,
    const sdk::Reply<v1::FilterToolsResponse>& reply);
// Pinned tool definitions (definition_handlers.cc).
absl::StatusOr<v1::ListToolDefinitionsResponse> HandleListToolDefinitions(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListToolDefinitionsRequest& request);
absl::StatusOr<v1::ApproveToolDefinitionsResponse> HandleApproveToolDefinitions(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ApproveToolDefinitionsRequest& request);
absl::StatusOr<v1::ApproveToolDefinitionsResponse> HandleRevokeToolDefinitions(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ApproveToolDefinitionsRequest& request);
absl::StatusOr<v1::ListAuditEventsResponse> HandleListAuditEvents(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListAuditEventsRequest& request);
absl::StatusOr<v1::VerifyAuditLogResponse> HandleVerifyAuditLog(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::VerifyAuditLogRequest& request);
absl::StatusOr<v1::FetchArtifactResponse> HandleFetchArtifact(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::FetchArtifactRequest& request);

absl::StatusOr<v1::ClientConfig> HandleGetClientConfig(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::GetClientConfigRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_GOVERNANCE_HANDLERS_H_
