// NodeService: the gRPC service of cryod (src/node/cryod.proto), over the TaskTable and the
// replicas this node holds of other nodes' tasks (listed in state "replica").
#pragma once

#include "cryod.grpc.pb.h"
#include "node/daemon/ReplicaReceiver.h"
#include "node/daemon/TaskTable.h"

namespace cryo::daemon {

class NodeService final : public cryo::node::Node::Service {
 public:
  NodeService(TaskTable& tasks, ReplicaReceiver& replicas) : tasks_(tasks), replicas_(replicas) {}

  grpc::Status Submit(grpc::ServerContext*, const node::SubmitRequest* req,
                      node::SubmitReply* reply) override;
  grpc::Status List(grpc::ServerContext*, const node::ListRequest* req,
                    node::ListReply* reply) override;
  grpc::Status Logs(grpc::ServerContext*, const node::LogsRequest* req,
                    node::LogsReply* reply) override;
  grpc::Status Stop(grpc::ServerContext*, const node::StopRequest* req,
                    node::StopReply* reply) override;
  grpc::Status RestoreTask(grpc::ServerContext*, const node::RestoreTaskRequest* req,
                           node::RestoreTaskReply* reply) override;

 private:
  static void fill(const TaskView& v, node::TaskInfo* out);
  static void fill(const ReplicaView& v, node::TaskInfo* out);
  TaskTable& tasks_;
  ReplicaReceiver& replicas_;
};

}  // namespace cryo::daemon
