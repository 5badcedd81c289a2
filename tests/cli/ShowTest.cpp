// ShowTest: `cryo show --json` of a real image names the right process, its threads, mappings and fds.
#include <nlohmann/json.hpp>

#include "CheckpointFixture.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

class Show : public CheckpointFixture {};

TEST_F(Show, json_names_pid_and_threads_of_a_multithreaded_image) {
  const TargetProgram& p = TargetProgram::byName("threads");
  TargetRun run = p.start(tmp_ / "run");
  ASSERT_GT(run.pid, 0);
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.6, "run before the dump");
  auto tids = ProcessControl::threadIds(run.pid);
  ASSERT_EQ(tids.size(), static_cast<size_t>(p.threadsMidRun()));
  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, images));

  CommandResult show = CryoCli::show(images, true);
  ASSERT_TRUE(show.succeeded()) << show.describe();
  nlohmann::json j = nlohmann::json::parse(show.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON:\n" << show.out;
  ASSERT_TRUE(j.is_object()) << show.out;
  for (const char* key : {"pid", "threads", "vmas", "fds"})
    ASSERT_TRUE(j.contains(key)) << "no \"" << key << "\" in\n" << show.out;

  ASSERT_TRUE(j["pid"].is_number_integer()) << j["pid"].dump();
  EXPECT_EQ(j["pid"].get<pid_t>(), run.pid);
  ASSERT_TRUE(j["threads"].is_array());
  EXPECT_EQ(j["threads"].size(), tids.size());
  std::set<pid_t> shownTids;
  for (const auto& t : j["threads"])
    if (t.is_object() && t.contains("tid") && t["tid"].is_number_integer())
      shownTids.insert(t["tid"].get<pid_t>());
  EXPECT_EQ(shownTids, tids) << "thread ids in the image differ from /proc/" << run.pid << "/task";

  ASSERT_TRUE(j["vmas"].is_array());
  EXPECT_GE(j["vmas"].size(), 5u) << "too few mappings for a threaded process";
  ASSERT_TRUE(j["fds"].is_array());
  std::set<int> fdNumbers;
  for (const auto& f : j["fds"])
    if (f.is_object() && f.contains("fd") && f["fd"].is_number_integer())
      fdNumbers.insert(f["fd"].get<int>());
  std::set<int> live;
  for (const auto& [fd, target] : ProcessControl::fdTargets(run.pid)) live.insert(fd);
  EXPECT_EQ(fdNumbers, live) << "fds in the image differ from /proc/" << run.pid << "/fd";

  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
}

}  // namespace
}  // namespace cryo::test
