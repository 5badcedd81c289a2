// ProcessFreezerTest: a process whose threads keep taking signals is frozen every time, with
// no signal lost: a signal stop that comes before the interrupt stop does not use it up.
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include <gtest/gtest.h>

#include "common/Error.h"
#include "inject/ProcessFreezer.h"

namespace cryo {
namespace {

std::atomic<unsigned long> g_handled{0};

void onTimer(int) { g_handled.fetch_add(1, std::memory_order_relaxed); }

// A thread that waits for a signal that never comes: the timer's signal interrupts the wait
// and is handled on this thread too, in a signal stop while traced.
void* waiter(void*) {
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGUSR2);
  for (;;) {
    siginfo_t si;
    ::sigwaitinfo(&wanted, &si);
  }
  return nullptr;
}

// The child: a process-directed timer signal every 100 µs, handled by whichever of its two
// threads the kernel picks (the one not frozen, while the freeze goes thread by thread).
[[noreturn]] void stormChild(int reportFd) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = onTimer;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGUSR1, &sa, nullptr) != 0) ::_exit(2);
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  ::pthread_sigmask(SIG_BLOCK, &usr2, nullptr);
  pthread_t th;
  if (::pthread_create(&th, nullptr, waiter, nullptr) != 0) ::_exit(3);
  sigevent se;
  std::memset(&se, 0, sizeof se);
  se.sigev_notify = SIGEV_SIGNAL;
  se.sigev_signo = SIGUSR1;
  timer_t t;
  if (::timer_create(CLOCK_MONOTONIC, &se, &t) != 0) ::_exit(4);
  itimerspec its{};
  its.it_value.tv_nsec = 100'000;
  its.it_interval.tv_nsec = 100'000;
  if (::timer_settime(t, 0, &its, nullptr) != 0) ::_exit(5);
  // Tell the parent once signals are flowing; then report the count on each byte read.
  while (g_handled.load() < 10) ::pause();
  char c = 'r';
  if (::write(reportFd, &c, 1) != 1) ::_exit(6);
  for (;;) ::pause();
}

TEST(ProcessFreezerTest, freeze_holds_every_thread_of_a_process_under_a_signal_storm) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    stormChild(fds[1]);
  }
  ::close(fds[1]);
  char c;
  ASSERT_EQ(::read(fds[0], &c, 1), 1) << "the child did not start its timer";
  ::close(fds[0]);
  constexpr int kFreezes = 400;
  int frozen = 0;
  std::string error;
  for (int i = 0; i < kFreezes; ++i) {
    try {
      ProcessFreezer f(child);
      EXPECT_EQ(f.threads().size(), 2u);
      f.thaw();
      ++frozen;
    } catch (const Error& e) {
      error = e.what();
      break;
    }
  }
  // The child is still alive and handling signals: none of the freezes killed or wedged it.
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, WNOHANG), 0) << "the child died, status " << status;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(frozen, kFreezes) << "freeze " << frozen << " failed: " << error;
}

}  // namespace
}  // namespace cryo
