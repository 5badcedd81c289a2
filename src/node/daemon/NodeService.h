// NodeService: the gRPC service of cryod (src/node/cryod.proto), over the TaskTable.
#pragma once

#include "cryod.grpc.pb.h"
#include "node/daemon/TaskTable.h"

namespace cryo::daemon {

class NodeService final : public cryo::node::Node::Service {
 public:
  explicit NodeService(TaskTable& tasks) : tasks_(tasks) {}

  grpc::Status Submit(grpc::ServerContext*, const node::SubmitRequest* req,
                      node::SubmitReply* reply) override;
  grpc::Status List(grpc::ServerContext*, const node::ListRequest* req,
                    node::ListReply* reply) override;
  grpc::Status Logs(grpc::ServerContext*, const node::LogsRequest* req,
                    node::LogsReply* reply) override;
  grpc::Status Stop(grpc::ServerContext*, const node::StopRequest* req,
                    node::StopReply* reply) override;

 private:
  static void fill(const TaskView& v, node::TaskInfo* out);
  TaskTable& tasks_;
};

}  // namespace cryo::daemon
