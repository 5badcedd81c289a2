// Daemon: builds the gRPC server over the NodeService and the ReplicaService, writes where it
// listens, waits for a signal and shuts down in order (no new RPCs, then the tasks).
#include "node/daemon/Daemon.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "node/daemon/AtomicFile.h"
#include "node/daemon/NodeService.h"
#include "node/daemon/PeerChannels.h"
#include "node/daemon/ReplicaReceiver.h"
#include "node/daemon/ReplicaService.h"
#include "node/daemon/TaskTable.h"
#include "node/daemon/TlsCredentials.h"

namespace cryo::daemon {

namespace {

// The socket's directory is made 0700 (root's), the socket itself 0600 once it exists.
void prepareUnixSocket(const std::filesystem::path& sock) {
  std::filesystem::path dir = sock.parent_path();
  std::filesystem::create_directories(dir);
  if (::chmod(dir.c_str(), 0700) != 0)
    throw std::runtime_error(fmt::format("cannot make {} private: {}", dir.string(), strerror(errno)));
  std::filesystem::remove(sock);  // a leftover of a daemon that died
}

std::string hostOf(const std::string& hostPort) {
  size_t colon = hostPort.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("tcp address '" + hostPort + "' has no port");
  return hostPort.substr(0, colon);
}

int waitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace

int Daemon::run() {
  std::unique_ptr<PeerChannels> channels;
  if (!config_.tlsCert.empty())
    channels = std::make_unique<PeerChannels>(TlsFiles{config_.tlsCert, config_.tlsKey, config_.tlsCa});
  ReplicaReceiver replicas(config_.nodeName, config_.dataDir);
  TaskTable tasks(config_, channels.get());
  NodeService service(tasks, replicas);
  ReplicaService replicaService(replicas);
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  builder.RegisterService(&replicaService);
  if (!config_.unixSocket.empty()) {
    prepareUnixSocket(config_.unixSocket);
    builder.AddListeningPort("unix:" + config_.unixSocket.string(),
                             grpc::InsecureServerCredentials());
  }
  int tcpPort = 0;
  if (!config_.tcpAddress.empty()) {
    TlsFiles files{config_.tlsCert, config_.tlsKey, config_.tlsCa};
    builder.AddListeningPort(config_.tcpAddress, TlsCredentials::server(files), &tcpPort);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) throw std::runtime_error("cannot listen (is another cryod running?)");
  if (!config_.tcpAddress.empty() && tcpPort == 0)
    throw std::runtime_error("cannot listen on " + config_.tcpAddress);
  if (!config_.unixSocket.empty() && ::chmod(config_.unixSocket.c_str(), 0600) != 0)
    throw std::runtime_error("cannot chmod " + config_.unixSocket.string());

  nlohmann::json endpoints = {{"node", config_.nodeName},
                              {"unix", config_.unixSocket.string()},
                              {"tcp", config_.tcpAddress.empty() ? std::string()
                                      : fmt::format("{}:{}", hostOf(config_.tcpAddress), tcpPort)},
                              {"pid", ::getpid()}};
  AtomicFile::write(config_.dataDir / kEndpointsFile, endpoints.dump() + "\n", 0600);
  spdlog::info("node {} serving: unix {}, tcp {}", config_.nodeName, config_.unixSocket.string(),
               endpoints["tcp"].get<std::string>());

  int sig = waitForSignal();
  spdlog::info("signal {}: shutting down (no new requests, then the tasks)", sig);
  server->Shutdown();
  tasks.shutdown();
  std::filesystem::remove(config_.dataDir / kEndpointsFile);
  if (!config_.unixSocket.empty()) std::filesystem::remove(config_.unixSocket);
  return 0;
}

}  // namespace cryo::daemon
