// IdleThread: runs a piece of a test on a new thread at SCHED_IDLE, pinned to the first CPU of the caller's set (as a freeze's helper waits on the task's CPU).
#pragma once

#include <functional>

namespace cryo::test {

// Runs `fn` on a new thread at SCHED_IDLE on the first CPU the calling thread may use, and
// waits for it. A failed placement is a test failure (the thread then does not run `fn`).
void onIdleThread(const std::function<void()>& fn);

}  // namespace cryo::test
