// FreezeHelper: a thread beside the tracer thread for a part of a freeze's work (finding the
// written pages, half of copying them). It is started before the freeze and waits on the frozen
// task's CPUs: the task cannot run its own code meanwhile, and the thread has the idle policy
// (SCHED_IDLE), so it takes only time no one else wants. (An injected call of the task on that
// CPU may still wait for the end of one of its walks: the kernel is not preempted inside one
// here.) The tracer thread takes part in a job's loops once it has nothing else to do (help),
// and runs a job itself that the thread has not begun (takeBack): when the task's CPUs are
// taken by others, the idle policy may keep the thread off them for milliseconds. A caller
// that freezes the same task again keeps one helper (DumpOptions::keptHelper).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "realtime/WorkShare.h"
#include "dump/PageSelection.h"

namespace cryo {

class FreezeHelper {
 public:
  using Job = std::function<std::optional<PageRanges>()>;
  // Starts the thread for task `pid` (placed on the task's CPUs that cryo does not use, or on
  // all of both), waiting for a job. The placement and the idle policy are set here, by the
  // calling thread, before the new thread first runs: else it would run first wherever the
  // kernel put it (beside the tracer thread) at the ordinary policy, and that first run may
  // come as late as the freeze, where it takes the tracer thread's CPU.
  explicit FreezeHelper(pid_t pid);
  FreezeHelper(const FreezeHelper&) = delete;
  FreezeHelper& operator=(const FreezeHelper&) = delete;
  ~FreezeHelper();  // waits for a job in progress, then ends the thread

  // Hands `job` to the thread (one at a time: the previous one's future must be done).
  // A loop the job makes through WorkShare::each is shared with a thread in help().
  std::future<std::optional<PageRanges>> run(Job job);
  // Takes part in the running job's shared loops until it ends (at once if none runs): for
  // the thread that would otherwise wait for its result. A job the thread has not begun yet
  // is run here instead (see takeBack).
  void help() {
    takeBack();
    share_.join();
  }
  // Runs here, on the calling thread, a job handed over that the thread has not begun: its
  // CPU is taken (by the task's other work, a kernel thread), and at the idle policy it may
  // not get it for milliseconds. Nothing if the thread took it already.
  void takeBack();
  // Runs fn(0) … fn(n-1) on the calling thread and this one together; returns when all are
  // done (the first exception of an item is rethrown). With a job still running, the calling
  // thread runs them alone.
  void forEach(size_t n, const std::function<void(size_t)>& fn);
  // Places the thread again from the task's CPUs as they are now (a helper kept from one
  // checkpoint to the next, whose task may have moved meanwhile). Not while frozen: the
  // task's threads may be held on cryo's CPUs then.
  void place();
  pid_t pid() const { return pid_; }

 private:
  void loop();
  // After a job, the thread watches for the next one for a while (the copy follows the scan
  // within a freeze) instead of sleeping, so that it starts without the wake-up of an idle
  // CPU (tens of microseconds here). Spins until a job is handed over or the watch ends.
  // (Not before a freeze: the spinning would share the CPU with the threads being seized.)
  void watchForJob();

  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::packaged_task<std::optional<PageRanges>()>> job_;
  bool stop_ = false;
  bool busy_ = false;  // a job was handed over and has not ended
  std::atomic<bool> handed_{false};       // job_ holds a job (read without the lock)
  std::atomic<int64_t> watchUntilNs_{0};  // steady clock: until when to spin for a job
  WorkShare share_;
  pid_t pid_;
  std::thread thread_;
};

}  // namespace cryo
