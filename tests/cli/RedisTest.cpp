// RedisTest: a real server from Debian's packages: redis-server loaded with 100,000 keys over a loopback TCP port is checkpointed, killed and restored; every key reads back with its value and new clients connect.
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "RespClient.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

constexpr const char* kRedis = "/usr/bin/redis-server";
constexpr int kKeys = 100000;
constexpr int kBatch = 1000;

std::string keyOf(int i) { return "key:" + std::to_string(i); }
// Values of varied length, so that the server's memory is not uniform.
std::string valueOf(int i) {
  return "value-" + std::to_string(i * 7919) + std::string(static_cast<size_t>(i % 97), 'x');
}

class Redis : public CheckpointFixture {
 protected:
  void SetUp() override {
    if (::access(kRedis, X_OK) != 0)
      GTEST_SKIP() << kRedis << " is not installed (apt-get install redis-server)";
  }

  // redis-server on a free loopback port, persistence off, in the test's directory.
  std::vector<std::string> serverArgv() {
    port_ = RespClient::freePort();
    fs::path dir = tmp_ / "redis";
    fs::create_directories(dir);
    return {kRedis,   "--port",       std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", dir.string(), "--protected-mode", "yes"};
  }
  void startServer() {
    pid_ = ProcessControl::spawnTarget(serverArgv(), tmp_ / "redis" / "redis.log");
    ASSERT_GT(pid_, 0);
    RespClient c(port_, kWait);
    ASSERT_EQ(c.command({"PING"}).text, "PONG");
  }

  void load() {
    RespClient c(port_, kWait);
    for (int base = 0; base < kKeys; base += kBatch) {
      std::vector<std::vector<std::string>> cmds;
      for (int i = base; i < base + kBatch; ++i) cmds.push_back({"SET", keyOf(i), valueOf(i)});
      for (const auto& r : c.pipeline(cmds)) ASSERT_EQ(r.text, "OK");
    }
    ASSERT_EQ(c.command({"DBSIZE"}).text, std::to_string(kKeys));
  }

  // Every key holds its value; returns how many did not.
  int wrongKeys(RespClient& c) {
    int wrong = 0;
    for (int base = 0; base < kKeys; base += kBatch) {
      std::vector<std::vector<std::string>> cmds;
      for (int i = base; i < base + kBatch; ++i) cmds.push_back({"GET", keyOf(i)});
      auto replies = c.pipeline(cmds);
      for (int i = base; i < base + kBatch; ++i) {
        const auto& r = replies[static_cast<size_t>(i - base)];
        if (!r.bulk || *r.bulk != valueOf(i)) ++wrong;
      }
    }
    return wrong;
  }

  // The server has closed the connections of clients that went away (no established TCP
  // connection is left for the dump to refuse).
  void waitForNoClients() {
    RespClient probe(port_, kWait);
    for (int i = 0; i < 200; ++i) {
      auto r = probe.command({"INFO", "clients"});
      if (r.bulk && r.bulk->find("connected_clients:1\r\n") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "redis still counts other clients";
  }

  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(Redis, restore_of_redis_with_100k_keys_reads_every_key_back_and_takes_new_clients) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  ASSERT_NO_FATAL_FAILURE(load());
  ASSERT_NO_FATAL_FAILURE(waitForNoClients());
  size_t threads = ProcessControl::threadIds(pid_).size();
  EXPECT_GT(threads, 1u) << "redis-server runs background threads";

  fs::path images = tmp_ / "img";
  // The probe of waitForNoClients is gone too once its object is: let the server see it.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_NO_FATAL_FAILURE(dumpKilling(pid_, images));
  ASSERT_NO_FATAL_FAILURE(restoreAs(images, pid_));
  EXPECT_EQ(ProcessControl::threadIds(pid_).size(), threads);

  RespClient c(port_, kWait);
  EXPECT_EQ(c.command({"DBSIZE"}).text, std::to_string(kKeys));
  EXPECT_EQ(wrongKeys(c), 0) << "keys lost or changed across the checkpoint";
  // The server goes on: writes, and more clients at once.
  EXPECT_EQ(c.command({"SET", "after", "restore"}).text, "OK");
  RespClient d(port_, kWait);
  auto r = d.command({"GET", "after"});
  ASSERT_TRUE(r.bulk.has_value());
  EXPECT_EQ(*r.bulk, "restore");
  EXPECT_EQ(d.command({"DBSIZE"}).text, std::to_string(kKeys + 1));
}

TEST_F(Redis, dump_of_redis_with_a_connected_client_is_refused_naming_tcp_close_and_redis_runs_on) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  RespClient client(port_, kWait);
  ASSERT_EQ(client.command({"SET", "k", "v"}).text, "OK");
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dump(pid_, images, false);
  expectFailure(d, {"established TCP connection", "--tcp-close"});
  EXPECT_FALSE(fs::exists(images)) << "a refused dump created " << images;
  // The server and the connection are unharmed.
  auto r = client.command({"GET", "k"});
  ASSERT_TRUE(r.bulk.has_value());
  EXPECT_EQ(*r.bulk, "v");
}

TEST_F(Redis, with_tcp_close_the_connected_client_is_reset_and_new_clients_read_every_key) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  ASSERT_NO_FATAL_FAILURE(load());
  RespClient old(port_, kWait);
  ASSERT_EQ(old.command({"PING"}).text, "PONG");
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dumpWith(pid_, images, {"--tcp-close"});
  ASSERT_TRUE(d.succeeded()) << d.describe();
  ExitStatus st = ProcessControl::waitForExit(pid_, kWait);
  EXPECT_TRUE(st.killedBy(SIGKILL)) << st.describe();
  EXPECT_TRUE(old.closedByPeer(std::chrono::seconds(5)))
      << "the client of the killed server saw no reset or end of connection";
  ASSERT_NO_FATAL_FAILURE(restoreAs(images, pid_));
  // The restored server drops the connection it had (reset) and serves new clients.
  RespClient c(port_, kWait);
  EXPECT_EQ(c.command({"DBSIZE"}).text, std::to_string(kKeys));
  EXPECT_EQ(wrongKeys(c), 0) << "keys lost or changed across the checkpoint";
  auto info = c.command({"INFO", "clients"});
  ASSERT_TRUE(info.bulk.has_value());
  // Only this client is left: the reset connection was closed by the server.
  for (int i = 0; i < 100 && info.bulk->find("connected_clients:1\r\n") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    info = c.command({"INFO", "clients"});
  }
  EXPECT_NE(info.bulk->find("connected_clients:1\r\n"), std::string::npos) << *info.bulk;
}

TEST_F(Redis, periodic_checkpoints_with_tcp_close_while_a_client_is_connected_restore_every_key) {
  fs::path store = tmp_ / "store";
  std::vector<std::string> argv = {CryoCli::binary().string(), "run", "--store", store.string(),
                                   "--every", "200ms", "--tcp-close", "--"};
  for (const auto& a : serverArgv()) argv.push_back(a);
  pid_t cryoPid = ProcessControl::spawnTarget(argv, tmp_ / "run.log");
  pid_ = taskOf(cryoPid);
  ASSERT_GT(pid_, 0);
  RespClient client(port_, kWait);  // stays connected through every checkpoint
  ASSERT_NO_FATAL_FAILURE(load());
  ASSERT_EQ(client.command({"SET", "last", "write"}).text, "OK");
  // Two more checkpoints after the last write, each with the client connected.
  size_t have = checkpointCount(store);
  ASSERT_TRUE(waitForCheckpoints(store, have + 2, cryoPid, kWait))
      << "cryo run took no checkpoint with a client connected; its log:\n"
      << OutputCompare::readFile(tmp_ / "run.log");
  ProcessControl::killTree(pid_, kWait);
  ExitStatus cryoStatus = ProcessControl::waitForExit(cryoPid, kWait);
  EXPECT_TRUE(cryoStatus.exitedWith(128 + SIGKILL)) << cryoStatus.describe();
  ASSERT_TRUE(ProcessControl::waitUntilGone(pid_, kWait));
  ProcessControl::reapIfZombie(pid_);

  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--store", store.string()}, {}, kWait);
  ASSERT_TRUE(r.succeeded()) << r.describe();
  RespClient c(port_, kWait);
  EXPECT_EQ(c.command({"DBSIZE"}).text, std::to_string(kKeys + 1));
  EXPECT_EQ(wrongKeys(c), 0) << "keys lost or changed across the checkpoints";
  auto last = c.command({"GET", "last"});
  ASSERT_TRUE(last.bulk.has_value());
  EXPECT_EQ(*last.bulk, "write");
}

}  // namespace
}  // namespace cryo::test
