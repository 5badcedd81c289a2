// WorkShare: a loop of independent items run by one thread that another thread may join
// part-way (work that starts on one thread and is shared once a second thread has nothing
// else to do).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>

namespace cryo {

class WorkShare {
 public:
  WorkShare() = default;
  WorkShare(const WorkShare&) = delete;
  WorkShare& operator=(const WorkShare&) = delete;

  // The share the calling thread runs a job for (see Job), or null: where a loop may be shared.
  static WorkShare* ofThisThread();

  // Marks the calling thread as running a job for `share` while it lives: forEach() on this
  // thread shares its items through it. Opened when the job is handed over, closed (so that a
  // joining thread returns) when the job ends, by the owner of the share.
  class Job {
   public:
    explicit Job(WorkShare& share);
    Job(const Job&) = delete;
    Job& operator=(const Job&) = delete;
    ~Job();

   private:
    WorkShare* previous_;
  };

  // Runs fn(0) … fn(n-1): through the calling thread's share (forEach) when it runs a job for
  // one, else simply in order.
  static void each(size_t n, const std::function<void(size_t)>& fn);

  // A job is on its way (called by whoever hands it over, before the joiner may join).
  void open();
  // The job ended: a thread in join() returns.
  void close();

  // Runs fn(0) … fn(n-1), each once, on the calling thread and on a thread in join() meanwhile;
  // returns when all are done (items must not call forEach themselves). The first exception thrown by an item is rethrown here (the
  // items already started still finish; those not started are not run).
  void forEach(size_t n, const std::function<void(size_t)>& fn);
  // Runs items of the loops the job shares until the job is closed. Returns at once if no job
  // is open.
  void join();

 private:
  // Takes and runs items of the current loop while some are left (lock held on entry and exit).
  void runItems(std::unique_lock<std::mutex>& l);

  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  const std::function<void(size_t)>* fn_ = nullptr;  // the loop being shared, if any
  size_t next_ = 0, count_ = 0, running_ = 0;
  std::exception_ptr error_;
};

}  // namespace cryo
