// WorkShareTest: a loop shared through a WorkShare runs every item exactly once, whichever
// thread takes it; a thread that joins takes part and returns when the job ends; an item's
// exception reaches the loop's owner. FreezeHelper hands its jobs a share the same way, and a
// job its starved thread has not begun is run by the thread that helps.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "realtime/WorkShare.h"
#include "realtime/FreezeHelper.h"

namespace cryo::test {

namespace {

// Every index of a loop of `n`, counted by the thread that ran it.
struct Record {
  explicit Record(size_t n) : runs(n) {}
  std::vector<std::atomic<int>> runs;
  std::mutex mu;
  std::set<std::thread::id> threads;
  void ran(size_t i) {
    runs[i]++;
    std::lock_guard<std::mutex> l(mu);
    threads.insert(std::this_thread::get_id());
  }
  void expectEachOnce() {
    for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "item " << i;
  }
};

}  // namespace

TEST(WorkShareTest, each_without_a_share_runs_every_item_once_in_order) {
  ASSERT_EQ(WorkShare::ofThisThread(), nullptr);
  std::vector<size_t> order;
  WorkShare::each(5, [&](size_t i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(WorkShareTest, joining_thread_takes_items_and_each_runs_once) {
  constexpr size_t kItems = 64;
  Record rec(kItems);
  WorkShare share;
  share.open();
  std::thread owner([&] {
    {
      WorkShare::Job job(share);
      EXPECT_EQ(WorkShare::ofThisThread(), &share);
      WorkShare::each(kItems, [&](size_t i) {
        rec.ran(i);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      });
      WorkShare::each(kItems / 2, [&](size_t) {});  // a second loop of the same job
    }
    EXPECT_EQ(WorkShare::ofThisThread(), nullptr);
    share.close();
  });
  share.join();  // returns once the owner closed the job
  owner.join();
  rec.expectEachOnce();
  EXPECT_EQ(rec.threads.size(), 2u) << "the joining thread took no item of 64 that each wait 2 ms";
}

TEST(WorkShareTest, an_items_exception_reaches_the_owner_and_the_joiner_returns) {
  WorkShare share;
  share.open();
  std::atomic<int> ran{0};
  bool thrown = false;
  std::thread owner([&] {
    WorkShare::Job job(share);
    try {
      WorkShare::each(32, [&](size_t i) {
        ++ran;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (i == 3) throw std::runtime_error("item 3 failed");
      });
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()) == "item 3 failed";
    }
    share.close();
  });
  share.join();
  owner.join();
  EXPECT_TRUE(thrown);
  EXPECT_LT(ran.load(), 32) << "items after the failure were still started";
}

TEST(WorkShareTest, join_returns_at_once_when_no_job_is_open) {
  WorkShare share;
  share.join();  // would hang if it waited for a job
  SUCCEED();
}

TEST(FreezeHelperTest, help_takes_part_in_the_jobs_loop_until_it_ends) {
  constexpr size_t kItems = 48;
  Record rec(kItems);
  FreezeHelper helper(::getpid());
  std::atomic<bool> begun{false};
  auto f = helper.run([&]() -> std::optional<PageRanges> {
    begun = true;
    WorkShare::each(kItems, [&](size_t i) {
      rec.ran(i);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    });
    return PageRanges{{0, 4096}};
  });
  // (A job the helper has not begun would be taken back by help(): see the test below.)
  while (!begun) std::this_thread::sleep_for(std::chrono::microseconds(50));
  helper.help();
  rec.expectEachOnce();  // all done before help() returned
  std::optional<PageRanges> r = f.get();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 1u);
  EXPECT_EQ(rec.threads.size(), 2u);
  helper.help();  // no job: returns at once
}

// The helper's CPU (the "task's": CPU 0) is kept busy by a child at the ordinary policy, so
// the helper, at the idle policy there, does not get to begin the job handed to it: help(),
// from the test's thread on CPU 1, runs the job itself, and returns once it is done. The idle
// policy still leaves the helper a sliver of CPU 0 (and a virtual CPU 1 may stall between
// handing the job over and help()): a helper that did begin the job is a try that missed the
// case, and another is made; without help() taking a job back, every try misses.
TEST(FreezeHelperTest, help_runs_a_job_the_starved_helper_has_not_begun) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs 2 CPUs: a busy one and the test's";
  cpu_set_t mine, cpu0, cpu1;
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  CPU_ZERO(&cpu0);
  CPU_SET(0, &cpu0);
  CPU_ZERO(&cpu1);
  CPU_SET(1, &cpu1);
  pid_t busy = ::fork();
  ASSERT_GE(busy, 0);
  if (busy == 0) {
    ::sched_setaffinity(0, sizeof cpu0, &cpu0);
    for (;;) {
    }
  }
  struct Restore {
    pid_t busy;
    cpu_set_t mine;
    ~Restore() {
      ::kill(busy, SIGKILL);
      ::waitpid(busy, nullptr, 0);
      ::sched_setaffinity(0, sizeof mine, &mine);
    }
  } restore{busy, mine};
  ASSERT_EQ(::sched_setaffinity(busy, sizeof cpu0, &cpu0), 0);
  ASSERT_EQ(::sched_setaffinity(0, sizeof cpu1, &cpu1), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // (the child spins on CPU 0)
  constexpr int kTries = 5;
  int missed = 0;
  for (int attempt = 0; attempt < kTries; ++attempt) {
    FreezeHelper helper(busy);  // placed on CPU 0, the child's, at the idle policy
    std::atomic<std::thread::id> ranOn{};
    auto f = helper.run([&]() -> std::optional<PageRanges> {
      ranOn = std::this_thread::get_id();
      return PageRanges{{0, 4096}};
    });
    helper.help();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready)
        << "help() returned before the job was done";
    ASSERT_TRUE(f.get().has_value());
    if (ranOn.load() == std::this_thread::get_id()) break;
    ++missed;  // the helper got to the job first
  }
  std::cout << "[helper] " << missed << " of the tries had the helper begin the job first\n";
  EXPECT_LT(missed, kTries) << "help() never ran the job the starved helper had not begun";
}

}  // namespace cryo::test
