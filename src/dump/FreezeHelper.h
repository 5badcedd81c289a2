// FreezeHelper: a thread beside the tracer thread for a part of a freeze's work (finding the
// written pages). It is started before the freeze and waits on the frozen task's CPUs: the
// task cannot run its own code meanwhile, and the thread has the idle policy (SCHED_IDLE), so
// it takes only time no one else wants. (An injected call of the task on that CPU may still
// wait for the end of one of its walks: the kernel is not preempted inside one here.)
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "dump/PageSelection.h"

namespace cryo {

class FreezeHelper {
 public:
  using Job = std::function<std::optional<PageRanges>()>;
  // Starts the thread for task `pid` (placed on the task's CPUs that cryo does not use, or on
  // all of both), waiting for a job.
  explicit FreezeHelper(pid_t pid);
  FreezeHelper(const FreezeHelper&) = delete;
  FreezeHelper& operator=(const FreezeHelper&) = delete;
  ~FreezeHelper();  // waits for a job in progress, then ends the thread

  // Hands `job` to the thread (one at a time: the previous one's future must be done).
  std::future<std::optional<PageRanges>> run(Job job);

 private:
  void loop(pid_t pid);

  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::packaged_task<std::optional<PageRanges>()>> job_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cryo
