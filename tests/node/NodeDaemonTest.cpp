// NodeDaemonTest: cryod end to end: submit, ps, logs and stop-task over mutual TLS and the
// local socket; peers without a certificate of the cluster's CA refused; tasks listed again
// after a daemon restart; a task killed under the daemon restored from its store, its output
// going on as an uninterrupted run's would.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "CommandRunner.h"
#include "CryoCli.h"
#include "DaemonHarness.h"
#include "OutputCompare.h"
#include "ProcessControl.h"
#include "TempDir.h"

namespace cryo::test {
namespace {

const std::string kSteps = "40";

std::string program(const std::string& name) {
  return (std::filesystem::path(CRYO_TEST_PROGRAMS_DIR) / name).string();
}

class NodeDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonHarness>(tmp_.path());
    daemon_->start();
  }
  void TearDown() override {
    daemon_.reset();
    ProcessControl::killAllChildren();
  }

  // Submits paced_steps held at its gate (tmp/gate) over TLS; returns the task id.
  std::string submitGated() {
    // No standbys: this node has no peers (ReplicationTest has them).
    CommandResult r = daemon_->overTls({"submit", "--every", "100ms", "--replicas", "0",
                                        "--env", "CRYO_TEST_GATE=" + gate().string(), "--",
                                        program("paced_steps"), kSteps},
                                       daemon_->certDir());
    EXPECT_TRUE(r.succeeded()) << r.describe();
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id, "n1-1");
    return id;
  }
  std::filesystem::path gate() const { return tmp_ / "gate"; }
  std::filesystem::path reached() const { return tmp_ / "gate.reached"; }

  TempDir tmp_{"cryo-node-test"};
  std::unique_ptr<DaemonHarness> daemon_;
};

TEST_F(NodeDaemonTest, SubmitPsLogsStopOverTls) {
  std::string id = submitGated();
  nlohmann::json t = daemon_->waitForTask(id, "had two checkpoints", [](const nlohmann::json& t) {
    return t.value("checkpoints", 0) >= 2;
  });
  EXPECT_EQ(t.value("state", ""), "running");
  EXPECT_EQ(t.value("node", ""), "n1");
  EXPECT_GT(t.value("pid", 0), 0);
  EXPECT_EQ(t.value("replicas", 1), 0);
  EXPECT_EQ(t.at("standbys"), nlohmann::json::array());
  EXPECT_FALSE(t.value("last_checkpoint", "").empty());
  EXPECT_GE(t.value("last_checkpoint_age_s", -1.0), 0.0);

  ASSERT_TRUE(DaemonHarness::poll([&] { return std::filesystem::exists(reached()); }));
  CommandResult logs = daemon_->overTls({"logs", id}, daemon_->certDir());
  ASSERT_TRUE(logs.succeeded()) << logs.describe();
  EXPECT_NE(logs.out.find("step 0 "), std::string::npos) << logs.out;
  EXPECT_NE(logs.out.find("step 38 "), std::string::npos) << logs.out;

  CommandResult text = daemon_->local({"ps"});  // the local socket, in text
  ASSERT_TRUE(text.succeeded()) << text.describe();
  EXPECT_NE(text.out.find(id), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("running"), std::string::npos) << text.out;

  CommandResult stop = daemon_->overTls({"stop-task", id}, daemon_->certDir());
  ASSERT_TRUE(stop.succeeded()) << stop.describe();
  EXPECT_EQ(daemon_->task(id).value("state", ""), "stopped");
  CommandResult unknown = daemon_->local({"logs", "n1-99"});
  EXPECT_FALSE(unknown.succeeded());
  EXPECT_NE(unknown.err.find("no task n1-99"), std::string::npos) << unknown.describe();
}

TEST_F(NodeDaemonTest, RefusesPeersWithoutTheClusterCertificate) {
  // No client certificate at all (the server's is trusted).
  CommandResult none = daemon_->overTls({"ps", "--json"}, "");
  EXPECT_FALSE(none.succeeded()) << none.describe();
  EXPECT_EQ(none.out, "");
  // A client certificate from another CA.
  std::filesystem::path other = tmp_ / "other-ca";
  ASSERT_TRUE(DaemonHarness::cryo({"certs", "init", other.string()}).succeeded());
  ASSERT_TRUE(DaemonHarness::cryo({"certs", "issue", other.string(), "client"}).succeeded());
  CommandResult foreign = daemon_->overTls({"submit", "--", "/bin/true"}, other);
  EXPECT_FALSE(foreign.succeeded()) << foreign.describe();
  EXPECT_EQ(foreign.out, "");
  // A client that trusts only the other CA does not talk to this node either.
  CommandResult distrust = DaemonHarness::cryo(
      {"ps", "--node", daemon_->tcpAddress(), "--ca", (other / "ca.crt").string(), "--cert",
       (other / "client.crt").string(), "--key", (other / "client.key").string()});
  EXPECT_FALSE(distrust.succeeded()) << distrust.describe();
  // Nothing was started; the right certificate works.
  CommandResult ok = daemon_->overTls({"ps", "--json"}, daemon_->certDir());
  ASSERT_TRUE(ok.succeeded()) << ok.describe();
  EXPECT_EQ(nlohmann::json::parse(ok.out), nlohmann::json::array());
}

TEST_F(NodeDaemonTest, RestartListsTheOldTaskAndItsStore) {
  std::string id = submitGated();
  daemon_->waitForTask(id, "had a checkpoint",
                       [](const nlohmann::json& t) { return t.value("checkpoints", 0) >= 1; });
  EXPECT_EQ(daemon_->stop(), 0);
  std::filesystem::path record = daemon_->dataDir() / "tasks" / id / "task.json";
  struct stat st {};
  ASSERT_EQ(::stat(record.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  daemon_->start();
  nlohmann::json t = daemon_->task(id);
  EXPECT_EQ(t.value("state", ""), "stopped");
  EXPECT_GE(t.value("checkpoints", 0), 1);
  EXPECT_EQ(t.value("store", ""), (daemon_->dataDir() / "tasks" / id / "store").string());
  CommandResult ls = DaemonHarness::cryo({"ls", "--store", t.value("store", "")});
  EXPECT_TRUE(ls.succeeded()) << ls.describe();
  // A new task gets a new id.
  CommandResult r = daemon_->local({"submit", "--", program("paced_steps"), "1"});
  ASSERT_TRUE(r.succeeded()) << r.describe();
  EXPECT_EQ(r.out, "n1-2\n");
}

TEST_F(NodeDaemonTest, KilledTaskComesBackFromItsStore) {
  // The uninterrupted run's output.
  CommandResult ref = CommandRunner::run({program("paced_steps"), kSteps}, {},
                                         std::chrono::milliseconds(60000));
  ASSERT_TRUE(ref.succeeded()) << ref.describe();

  std::string id = submitGated();
  ASSERT_TRUE(DaemonHarness::poll([&] { return std::filesystem::exists(reached()); }));
  // Two checkpoints completed after the program reached its gate: the newer began there.
  std::string atGate = daemon_->task(id).value("last_checkpoint", "");
  std::string next = daemon_->waitForTask(id, "checkpointed at its gate", [&](const auto& t) {
    return t.value("last_checkpoint", "") != atGate;
  }).value("last_checkpoint", "");
  nlohmann::json t = daemon_->waitForTask(id, "checkpointed again", [&](const auto& t) {
    return t.value("last_checkpoint", "") != next;
  });

  pid_t pid = t.value("pid", 0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  t = daemon_->waitForTask(id, "failed", [](const auto& t) { return t.value("state", "") == "failed"; });
  EXPECT_EQ(t.value("exit_code", 0), 128 + SIGKILL);

  OutputCompare::writeFile(gate(), "");
  CommandResult restore = DaemonHarness::cryo({"restore", "--store", t.value("store", "")});
  ASSERT_TRUE(restore.succeeded()) << restore.describe();
  std::optional<pid_t> restored = CryoCli::restoredPid(restore);
  ASSERT_TRUE(restored.has_value()) << restore.describe();
  EXPECT_EQ(*restored, pid);
  ExitStatus st = ProcessControl::waitForExit(*restored, DaemonHarness::kHangGuard);
  EXPECT_TRUE(st.exitedWith(0)) << st;

  std::string out = OutputCompare::readFile(daemon_->dataDir() / "tasks" / id / "stdout.log");
  EXPECT_EQ(OutputCompare::firstDifference(ref.out, out), "");
}

}  // namespace
}  // namespace cryo::test
