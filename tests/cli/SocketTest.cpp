// SocketTest: TCP and UDP sockets across a checkpoint (inet_server): listening and bound sockets come back on their ports with their options; an established connection makes the dump fail naming --tcp-close while the task runs on; with --tcp-close the peer gets a reset at the kill and the restored task sees its connection reset and serves new clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "CheckpointFixture.h"
#include "OutputCompare.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

struct Ports {
  int tcp4 = 0, tcp6 = 0, udp4 = 0;
};

// A test-side client socket, closed on destruction.
class Client {
 public:
  Client() = default;
  explicit Client(int fd) : fd_(fd) {}
  Client(Client&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

class Sockets : public CheckpointFixture {
 protected:
  const TargetProgram& prog() { return TargetProgram::byName("inet_server"); }

  void SetUp() override { signal(SIGPIPE, SIG_IGN); }

  // Starts inet_server and reads the ports it listens on.
  void start(TargetRun& run) {
    run = prog().start(tmp_ / "run");
    ASSERT_GT(run.pid, 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!fs::exists(run.workdir / "ports")) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "inet_server wrote no ports";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::ifstream in(run.workdir / "ports");
    in >> ports_.tcp4 >> ports_.tcp6 >> ports_.udp4;
    ASSERT_GT(ports_.tcp4, 0);
    ASSERT_GT(ports_.tcp6, 0);
    ASSERT_GT(ports_.udp4, 0);
  }

  static Client connectTo(int family, int port) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
      auto& a = reinterpret_cast<sockaddr_in&>(ss);
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof a;
    } else {
      auto& a = reinterpret_cast<sockaddr_in6&>(ss);
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(static_cast<uint16_t>(port));
      a.sin6_addr = in6addr_loopback;
      len = sizeof a;
    }
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0)
        << "cannot connect to port " << port << ": " << std::strerror(errno);
    return Client(fd);
  }

  // Reads one line (up to '\n'), waiting at most 10 s; "" on end of file, error or timeout.
  static std::string readLine(const Client& c, int* err = nullptr) {
    std::string line;
    for (;;) {
      pollfd p{c.fd(), POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) return line;
      char ch;
      ssize_t n = ::recv(c.fd(), &ch, 1, 0);
      if (n <= 0) {
        if (err) *err = n < 0 ? errno : 0;
        return line;
      }
      if (ch == '\n') return line;
      line += ch;
    }
  }

  static std::string ask(const Client& c, const std::string& request) {
    std::string line = request + "\n";
    EXPECT_EQ(::send(c.fd(), line.data(), line.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(line.size()));
    return readLine(c);
  }

  std::string udpAsk(const std::string& what) {
    Client c(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(ports_.udp4));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::sendto(c.fd(), what.data(), what.size(), 0, reinterpret_cast<sockaddr*>(&a),
                       sizeof a),
              static_cast<ssize_t>(what.size()));
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return "(no answer)";
    char buf[512];
    ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "(error)";
  }

  // Waits until the task's output holds `text` (the server handled what the test did).
  void waitForOutput(const TargetRun& run, const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      std::ifstream in(run.output());
      std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (all.find(text) != std::string::npos) return;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "the task never printed \"" << text << "\"; its output:\n" << all;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  static std::string output(const TargetRun& run) {
    std::ifstream in(run.output());
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // Sends quit and expects a clean exit with the options the sockets had.
  void quit(const TargetRun& run) {
    Client c = connectTo(AF_INET, ports_.tcp4);
    EXPECT_EQ(ask(c, "quit"), "bye");
    ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
    EXPECT_TRUE(st.exitedWith(0)) << st.describe() << "\n" << output(run);
    EXPECT_NE(output(run).find("quit: reuseaddr 1 keepalive 1 nodelay 1 v6only 1 nonblock 1"),
              std::string::npos)
        << "socket options differ after the restore:\n" << output(run);
  }

  Ports ports_;
};

TEST_F(Sockets, listening_tcp_and_bound_udp_sockets_serve_again_after_restore) {
  TargetRun run;
  ASSERT_NO_FATAL_FAILURE(start(run));
  {
    Client c = connectTo(AF_INET, ports_.tcp4);
    EXPECT_EQ(ask(c, "ping 1"), "pong 1");
  }
  EXPECT_EQ(udpAsk("before"), "udp before");
  ASSERT_NO_FATAL_FAILURE(waitForOutput(run, "connection closed (end of file)"));
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img"));
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img", run.pid));
  {
    Client c4 = connectTo(AF_INET, ports_.tcp4);
    EXPECT_EQ(ask(c4, "ping 2"), "pong 2");
    Client c6 = connectTo(AF_INET6, ports_.tcp6);
    EXPECT_EQ(ask(c6, "ping 3"), "pong 3");
  }
  EXPECT_EQ(udpAsk("after"), "udp after");
  quit(run);
}

TEST_F(Sockets, listening_sockets_come_back_after_a_crash_while_their_port_lingers) {
  TargetRun run;
  ASSERT_NO_FATAL_FAILURE(start(run));
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, tmp_ / "img"));
  {
    // The server's end closes first when it dies: its port keeps a TIME_WAIT connection.
    Client c = connectTo(AF_INET, ports_.tcp4);
    EXPECT_EQ(ask(c, "ping 1"), "pong 1");
    ASSERT_EQ(::kill(run.pid, SIGKILL), 0);
    ProcessControl::waitForExit(run.pid, kWait);
    EXPECT_EQ(readLine(c), "");
  }
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img", run.pid));
  Client c = connectTo(AF_INET, ports_.tcp4);
  EXPECT_EQ(ask(c, "ping 2"), "pong 2");
  EXPECT_EQ(udpAsk("again"), "udp again");
  quit(run);
}

TEST_F(Sockets, established_connection_is_refused_naming_tcp_close_and_the_task_runs_on) {
  TargetRun run;
  ASSERT_NO_FATAL_FAILURE(start(run));
  Client c = connectTo(AF_INET, ports_.tcp4);
  EXPECT_EQ(ask(c, "ping 1"), "pong 1");
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dump(run.pid, images, false);
  expectFailure(d, {"pid [0-9]+: fd [0-9]+", "established TCP connection 127\\.0\\.0\\.1:[0-9]+ -> "
                    "127\\.0\\.0\\.1:[0-9]+", "--tcp-close"});
  EXPECT_FALSE(fs::exists(images)) << "a refused dump created " << images;
  EXPECT_FALSE(ProcessControl::isGone(run.pid)) << "the task died with the refused dump";
  EXPECT_EQ(ask(c, "ping 2"), "pong 2") << "the connection broke with the refused dump";
  quit(run);
}

TEST_F(Sockets, tcp_close_resets_the_peer_and_the_restored_task_sees_the_reset) {
  TargetRun run;
  ASSERT_NO_FATAL_FAILURE(start(run));
  Client c = connectTo(AF_INET, ports_.tcp4);
  EXPECT_EQ(ask(c, "ping 1"), "pong 1");
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dumpWith(run.pid, images, {"--tcp-close"});
  ASSERT_TRUE(d.succeeded()) << d.describe();
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  EXPECT_TRUE(st.killedBy(SIGKILL)) << st.describe();
  int err = 0;
  EXPECT_EQ(readLine(c, &err), "");
  EXPECT_EQ(err, ECONNRESET) << "the peer of a --tcp-close connection got no reset: "
                             << std::strerror(err);

  ASSERT_NO_FATAL_FAILURE(restoreAs(images, run.pid));
  ASSERT_NO_FATAL_FAILURE(waitForOutput(run, "connection reset"));
  Client again = connectTo(AF_INET, ports_.tcp4);
  EXPECT_EQ(ask(again, "ping 2"), "pong 2");
  quit(run);
}

TEST_F(Sockets, tcp_close_with_leave_running_keeps_the_connection_of_the_running_task) {
  TargetRun run;
  ASSERT_NO_FATAL_FAILURE(start(run));
  Client c = connectTo(AF_INET, ports_.tcp4);
  EXPECT_EQ(ask(c, "ping 1"), "pong 1");
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dumpWith(run.pid, images, {"--tcp-close", "--leave-running"});
  ASSERT_TRUE(d.succeeded()) << d.describe();
  EXPECT_EQ(ask(c, "ping 2"), "pong 2") << "the running task's connection broke";
  quit(run);
}

}  // namespace
}  // namespace cryo::test
