// TimerIdsTest: POSIX timers restored through timer IDs taken in sequence (placeholder timers standing in for the IDs of deleted ones, as on kernels that cannot be asked for an ID) end like an uninterrupted run.
#include "CheckpointFixture.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

class TimerIds : public CheckpointFixture {};

TEST_F(TimerIds, restore_taking_ids_in_sequence_with_placeholders_matches_uninterrupted_run) {
  const TargetProgram& p = TargetProgram::byName("posix_timers");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.6, "run before the dump");
  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, images));

  CommandResult r = CryoCli::restoreWithEnv(
      images, {{"CRYO_TIMER_IDS", "sequential"}, {"CRYO_LOG", "debug"}});
  ASSERT_TRUE(r.succeeded()) << r.describe();
  EXPECT_NE(r.err.find("IDs taken in sequence"), std::string::npos)
      << "the restore did not take the timer IDs in sequence\n" << r.describe();
  auto pid = CryoCli::restoredPid(r);
  ASSERT_TRUE(pid.has_value()) << r.describe();
  ASSERT_EQ(*pid, run.pid);

  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

}  // namespace
}  // namespace cryo::test
