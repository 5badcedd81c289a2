// DaemonCommands: CLI11 subcommands over a gRPC stub of cryod's Node service
// (src/node/cryod.proto); `certs` over CertificateAuthority.
#include "cli/DaemonCommands.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "cli/CertificateAuthority.h"
#include "common/Error.h"
#include "cryod.grpc.pb.h"
#include "node/TaskRunner.h"
#include "node/daemon/TlsCredentials.h"

namespace cryo {

namespace {

constexpr const char* kDefaultSocket = "/run/cryod/cryod.sock";

std::string envOr(const char* name, const std::string& dflt) {
  const char* v = std::getenv(name);
  return v && *v ? v : dflt;
}

struct Connection {
  std::string node;  // unix:PATH, /PATH, or HOST:PORT
  std::string cert, key, ca;

  void addTo(CLI::App* sub) {
    sub->add_option("--node", node,
                    "cryod to talk to: HOST:PORT (mutual TLS) or unix:PATH (default: $CRYO_NODE, "
                    "else the local socket " + std::string(kDefaultSocket) + ")");
    sub->add_option("--cert", cert, "Client certificate for TLS (default: $CRYO_CERT)");
    sub->add_option("--key", key, "Its key (default: $CRYO_KEY)");
    sub->add_option("--ca", ca, "The cluster CA certificate (default: $CRYO_CA)");
  }

  std::unique_ptr<node::Node::Stub> stub() {
    std::string target = node.empty() ? envOr("CRYO_NODE", kDefaultSocket) : node;
    if (target.starts_with("/")) target = "unix:" + target;
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (target.starts_with("unix:")) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      daemon::TlsFiles f{cert.empty() ? envOr("CRYO_CERT", "") : cert,
                         key.empty() ? envOr("CRYO_KEY", "") : key,
                         ca.empty() ? envOr("CRYO_CA", "") : ca};
      if (f.ca.empty()) fail("--node {} is TCP: mutual TLS needs --ca (or CRYO_CA), --cert and --key", target);
      creds = daemon::TlsCredentials::client(f);
    }
    shown = target;
    return node::Node::NewStub(grpc::CreateChannel(target, creds));
  }
  std::string shown;
};

void check(const grpc::Status& st, const Connection& c, const char* rpc) {
  if (st.ok()) return;
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE)
    fail("cannot reach cryod at {} ({}): {}", c.shown, rpc, st.error_message());
  fail("{}", st.error_message());
}

void deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

std::string age(double s) {
  if (s < 0) return "-";
  if (s < 10) return fmt::format("{:.1f}s", s);
  if (s < 3600) return fmt::format("{:.0f}s", s);
  return fmt::format("{:.1f}h", s / 3600);
}

nlohmann::json standbysJson(const node::TaskInfo& t) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& sb : t.standbys())
    arr.push_back({{"node", sb.node()},
                   {"address", sb.address()},
                   {"acked_checkpoint", sb.acked_checkpoint()},
                   {"lag_checkpoints", sb.lag_checkpoints()},
                   {"acked_age_s", sb.acked_age_s()},
                   {"last_error", sb.last_error()}});
  return arr;
}

nlohmann::json toJson(const node::TaskInfo& t) {
  return {{"task", t.task()},
          {"node", t.node()},
          {"state", t.state()},
          {"pid", t.pid()},
          {"exit_code", t.exit_code()},
          {"last_checkpoint", t.last_checkpoint()},
          {"last_checkpoint_age_s", t.last_checkpoint_age_s()},
          {"checkpoints", t.checkpoints()},
          {"failures", t.failures()},
          {"last_error", t.last_error()},
          {"store", t.store()},
          {"command", std::vector<std::string>(t.command().begin(), t.command().end())},
          {"replicas", t.replicas()},
          {"every_us", t.every_us()},
          {"epoch", t.epoch()},
          {"standbys", standbysJson(t)}};
}

// "b:000007 c:000006(lag 1)": where each standby is.
std::string standbysText(const node::TaskInfo& t) {
  std::string s;
  for (const auto& sb : t.standbys()) {
    s += fmt::format("{}{}:{}", s.empty() ? "" : " ", sb.node(),
                     sb.acked_checkpoint().empty() ? "-" : sb.acked_checkpoint());
    if (sb.lag_checkpoints()) s += fmt::format("(lag {})", sb.lag_checkpoints());
    if (!sb.last_error().empty()) s += "(failing)";
  }
  return s.empty() ? "-" : s;
}

std::string commandLine(const node::TaskInfo& t) {
  std::string s;
  for (const auto& a : t.command()) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

struct DaemonCommands::State {
  CLI::App* submit = nullptr;
  CLI::App* ps = nullptr;
  CLI::App* logs = nullptr;
  CLI::App* stop = nullptr;
  CLI::App* certs = nullptr;
  CLI::App* certsInit = nullptr;
  CLI::App* certsIssue = nullptr;
  CLI::App* restore = nullptr;  // the CLI's own `restore`, with --task
  Connection conn;
  std::string every = "100ms", maxFreeze;
  unsigned replicas = 0, keep = 0;
  std::vector<std::string> env, command, sans;
  std::string task, dir, name;
  bool json = false;

  int doSubmit();
  int doPs();
  int doLogs();
  int doStop();
  int doRestoreTask();
  int doCerts();
};

DaemonCommands::DaemonCommands(CLI::App& app) : s_(std::make_unique<State>()) {
  State& s = *s_;
  s.submit = app.add_subcommand("submit", "Start a task on a cryod under periodic checkpoints");
  s.submit->add_option("--every", s.every, "Checkpoint period (default 100ms)");
  s.submit->add_option("--replicas", s.replicas,
                       "Standby nodes each checkpoint is streamed to (the node's first K [[peers]])");
  s.submit->add_option("--max-freeze", s.maxFreeze, "Budget of one freeze, e.g. 1ms");
  s.submit->add_option("--keep", s.keep, "Keep at most N checkpoints (0: all)");
  // One value per --env, so that a `--` after it starts the command (and the command's own
  // options stay its own).
  s.submit->add_option("--env", s.env, "NAME=value added to the task's environment (repeatable)")
      ->allow_extra_args(false);
  s.submit->add_option("command", s.command, "Command and arguments (after --)")->required();
  s.conn.addTo(s.submit);

  s.ps = app.add_subcommand("ps", "List the tasks of a cryod");
  s.ps->add_flag("--json", s.json, "Machine-readable output");
  s.conn.addTo(s.ps);

  s.logs = app.add_subcommand("logs", "Print a task's output (stdout, then stderr on stderr)");
  s.logs->add_option("task", s.task, "Task id (from submit or ps)")->required();
  s.conn.addTo(s.logs);

  s.stop = app.add_subcommand("stop-task", "Stop a task of a cryod (SIGTERM; waits for its end)");
  s.stop->add_option("task", s.task, "Task id")->required();
  s.conn.addTo(s.stop);

  s.certs = app.add_subcommand("certs", "Make a cluster CA and node or client certificates");
  s.certs->require_subcommand(1);
  s.certsInit = s.certs->add_subcommand("init", "Make DIR/ca.crt and DIR/ca.key");
  s.certsInit->add_option("dir", s.dir, "Directory")->required();
  s.certsIssue = s.certs->add_subcommand("issue", "Make DIR/NAME.crt and DIR/NAME.key, signed by DIR/ca.*");
  s.certsIssue->alias("node");
  s.certsIssue->add_option("dir", s.dir, "Directory holding the CA")->required();
  s.certsIssue->add_option("name", s.name, "Node or client name")->required();
  s.certsIssue->add_option("--san", s.sans, "Another name: DNS:host or IP:10.0.0.5 (repeatable)")
      ->allow_extra_args(false);
}

DaemonCommands::~DaemonCommands() = default;

void DaemonCommands::addRestoreTask(CLI::App* restore) {
  s_->restore = restore;
  restore->add_option("--task", s_->task,
                      "Ask a cryod (--node; default: the local one) to restore this task from "
                      "the newest complete checkpoint it holds (a replica, or its own store) and "
                      "run it from then on");
  s_->conn.addTo(restore);
}

bool DaemonCommands::selected() const {
  return s_->submit->parsed() || s_->ps->parsed() || s_->logs->parsed() || s_->stop->parsed() ||
         s_->certs->parsed() || (s_->restore && s_->restore->parsed() && !s_->task.empty());
}

int DaemonCommands::run() {
  if (s_->restore && s_->restore->parsed() && !s_->task.empty()) return s_->doRestoreTask();
  if (s_->submit->parsed()) return s_->doSubmit();
  if (s_->ps->parsed()) return s_->doPs();
  if (s_->logs->parsed()) return s_->doLogs();
  if (s_->stop->parsed()) return s_->doStop();
  return s_->doCerts();
}

int DaemonCommands::State::doSubmit() {
  node::SubmitRequest req;
  for (const auto& a : command) req.add_command(a);
  for (const auto& e : env) req.add_env(e);
  req.set_every_us(static_cast<uint64_t>(TaskRunner::parseDuration(every).count()));
  if (!maxFreeze.empty())
    req.set_max_freeze_us(static_cast<uint64_t>(TaskRunner::parseDuration(maxFreeze, 1).count()));
  req.set_replicas(replicas);
  req.set_keep(keep);
  auto stub = conn.stub();
  grpc::ClientContext ctx;
  deadline(ctx);
  node::SubmitReply reply;
  check(stub->Submit(&ctx, req, &reply), conn, "Submit");
  std::cout << reply.task() << "\n";
  return 0;
}

int DaemonCommands::State::doPs() {
  auto stub = conn.stub();
  grpc::ClientContext ctx;
  deadline(ctx);
  node::ListReply reply;
  check(stub->List(&ctx, node::ListRequest(), &reply), conn, "List");
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& t : reply.tasks()) arr.push_back(toJson(t));
    std::cout << arr.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<16} {:<10} {:<8} {:>7} {:>6} {:<8} {:>6} {:>5}  {:<24} {}\n",
                           "TASK", "NODE", "STATE", "PID", "CKPTS", "LAST", "AGE", "FAIL",
                           "STANDBYS", "COMMAND");
  for (const auto& t : reply.tasks())
    std::cout << fmt::format("{:<16} {:<10} {:<8} {:>7} {:>6} {:<8} {:>6} {:>5}  {:<24} {}\n",
                             t.task(), t.node(), t.state(), t.pid(), t.checkpoints(),
                             t.last_checkpoint().empty() ? "-" : t.last_checkpoint(),
                             age(t.last_checkpoint_age_s()), t.failures(), standbysText(t),
                             commandLine(t));
  return 0;
}

int DaemonCommands::State::doLogs() {
  auto stub = conn.stub();
  grpc::ClientContext ctx;
  deadline(ctx);
  node::LogsRequest req;
  req.set_task(task);
  node::LogsReply reply;
  check(stub->Logs(&ctx, req, &reply), conn, "Logs");
  std::cout << reply.stdout_data() << std::flush;
  std::cerr << reply.stderr_data() << std::flush;
  return 0;
}

int DaemonCommands::State::doStop() {
  auto stub = conn.stub();
  grpc::ClientContext ctx;  // no deadline: the task's end is waited for
  node::StopRequest req;
  req.set_task(task);
  node::StopReply reply;
  check(stub->Stop(&ctx, req, &reply), conn, "Stop");
  const node::TaskInfo& t = reply.task();
  std::cout << fmt::format("{} {} (status {}), {} checkpoints in {}\n", t.task(), t.state(),
                           t.exit_code(), t.checkpoints(), t.store());
  return 0;
}

int DaemonCommands::State::doRestoreTask() {
  auto stub = conn.stub();
  grpc::ClientContext ctx;
  deadline(ctx);
  node::RestoreTaskRequest req;
  req.set_task(task);
  node::RestoreTaskReply reply;
  check(stub->RestoreTask(&ctx, req, &reply), conn, "RestoreTask");
  const node::TaskInfo& t = reply.task();
  std::cout << fmt::format("{} restored on {} as pid {} from {}\n", t.task(), t.node(), t.pid(),
                           t.store());
  return 0;
}

int DaemonCommands::State::doCerts() {
  if (certsInit->parsed()) {
    CertificateAuthority::init(dir);
    std::cout << fmt::format("CA made: {0}/ca.crt, {0}/ca.key (0600)\n", dir);
  } else {
    CertificateAuthority::issue(dir, name, sans);
    std::cout << fmt::format("certificate made: {0}/{1}.crt, {0}/{1}.key (0600)\n", dir, name);
  }
  return 0;
}

}  // namespace cryo
