// ReplicaService: the peer's name from the TLS auth context; ReplicaReceiver's exceptions
// mapped to gRPC status codes (FAILED_PRECONDITION: a missing parent, which the sender answers
// by starting from its oldest checkpoint).
#include "node/daemon/ReplicaService.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

namespace cryo::daemon {

namespace {

grpc::StatusCode codeOf(ReplicaRefused::Why why) {
  switch (why) {
    case ReplicaRefused::Why::kMissingParent: return grpc::StatusCode::FAILED_PRECONDITION;
    case ReplicaRefused::Why::kStaleEpoch: return grpc::StatusCode::ABORTED;
    case ReplicaRefused::Why::kConflict: return grpc::StatusCode::ALREADY_EXISTS;
    case ReplicaRefused::Why::kOwnedHere: return grpc::StatusCode::ABORTED;
    case ReplicaRefused::Why::kNotOwner: return grpc::StatusCode::PERMISSION_DENIED;
  }
  return grpc::StatusCode::UNKNOWN;
}

}  // namespace

std::string ReplicaService::peerName(const grpc::ServerContext& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  std::vector<grpc::string_ref> cn = auth->FindPropertyValues("x509_common_name");
  return cn.empty() ? "" : std::string(cn.front().data(), cn.front().size());
}

grpc::Status ReplicaService::Replicate(grpc::ServerContext* ctx,
                                       grpc::ServerReader<node::ReplicaMessage>* reader,
                                       node::ReplicaAck* ack) {
  std::string peer = peerName(*ctx);
  if (peer.empty())
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "replication is served to nodes with a certificate of the cluster's CA "
                        "only (mutual TLS)");
  try {
    *ack = receiver_.receive(peer, [&](node::ReplicaMessage& m) { return reader->Read(&m); });
    return grpc::Status::OK;
  } catch (const ReplicaRefused& e) {
    spdlog::warn("replication from {} refused: {}", peer, e.what());
    return grpc::Status(codeOf(e.why), e.what());
  } catch (const std::invalid_argument& e) {
    spdlog::warn("replication from {} refused: {}", peer, e.what());
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
  } catch (const std::exception& e) {
    spdlog::warn("replication from {} failed: {}", peer, e.what());
    return grpc::Status(grpc::StatusCode::ABORTED, e.what());
  }
}

}  // namespace cryo::daemon
