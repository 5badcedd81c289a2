// WorkShare: a loop of independent items run by one thread that another thread may join.
#include "realtime/WorkShare.h"

#include <utility>

namespace cryo {

namespace {
thread_local WorkShare* tCurrent = nullptr;
}  // namespace

WorkShare* WorkShare::ofThisThread() { return tCurrent; }

void WorkShare::each(size_t n, const std::function<void(size_t)>& fn) {
  if (WorkShare* share = ofThisThread()) return share->forEach(n, fn);
  for (size_t i = 0; i < n; ++i) fn(i);
}

WorkShare::Job::Job(WorkShare& share) : previous_(tCurrent) { tCurrent = &share; }

WorkShare::Job::~Job() { tCurrent = previous_; }

void WorkShare::open() {
  std::lock_guard<std::mutex> l(mu_);
  open_ = true;
}

void WorkShare::close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    open_ = false;
  }
  cv_.notify_all();
}

void WorkShare::runItems(std::unique_lock<std::mutex>& l) {
  while (fn_ && next_ < count_ && !error_) {
    size_t i = next_++;
    ++running_;
    const std::function<void(size_t)>& fn = *fn_;
    l.unlock();
    std::exception_ptr err;
    try {
      fn(i);
    } catch (...) {
      err = std::current_exception();
    }
    l.lock();
    if (err && !error_) error_ = err;
    --running_;
  }
  cv_.notify_all();
}

void WorkShare::forEach(size_t n, const std::function<void(size_t)>& fn) {
  std::unique_lock<std::mutex> l(mu_);
  fn_ = &fn;
  next_ = 0;
  count_ = n;
  error_ = nullptr;
  cv_.notify_all();
  runItems(l);
  cv_.wait(l, [&] { return running_ == 0; });
  fn_ = nullptr;
  count_ = 0;
  std::exception_ptr err = std::exchange(error_, nullptr);
  l.unlock();
  if (err) std::rethrow_exception(err);
}

void WorkShare::join() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    runItems(l);
    if (!open_) return;
    cv_.wait(l, [&] { return !open_ || (fn_ && next_ < count_ && !error_); });
  }
}

}  // namespace cryo
