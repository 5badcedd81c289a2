// RunFailureTest: a store that stopped following its task says so. `cryo run` whose checkpoints
// keep failing exits (or kills the task, or goes on warning, as --on-failure says) once
// --max-failures failed in a row, and `ls`, `stats` and `restore --store` name the failures.
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace cryo::test {

namespace {

class RunFailure : public CheckpointFixture {
 protected:
  // `cryo run --every 100ms` of inotify_watch (every checkpoint refused: it holds an inotify
  // fd with an event unread), held at its gate until the test opens it. Returns cryo's pid;
  // the task is task_.
  pid_t startRefusedRun(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"/usr/bin/env", "CRYO_TEST_GATE=" + gate_.string(),
                                     CryoCli::binary().string(), "run", "--store",
                                     store_.string(), "--every", "100ms"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("--");
    argv.push_back(programPath("inotify_watch"));
    pid_t cryoPid = ProcessControl::spawnTarget(withStderrTo(err_, argv), tmp_ / "out.txt");
    task_ = taskOf(cryoPid);
    return cryoPid;
  }
  CommandResult cryo(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {CryoCli::binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return CommandRunner::run(argv, {}, kWait);
  }
  void openGate() { std::ofstream(gate_.string()).put('\n'); }

  std::filesystem::path store_ = tmp_ / "store", gate_ = tmp_ / "gate", err_ = tmp_ / "cryo.err";
  pid_t task_ = -1;
};

TEST_F(RunFailure, run_exits_after_max_failures_and_the_store_says_it_fell_behind) {
  pid_t cryoPid = startRefusedRun({});
  ASSERT_GT(task_, 0);
  ExitStatus st = ProcessControl::waitForExit(cryoPid, kWait);
  std::string said = OutputCompare::readFile(err_);
  EXPECT_TRUE(st.exitedWith(1)) << st.describe() << "\n" << said;
  EXPECT_NE(said.find("3 checkpoints in a row failed"), std::string::npos) << said;
  EXPECT_NE(said.find("inotify"), std::string::npos) << said;
  // The task runs on, unharmed, without checkpoints.
  EXPECT_FALSE(ProcessControl::isGone(task_));

  CommandResult ls = cryo({"ls", "--store", store_.string()});
  EXPECT_TRUE(ls.succeeded()) << ls.describe();
  EXPECT_NE(ls.err.find("the last 3 checkpoint attempts of cryo run failed"), std::string::npos)
      << ls.describe();
  CommandResult stats = cryo({"stats", "--store", store_.string(), "--json"});
  ASSERT_TRUE(stats.succeeded()) << stats.describe();
  nlohmann::json j = nlohmann::json::parse(stats.out);
  EXPECT_EQ(j["failed_since_newest"].get<uint64_t>(), 3u) << stats.out;
  EXPECT_NE(j["last_error"].get<std::string>().find("inotify"), std::string::npos) << stats.out;
  CommandResult restore = cryo({"restore", "--store", store_.string()});
  EXPECT_FALSE(restore.succeeded()) << restore.describe();
  EXPECT_NE(restore.err.find("checkpoint attempts of cryo run failed"), std::string::npos)
      << restore.describe();

  openGate();
  EXPECT_TRUE(ProcessControl::waitForExit(task_, kWait).exitedWith(0));
}

TEST_F(RunFailure, stop_task_policy_kills_the_task) {
  pid_t cryoPid = startRefusedRun({"--on-failure", "stop-task", "--max-failures", "2"});
  ASSERT_GT(task_, 0);
  ExitStatus st = ProcessControl::waitForExit(cryoPid, kWait);
  std::string said = OutputCompare::readFile(err_);
  EXPECT_TRUE(st.exitedWith(1)) << st.describe() << "\n" << said;
  EXPECT_NE(said.find("2 checkpoints in a row failed: killing the task"), std::string::npos)
      << said;
  EXPECT_TRUE(ProcessControl::waitUntilGone(task_, kWait));
}

TEST_F(RunFailure, warn_policy_goes_on_and_warns_at_every_failure) {
  pid_t cryoPid = startRefusedRun({"--on-failure", "warn", "--max-failures", "1"});
  ASSERT_GT(task_, 0);
  // Five failures in a row, each said: cryo is still there, then the task ends normally.
  ASSERT_TRUE(waitForLines(err_, "cryo: warning: checkpoint failed (5 in a row", 1, cryoPid, kWait))
      << OutputCompare::readFile(err_);
  openGate();
  ExitStatus st = ProcessControl::waitForExit(cryoPid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe() << "\n" << OutputCompare::readFile(err_);
  for (int n = 1; n <= 5; ++n)
    EXPECT_EQ(linesStartingWith(err_, "cryo: warning: checkpoint failed (" + std::to_string(n) +
                                          " in a row"),
              1u)
        << OutputCompare::readFile(err_);
}

}  // namespace

}  // namespace cryo::test
