// NodeService: each RPC checks its request, calls the TaskTable and maps its errors to gRPC
// status codes (unknown task: NOT_FOUND; bad request: INVALID_ARGUMENT; the rest: INTERNAL or
// FAILED_PRECONDITION).
#include "node/daemon/NodeService.h"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace cryo::daemon {

namespace {

constexpr uint64_t kMinEveryUs = 1000;
constexpr uint64_t kDefaultLogBytes = 1 << 20;

template <typename Fn>
grpc::Status guarded(const char* rpc, Fn&& fn) {
  try {
    fn();
    return grpc::Status::OK;
  } catch (const std::out_of_range& e) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, e.what());
  } catch (const std::invalid_argument& e) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}", rpc, e.what());
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, e.what());
  }
}

}  // namespace

void NodeService::fill(const TaskView& v, node::TaskInfo* out) {
  const TaskRecord& r = v.record;
  out->set_task(r.id);
  out->set_node(r.node);
  out->set_state(r.state);
  out->set_pid(r.pid);
  out->set_exit_code(r.exitCode);
  out->set_last_checkpoint(v.lastCheckpoint);
  out->set_last_checkpoint_age_s(v.lastCheckpointAgeS);
  out->set_checkpoints(v.checkpoints);
  out->set_failures(v.failures);
  out->set_last_error(v.lastError);
  out->set_store(r.store().string());
  for (const auto& a : r.command) out->add_command(a);
  out->set_replicas(r.replicas);
  out->set_every_us(r.everyUs);
  out->set_epoch(r.epoch);
  for (const StandbyStatus& s : v.standbys) {
    node::StandbyInfo* si = out->add_standbys();
    si->set_node(s.peer.name);
    si->set_address(s.peer.address);
    si->set_acked_checkpoint(s.acked);
    si->set_lag_checkpoints(s.lag);
    si->set_acked_age_s(s.ackedAgeS);
    si->set_last_error(s.lastError);
  }
}

void NodeService::fill(const ReplicaView& v, node::TaskInfo* out) {
  const TaskRecord& r = v.record;
  out->set_task(r.id);
  out->set_node(r.node);
  out->set_state("replica");
  out->set_last_checkpoint(v.newest);
  out->set_last_checkpoint_age_s(v.newestAgeS);
  out->set_checkpoints(v.checkpoints);
  out->set_store(r.store().string());
  for (const auto& a : r.command) out->add_command(a);
  out->set_replicas(r.replicas);
  out->set_every_us(r.everyUs);
  out->set_epoch(r.epoch);
}

grpc::Status NodeService::Submit(grpc::ServerContext*, const node::SubmitRequest* req,
                                 node::SubmitReply* reply) {
  return guarded("Submit", [&] {
    if (req->command_size() == 0) throw std::invalid_argument("submit needs a command");
    if (req->every_us() < kMinEveryUs)
      throw std::invalid_argument("the checkpoint period must be at least 1ms");
    TaskRecord draft;
    draft.command.assign(req->command().begin(), req->command().end());
    draft.env.assign(req->env().begin(), req->env().end());
    for (const auto& e : draft.env)
      if (e.find('=') == std::string::npos)
        throw std::invalid_argument("environment entry '" + e + "' is not NAME=value");
    draft.everyUs = req->every_us();
    draft.maxFreezeUs = req->max_freeze_us();
    draft.replicas = req->replicas();
    draft.keep = req->keep();
    reply->set_task(tasks_.submit(std::move(draft)));
  });
}

grpc::Status NodeService::List(grpc::ServerContext*, const node::ListRequest*,
                               node::ListReply* reply) {
  return guarded("List", [&] {
    for (const TaskView& v : tasks_.list()) fill(v, reply->add_tasks());
    for (const ReplicaView& v : replicas_.list()) fill(v, reply->add_tasks());
  });
}

grpc::Status NodeService::Logs(grpc::ServerContext*, const node::LogsRequest* req,
                               node::LogsReply* reply) {
  return guarded("Logs", [&] {
    TaskLogs logs = tasks_.logs(req->task(), req->max_bytes() ? req->max_bytes() : kDefaultLogBytes);
    reply->set_stdout_data(std::move(logs.out));
    reply->set_stderr_data(std::move(logs.err));
  });
}

grpc::Status NodeService::Stop(grpc::ServerContext*, const node::StopRequest* req,
                               node::StopReply* reply) {
  return guarded("Stop", [&] { fill(tasks_.stop(req->task()), reply->mutable_task()); });
}

grpc::Status NodeService::RestoreTask(grpc::ServerContext*, const node::RestoreTaskRequest* req,
                                      node::RestoreTaskReply* reply) {
  return guarded("RestoreTask", [&] {
    if (req->task().empty()) throw std::invalid_argument("restore --task needs a task id");
    fill(tasks_.restore(req->task(), replicas_), reply->mutable_task());
  });
}

}  // namespace cryo::daemon
