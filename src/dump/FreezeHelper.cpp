// FreezeHelper: a freeze's helper thread, waiting on the frozen task's CPUs at the idle policy.
#include "dump/FreezeHelper.h"

#include <sched.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace cryo {

FreezeHelper::FreezeHelper(pid_t pid) : thread_([this, pid] { loop(pid); }) {}

FreezeHelper::~FreezeHelper() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

std::future<std::optional<PageRanges>> FreezeHelper::run(Job job) {
  std::packaged_task<std::optional<PageRanges>()> task(std::move(job));
  auto f = task.get_future();
  {
    std::lock_guard<std::mutex> l(mu_);
    job_.emplace(std::move(task));
  }
  cv_.notify_one();
  return f;
}

void FreezeHelper::loop(pid_t pid) {
  // Placement and policy are a matter of speed only: if refused, jobs run as they are.
  cpu_set_t own, task, cpus;
  CPU_ZERO(&own);
  CPU_ZERO(&task);
  CPU_ZERO(&cpus);
  if (::sched_getaffinity(0, sizeof own, &own) == 0 &&
      ::sched_getaffinity(pid, sizeof task, &task) == 0) {
    CPU_XOR(&cpus, &task, &own);
    CPU_AND(&cpus, &cpus, &task);
    if (CPU_COUNT(&cpus) == 0) CPU_OR(&cpus, &task, &own);
    if (::sched_setaffinity(0, sizeof cpus, &cpus) != 0)
      spdlog::debug("pid {}: freeze helper left on cryo's CPUs: {}", pid, std::strerror(errno));
  }
  sched_param p{};
  if (::sched_setscheduler(0, SCHED_IDLE, &p) != 0)
    spdlog::debug("pid {}: freeze helper at the ordinary policy: {}", pid, std::strerror(errno));
  for (;;) {
    std::optional<std::packaged_task<std::optional<PageRanges>()>> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || job_.has_value(); });
      if (!job_) return;
      job.swap(job_);
    }
    (*job)();  // the result, or the exception, goes to the future
  }
}

}  // namespace cryo
