// TimerFdRestorer: timerfd descriptors created again on their clock and re-armed with the
// time that was left at the dump, their interval and their unread expirations.
#include "restore/fds/TimerFdRestorer.h"

#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/KernelCompat.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"

namespace cryo {

namespace {

timespec toTimespec(uint64_t ns) {
  return {static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
}

// Arms the timer to expire `leftNs` from now, then every `intervalNs`. The time left counts
// from now: the time the task was not running does not count as passed. An absolute timer
// (TFD_TIMER_ABSTIME) is given the absolute time now + left on its clock, so that it keeps
// its flags (TFD_TIMER_CANCEL_ON_SET needs an absolute time).
void arm(int fd, clockid_t clock, uint32_t flags, uint64_t leftNs, uint64_t intervalNs,
         const std::string& who) {
  itimerspec its{};
  its.it_interval = toTimespec(intervalNs);
  uint64_t at = leftNs;
  if (flags & TFD_TIMER_ABSTIME) {
    timespec now{};
    if (::clock_gettime(clock, &now) != 0) failErrno("{}: clock_gettime({})", who, clock);
    at += static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
  }
  its.it_value = toTimespec(at);
  if (::timerfd_settime(fd, static_cast<int>(flags), &its, nullptr) != 0)
    failErrno("{}: timerfd_settime", who);
}

}  // namespace

bool TimerFdRestorer::handles(img::FileDescription::Kind kind) const {
  return kind == img::FileDescription::TIMERFD;
}

int TimerFdRestorer::open(FdInstaller& inst, const img::FileDescription& d) {
  const img::TimerFd& t = d.timerfd();
  std::string who = inst.who(d);
  int fd = inst.high(static_cast<int>(inst.sys(fmt::format("{}: timerfd_create({})", who,
                                                           t.clockid()),
                                               SYS_timerfd_create,
                                               static_cast<uint64_t>(t.clockid()), TFD_CLOEXEC)));
  // The timer belongs to the open file, not to the process: cryo sets it through a copy.
  UniqueFd copy = inst.context().takeFd(fd);
  clockid_t clock = static_cast<clockid_t>(t.clockid());
  if (t.value_ns()) arm(copy.get(), clock, t.settime_flags(), t.value_ns(), t.interval_ns(), who);
  if (t.ticks()) {
    uint64_t ticks = t.ticks();
    if (::ioctl(copy.get(), TFD_IOC_SET_TICKS, &ticks) != 0) {
      if (errno != ENOTTY && errno != EINVAL) failErrno("{}: set {} unread expirations", who, ticks);
      // No way to set the count on this kernel: expire once right away, so that a read sees
      // at least one expiration; the period then counts from now.
      spdlog::warn("{}: this kernel cannot set a timerfd's count of {} unread expirations "
                   "(TFD_IOC_SET_TICKS); it shows 1, and its period restarts now",
                   who, ticks);
      arm(copy.get(), clock, t.settime_flags() & ~uint32_t(TFD_TIMER_CANCEL_ON_SET), 1,
          t.interval_ns(), who);
    }
  }
  inst.setFlags(fd, d);
  return fd;
}

}  // namespace cryo
