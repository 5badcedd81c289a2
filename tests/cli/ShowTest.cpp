// ShowTest: `cryo show --json` of a real image names the right process, its threads, mappings and fds, the state of eventfd, timerfd, signalfd and epoll fds, and its POSIX timers.
#include <signal.h>
#include <time.h>

#include <set>
#include <vector>

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

// The fds of one kind in `cryo show --json` output.
std::vector<nlohmann::json> fdsOfKind(const nlohmann::json& j, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& f : j["fds"])
    if (f.contains("kind") && f["kind"] == kind) out.push_back(f);
  return out;
}

TEST_F(Show, json_describes_eventfd_timerfd_signalfd_and_epoll_state) {
  const TargetProgram& p = TargetProgram::byName("anon_fds");
  TargetRun run = p.start(tmp_ / "run");
  ASSERT_GT(run.pid, 0);
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.6, "run before the dump");
  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, images));
  CommandResult show = CryoCli::show(images, true);
  ASSERT_TRUE(show.succeeded()) << show.describe();
  nlohmann::json j = nlohmann::json::parse(show.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON:\n" << show.out;
  EXPECT_EQ(j["format_version"], 1) << "an image without POSIX timers is format version 1";

  auto events = fdsOfKind(j, "EVENTFD");
  ASSERT_EQ(events.size(), 2u) << show.out;
  int semaphores = 0;
  for (const auto& e : events) semaphores += e["state"]["semaphore"].get<bool>() ? 1 : 0;
  EXPECT_EQ(semaphores, 1) << show.out;

  auto timers = fdsOfKind(j, "TIMERFD");
  ASSERT_EQ(timers.size(), 3u) << show.out;
  std::multiset<int> clocks;
  for (const auto& t : timers) clocks.insert(t["state"]["clockid"].get<int>());
  EXPECT_EQ(clocks, (std::multiset<int>{CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME}));
  for (const auto& t : timers) {
    if (t["state"]["clockid"] == CLOCK_MONOTONIC) {
      EXPECT_EQ(t["state"]["interval_ns"], 10000000u) << t.dump();
    }
  }

  auto sigs = fdsOfKind(j, "SIGNALFD");
  ASSERT_EQ(sigs.size(), 1u) << show.out;
  uint64_t mask = sigs[0]["state"]["sigmask"].get<uint64_t>();
  EXPECT_EQ(mask, 1ull << (SIGRTMIN + 1 - 1)) << "signalfd mask " << std::hex << mask;

  auto epolls = fdsOfKind(j, "EPOLL");
  ASSERT_EQ(epolls.size(), 2u) << show.out;
  std::set<uint64_t> data;
  for (const auto& e : epolls)
    for (const auto& t : e["state"]["targets"]) data.insert(t["data"].get<uint64_t>());
  EXPECT_EQ(data, (std::set<uint64_t>{0xE7E7000000000001ull, 0x7171000000000002ull,
                                      0x5151000000000003ull, 0x9191000000000004ull,
                                      0x7272000000000005ull}))
      << show.out;

  CommandResult text = CryoCli::show(images, false);
  ASSERT_TRUE(text.succeeded()) << text.describe();
  EXPECT_NE(text.out.find("semaphore"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("every 10.000 ms"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("data 0xe7e7000000000001"), std::string::npos) << text.out;
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
}

TEST_F(Show, json_lists_posix_timers_by_id_in_a_format_version_2_image) {
  const TargetProgram& p = TargetProgram::byName("posix_timers");
  TargetRun run = p.start(tmp_ / "run");
  ASSERT_GT(run.pid, 0);
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.6, "run before the dump");
  auto tids = ProcessControl::threadIds(run.pid);
  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, images));
  CommandResult show = CryoCli::show(images, true);
  ASSERT_TRUE(show.succeeded()) << show.describe();
  nlohmann::json j = nlohmann::json::parse(show.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON:\n" << show.out;
  EXPECT_EQ(j["format_version"], 2) << "an image with POSIX timers is format version 2";
  ASSERT_TRUE(j.contains("posix_timers") && j["posix_timers"].is_array()) << show.out;
  std::vector<int> ids;
  for (const auto& t : j["posix_timers"]) ids.push_back(t["id"].get<int>());
  EXPECT_EQ(ids, (std::vector<int>{0, 2, 3, 4, 5})) << "timer 1 was deleted\n" << show.out;
  const auto& thread = j["posix_timers"].back();
  tids.erase(run.pid);
  ASSERT_EQ(tids.size(), 1u);
  EXPECT_EQ(thread["notify"], "signal to thread " + std::to_string(*tids.begin())) << thread.dump();
  EXPECT_EQ(j["posix_timers"][0]["notify"], "signal") << show.out;
  EXPECT_EQ(j["posix_timers"][0]["sigval"], 0x7101u) << show.out;
  EXPECT_EQ(j["posix_timers"][1]["notify"], "none") << show.out;
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
}

}  // namespace
}  // namespace cryo::test
