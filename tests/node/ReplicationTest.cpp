// ReplicationTest: cryod nodes on loopback sharing one CA. A task submitted with --replicas on
// n1 has each checkpoint streamed to its standbys; n1 dies (SIGKILL of its daemon, then of its
// orphaned task) and `cryo restore --task` on a standby brings the task back there, its output
// going on, into that node's log, as an uninterrupted run's would. A stream cut mid-way leaves
// the standby restorable at its previous checkpoint; a node whose certificate the cluster's CA
// did not sign gets nothing stored; a restore names a file the task had open that the standby
// lacks.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "CommandRunner.h"
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

class ReplicationTest : public ::testing::Test {
 protected:
  void TearDown() override {
    nodes_.clear();  // the daemons first: what they ran is then the test's to kill
    ProcessControl::killAllChildren();
  }

  DaemonHarness& startNode(const std::string& name, NodeOptions o) {
    o.name = name;
    o.certs = tmp_ / "certs";
    nodes_.push_back(std::make_unique<DaemonHarness>(tmp_ / name, std::move(o)));
    nodes_.back()->start();
    return *nodes_.back();
  }
  // Standbys n2.. first (their ports are known once they run), then the owner n1.
  DaemonHarness& startCluster(size_t standbys, NodeOptions owner = {}) {
    std::vector<std::pair<std::string, std::string>> peers;
    for (size_t i = 0; i < standbys; ++i) {
      DaemonHarness& s = startNode("n" + std::to_string(i + 2), {});
      peers.emplace_back(s.name(), s.tcpAddress());
    }
    owner.peers = peers;
    return startNode("n1", std::move(owner));
  }

  // paced_steps held at its gate, submitted on `owner` over its local socket.
  std::string submit(DaemonHarness& owner, const std::string& replicas,
                     const std::string& keep = "0") {
    CommandResult r = owner.local({"submit", "--every", "100ms", "--replicas", replicas, "--keep",
                                   keep, "--env", "CRYO_TEST_GATE=" + gate().string(), "--",
                                   program("paced_steps"), kSteps});
    EXPECT_TRUE(r.succeeded()) << r.describe();
    return r.out.substr(0, r.out.find('\n'));
  }

  // `cryo ps --json` over the local socket: the task of that id, or null.
  static nlohmann::json localTask(const DaemonHarness& node, const std::string& id) {
    CommandResult r = node.local({"ps", "--json"});
    EXPECT_TRUE(r.succeeded()) << r.describe();
    nlohmann::json all = nlohmann::json::parse(r.out, nullptr, false);
    if (all.is_array())
      for (const auto& t : all)
        if (t.value("task", "") == id) return t;
    return nullptr;
  }

  // Polls the owner's ps until every standby has acked `ckpt` (or a newer one).
  static nlohmann::json waitReplicated(const DaemonHarness& owner, const std::string& id,
                                       const std::string& ckpt) {
    return owner.waitForTask(id, "replicated " + ckpt, [&](const nlohmann::json& t) {
      const auto& sb = t.at("standbys");
      if (sb.size() != t.value("replicas", 0u)) return false;
      for (const auto& s : sb)
        if (s.value("acked_checkpoint", "") < ckpt) return false;
      return true;
    });
  }

  // The newest checkpoint of `id` that began after the task reached its gate.
  std::string checkpointAtGate(const DaemonHarness& owner, const std::string& id) {
    EXPECT_TRUE(DaemonHarness::poll([&] { return std::filesystem::exists(reached()); }));
    std::string atGate = owner.task(id).value("last_checkpoint", "");
    std::string next = owner.waitForTask(id, "checkpointed at its gate", [&](const auto& t) {
      return t.value("last_checkpoint", "") != atGate;
    }).value("last_checkpoint", "");
    return owner.waitForTask(id, "checkpointed again", [&](const auto& t) {
      return t.value("last_checkpoint", "") != next;
    }).value("last_checkpoint", "");
  }

  // The owner node dies: its daemon, then its task (orphaned to this subreaper), both reaped so
  // that the task's pid is free again. Returns what the task wrote there.
  std::string killOwner(DaemonHarness& owner, const std::string& id) {
    pid_t pid = owner.task(id).value("pid", 0);
    EXPECT_GT(pid, 0);
    owner.kill();
    EXPECT_EQ(::kill(pid, SIGKILL), 0);
    ProcessControl::waitForExit(pid, DaemonHarness::kHangGuard);
    std::filesystem::path data = owner.dataDir();
    std::string out = OutputCompare::readFile(data / "tasks" / id / "stdout.log");
    // Its files are gone with it: the standby cannot use the owner's log paths.
    std::filesystem::rename(data, data.string() + ".dead");
    return out;
  }

  // `restore --task` on `node`; once the task has run to its end there, its output there.
  std::string restoreAndFinish(const DaemonHarness& node, const std::string& id) {
    OutputCompare::writeFile(gate(), "");
    CommandResult r = node.local({"restore", "--task", id});
    EXPECT_TRUE(r.succeeded()) << r.describe() << "\n" << node.log();
    EXPECT_NE(r.out.find(id + " restored on " + node.name()), std::string::npos) << r.out;
    nlohmann::json t = node.waitForTask(id, "exited", [](const nlohmann::json& t) {
      return t.value("state", "") != "running" && t.value("state", "") != "starting";
    });
    EXPECT_EQ(t.value("state", ""), "exited") << t.dump() << "\n" << node.log();
    EXPECT_EQ(t.value("exit_code", -1), 0);
    EXPECT_EQ(t.value("node", ""), node.name());
    return OutputCompare::readFile(node.dataDir() / "tasks" / id / "stdout.log");
  }

  static std::string reference() {
    CommandResult ref = CommandRunner::run({program("paced_steps"), kSteps}, {},
                                           std::chrono::milliseconds(60000));
    EXPECT_TRUE(ref.succeeded()) << ref.describe();
    return ref.out;
  }

  std::filesystem::path gate() const { return tmp_ / "gate"; }
  std::filesystem::path reached() const { return tmp_ / "gate.reached"; }

  TempDir tmp_{"cryo-replication-test"};
  std::vector<std::unique_ptr<DaemonHarness>> nodes_;
};

TEST_F(ReplicationTest, StandbyRestoresTheTaskAfterItsNodeDies) {
  std::string ref = reference();
  DaemonHarness& n1 = startCluster(2);
  DaemonHarness& n2 = *nodes_[0];
  DaemonHarness& n3 = *nodes_[1];
  std::string id = submit(n1, "2", "6");  // old checkpoints merged on the owner and standbys
  ASSERT_EQ(id, "n1-1");
  std::string last = checkpointAtGate(n1, id);
  nlohmann::json t = waitReplicated(n1, id, last);
  for (const auto& s : t.at("standbys")) EXPECT_EQ(s.value("last_error", "x"), "") << t.dump();
  for (DaemonHarness* standby : {&n2, &n3}) {
    nlohmann::json r = standby->task(id);
    EXPECT_EQ(r.value("state", ""), "replica") << r.dump();
    EXPECT_EQ(r.value("node", ""), "n1");
    EXPECT_GE(r.value("last_checkpoint", ""), last);
    struct stat st {};
    std::filesystem::path store = standby->dataDir() / "replicas" / id / "store";
    ASSERT_EQ(::stat(store.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // Its newest (the oldest may be merged away meanwhile: --keep).
    std::filesystem::path newest = store / r.value("last_checkpoint", "");
    ASSERT_EQ(::stat((newest / "manifest").c_str(), &st), 0) << newest;
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_LE(r.value("checkpoints", 0), 6 + 1) << r.dump();  // merged as --keep says
  }

  std::string before = killOwner(n1, id);
  std::string after = restoreAndFinish(n2, id);
  EXPECT_EQ(after.rfind("step 39 ", 0), 0u) << after;
  EXPECT_EQ(OutputCompare::firstDifference(ref, before + after), "");
  // The other standby still holds its replica; n2 now runs the task (and lists it as its own).
  EXPECT_EQ(n3.task(id).value("state", ""), "replica");
}

TEST_F(ReplicationTest, StreamCutMidwayLeavesThePreviousCheckpointRestorable) {
  std::string ref = reference();
  NodeOptions owner;
  owner.env = {"CRYO_REPLICA_CUT_AFTER=2"};  // the 3rd and later uploads are cut half-way
  DaemonHarness& n1 = startCluster(1, owner);
  DaemonHarness& n2 = *nodes_[0];
  std::string id = submit(n1, "1");
  nlohmann::json t = n1.waitForTask(id, "had a cut stream", [](const nlohmann::json& t) {
    const auto& sb = t.at("standbys");
    return sb.size() == 1 && sb[0].value("acked_checkpoint", "") == "000002" &&
           !sb[0].value("last_error", "").empty() && sb[0].value("lag_checkpoints", 0) >= 1;
  });
  ASSERT_TRUE(DaemonHarness::poll([&] { return std::filesystem::exists(reached()); }));
  nlohmann::json r = n2.task(id);
  EXPECT_EQ(r.value("last_checkpoint", ""), "000002") << r.dump();
  EXPECT_EQ(r.value("checkpoints", 0), 2) << r.dump();
  for (const auto& e : std::filesystem::directory_iterator(n2.dataDir() / "replicas" / id / "store")) {
    std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "000001" || name == "000002" || name.starts_with("."))
        << "a partial checkpoint is visible: " << name;
  }

  std::string before = killOwner(n1, id);
  std::string after = restoreAndFinish(n2, id);
  // The task went on from checkpoint 000002, taken steps before its node died: what it printed
  // on n2 is the uninterrupted run's output from some step on, to its end.
  ASSERT_FALSE(after.empty());
  ASSERT_EQ(after.rfind("step ", 0), 0u) << after;
  ASSERT_LE(after.size(), ref.size());
  EXPECT_EQ(ref.substr(ref.size() - after.size()), after);
  EXPECT_TRUE(ref.starts_with(before)) << before;
  // ... from a step before the one where n1's run stopped: it came from the earlier checkpoint.
  EXPECT_GT(after.size(), ref.size() - before.size()) << before << "---\n" << after;
}

TEST_F(ReplicationTest, NodeWithoutTheClusterCertificateGetsNothingStored) {
  std::filesystem::path other = tmp_ / "other-ca";
  ASSERT_TRUE(DaemonHarness::cryo({"certs", "init", other.string()}).succeeded());
  NodeOptions owner;
  owner.nodeCerts = other;  // n1's certificate is signed by another CA
  DaemonHarness& n1 = startCluster(1, owner);
  DaemonHarness& n2 = *nodes_[0];
  std::string id = submit(n1, "1");
  nlohmann::json t;
  ASSERT_TRUE(DaemonHarness::poll([&] {
    t = localTask(n1, id);
    return !t.is_null() && t.value("checkpoints", 0) >= 2 && t.at("standbys").size() == 1 &&
           !t.at("standbys")[0].value("last_error", "").empty();
  })) << t.dump() << "\n" << n1.log();
  EXPECT_EQ(t.at("standbys")[0].value("acked_checkpoint", "x"), "") << t.dump();
  CommandResult ps = n2.local({"ps", "--json"});
  ASSERT_TRUE(ps.succeeded()) << ps.describe();
  EXPECT_EQ(nlohmann::json::parse(ps.out), nlohmann::json::array()) << ps.out;
  EXPECT_TRUE(std::filesystem::is_empty(n2.dataDir() / "replicas"));
}

TEST_F(ReplicationTest, RestoreNamesAFileMissingOnTheStandby) {
  std::filesystem::path input = tmp_ / "input.bin", work = tmp_ / "work";
  OutputCompare::writeFile(input, std::string(64 << 10, 'x'));
  std::filesystem::create_directories(work);
  DaemonHarness& n1 = startCluster(1);
  DaemonHarness& n2 = *nodes_[0];
  CommandResult sub = n1.local({"submit", "--every", "100ms", "--replicas", "1", "--keep", "6", "--env",
                                "CRYO_TEST_GATE=" + gate().string(), "--", program("file_pipe"),
                                input.string(), work.string()});
  ASSERT_TRUE(sub.succeeded()) << sub.describe();
  std::string id = sub.out.substr(0, sub.out.find('\n'));
  waitReplicated(n1, id, checkpointAtGate(n1, id));
  killOwner(n1, id);
  std::filesystem::rename(input, input.string() + ".gone");  // not on the standby's node
  CommandResult r = n2.local({"restore", "--task", id});
  EXPECT_FALSE(r.succeeded()) << r.describe();
  EXPECT_NE(r.err.find(input.string()), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("could not be restored on node n2"), std::string::npos) << r.describe();
}

TEST_F(ReplicationTest, SubmitRefusesMoreReplicasThanPeers) {
  DaemonHarness& n1 = startCluster(1);
  CommandResult r = n1.local({"submit", "--replicas", "2", "--", "/bin/true"});
  EXPECT_FALSE(r.succeeded()) << r.describe();
  EXPECT_NE(r.err.find("--replicas 2 needs 2 peers"), std::string::npos) << r.describe();
  CommandResult none = n1.local({"restore", "--task", "n9-1"});
  EXPECT_FALSE(none.succeeded());
  EXPECT_NE(none.err.find("holds no replica of task n9-1"), std::string::npos) << none.describe();
}

}  // namespace
}  // namespace cryo::test
