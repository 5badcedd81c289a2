// FreezeHelper: a freeze's helper thread, waiting on the frozen task's CPUs at the idle policy.
#include "realtime/FreezeHelper.h"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

namespace cryo {

FreezeHelper::FreezeHelper(pid_t pid) : pid_(pid), thread_([this] { loop(); }) {
  place();
  // Placement and policy are a matter of speed only: if refused, jobs run as they are.
  sched_param p{};
  if (int e = ::pthread_setschedparam(thread_.native_handle(), SCHED_IDLE, &p))
    spdlog::debug("pid {}: freeze helper at the ordinary policy: {}", pid_, std::strerror(e));
}

void FreezeHelper::place() {
  cpu_set_t own, task, cpus;
  CPU_ZERO(&own);
  CPU_ZERO(&task);
  CPU_ZERO(&cpus);
  if (::sched_getaffinity(0, sizeof own, &own) != 0 ||
      ::sched_getaffinity(pid_, sizeof task, &task) != 0)
    return;  // (the task is gone: the dump says so)
  CPU_XOR(&cpus, &task, &own);
  CPU_AND(&cpus, &cpus, &task);
  if (CPU_COUNT(&cpus) == 0) CPU_OR(&cpus, &task, &own);
  if (int e = ::pthread_setaffinity_np(thread_.native_handle(), sizeof cpus, &cpus))
    spdlog::debug("pid {}: freeze helper left on cryo's CPUs: {}", pid_, std::strerror(e));
}

FreezeHelper::~FreezeHelper() {
  // At the idle policy on the task's busy CPUs the thread would wake to end only when those
  // CPUs have nothing else to run (tens of milliseconds with a busy task): it ends on the
  // calling thread's CPUs, at the ordinary policy (a matter of speed only: if refused, it
  // ends later).
  sched_param p{};
  cpu_set_t own;
  CPU_ZERO(&own);
  if (::sched_getaffinity(0, sizeof own, &own) == 0)
    ::pthread_setaffinity_np(thread_.native_handle(), sizeof own, &own);
  ::pthread_setschedparam(thread_.native_handle(), SCHED_OTHER, &p);
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    handed_.store(true, std::memory_order_release);  // (ends a watch)
  }
  cv_.notify_one();
  thread_.join();
}

std::future<std::optional<PageRanges>> FreezeHelper::run(Job job) {
  {
    std::lock_guard<std::mutex> l(mu_);
    busy_ = true;
  }
  share_.open();
  // Closed as the job ends, before its result is ready: a thread in help() then returns, and
  // the next job may be handed over.
  std::packaged_task<std::optional<PageRanges>()> task([this, job = std::move(job)] {
    struct Closer {
      FreezeHelper& h;
      ~Closer() {
        h.share_.close();
        std::lock_guard<std::mutex> l(h.mu_);
        h.busy_ = false;
      }
    } closer{*this};
    WorkShare::Job shared(share_);
    return job();
  });
  auto f = task.get_future();
  {
    std::lock_guard<std::mutex> l(mu_);
    job_.emplace(std::move(task));
    handed_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
  return f;
}

namespace {
int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// After a job, the next one of the same freeze (the copy after the scan) comes within this.
constexpr int64_t kWatchAfterJobUs = 200;
}  // namespace

void FreezeHelper::watchForJob() {
  while (!handed_.load(std::memory_order_acquire)) {
    if (nowNs() >= watchUntilNs_.load(std::memory_order_relaxed)) return;
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
}

void FreezeHelper::takeBack() {
  std::optional<std::packaged_task<std::optional<PageRanges>()>> job;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!job_) return;
    job.swap(job_);
    handed_.store(false, std::memory_order_relaxed);
  }
  (*job)();  // the result, or the exception, goes to the future
}

void FreezeHelper::forEach(size_t n, const std::function<void(size_t)>& fn) {
  bool busy;
  {
    std::lock_guard<std::mutex> l(mu_);
    busy = busy_;
  }
  if (busy || n < 2) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  WorkShare work;
  work.open();
  auto joined = run([&work]() -> std::optional<PageRanges> {
    work.join();
    return std::nullopt;
  });
  struct Ender {
    FreezeHelper& helper;
    WorkShare& work;
    std::future<std::optional<PageRanges>>& joined;
    ~Ender() {
      work.close();
      helper.takeBack();  // (not begun: it joins a closed loop, at once)
      joined.wait();      // the helper is out of the loop before it is destroyed
    }
  } ender{*this, work, joined};
  work.forEach(n, fn);
}

void FreezeHelper::loop() {
  ::pthread_setname_np(::pthread_self(), "cryo-helper");  // (as `top -H` shows it)
  for (;;) {
    std::optional<std::packaged_task<std::optional<PageRanges>()>> job;
    watchForJob();
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || job_.has_value(); });
      if (!job_) return;
      job.swap(job_);
      handed_.store(false, std::memory_order_relaxed);
    }
    (*job)();  // the result, or the exception, goes to the future
    watchUntilNs_.store(nowNs() + kWatchAfterJobUs * 1000, std::memory_order_relaxed);
  }
}

}  // namespace cryo
