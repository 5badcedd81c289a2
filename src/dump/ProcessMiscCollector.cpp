// ProcessMiscCollector: process-wide odds and ends (umask, cwd, root, personality, interval
// timers, rlimits, prctl flags) and the refusal of what cryo cannot restore yet (child
// processes, foreign namespaces, seccomp filters).
#include "dump/ProcessMiscCollector.h"

#include <optional>
#include <string>
#include <vector>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

bool endsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

int64_t toUs(const timeval& tv) { return int64_t(tv.tv_sec) * 1000000 + tv.tv_usec; }

}  // namespace

void ProcessMiscCollector::refuseUnsupported(DumpContext& ctx,
                                             const std::map<std::string, std::string>& st) {
  pid_t pid = ctx.pid();
  static const char* const kNamespaces[] = {"ipc", "mnt", "net", "pid", "user", "uts", "cgroup", "time"};
  // cryo's own namespaces, read once (it never changes them). The link's text names the
  // namespace ("net:[4026531840]"); reading it costs less than a stat, which opens it.
  static const std::vector<std::optional<std::string>> own = [] {
    std::vector<std::optional<std::string>> v;
    for (const char* ns : kNamespaces) {
      char buf[256];
      ssize_t n = ::readlink(("/proc/self/ns/" + std::string(ns)).c_str(), buf, sizeof buf);
      v.push_back(n > 0 ? std::optional<std::string>(std::string(buf, static_cast<size_t>(n)))
                        : std::nullopt);
    }
    return v;
  }();
  for (size_t i = 0; i < own.size(); ++i) {
    if (!own[i]) continue;
    const char* ns = kNamespaces[i];
    std::string theirs = ProcFs::readLink(ProcFs::path(pid, std::string("ns/") + ns));
    if (theirs != *own[i])
      fail("pid {} is in another {} namespace than cryo: namespaces are not supported yet", pid,
           ns);
  }
  auto seccomp = st.find("Seccomp");
  if (seccomp != st.end() && seccomp->second != "0")
    fail("pid {} runs under a seccomp filter (mode {}): not supported yet", pid, seccomp->second);
}

void ProcessMiscCollector::collect(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  const std::map<std::string, std::string>& st = ctx.status();
  refuseUnsupported(ctx, st);
  img::ProcessMisc* m = out.mutable_misc();
  auto umask = st.find("Umask");
  if (umask == st.end()) fail("pid {}: /proc/{}/status shows no Umask", pid, pid);
  m->set_umask(static_cast<uint32_t>(std::strtoul(umask->second.c_str(), nullptr, 8)));
  std::string cwd = ProcFs::readLink(ProcFs::path(pid, "cwd"));
  std::string root = ProcFs::readLink(ProcFs::path(pid, "root"));
  if (endsWith(cwd, " (deleted)"))
    fail("pid {}: its working directory {} was deleted; cannot checkpoint it", pid, cwd);
  if (endsWith(root, " (deleted)"))
    fail("pid {}: its root directory {} was deleted; cannot checkpoint it", pid, root);
  m->set_cwd(cwd);
  m->set_root(root);
  m->set_personality(static_cast<uint32_t>(
      std::strtoul(ProcFs::readFile(ProcFs::path(pid, "personality")).c_str(), nullptr, 16)));
  auto slack = ProcFs::tryReadFile(ProcFs::path(pid, "timerslack_ns"));
  if (slack) m->set_timerslack_ns(std::strtoull(slack->c_str(), nullptr, 10));

  // The queries only the task itself can make, in one batch of injected syscalls.
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  RemoteScratch& s = ctx.scratch();
  const int kTimers[] = {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF};
  uint64_t itv = s.alloc(3 * sizeof(itimerval));
  uint64_t ints = s.alloc(2 * 8);
  std::vector<RemoteSyscalls::BatchCall> calls(7);
  for (size_t i = 0; i < 3; ++i)
    calls[i] = {SYS_getitimer, {static_cast<uint64_t>(kTimers[i]), itv + i * sizeof(itimerval)}};
  calls[3] = {SYS_prctl, {PR_GET_CHILD_SUBREAPER, ints}};
  calls[4] = {SYS_prctl, {PR_GET_DUMPABLE}};
  calls[5] = {SYS_prctl, {PR_GET_THP_DISABLE}};
  calls[6] = {SYS_prctl, {PR_GET_PDEATHSIG, ints + 8}};
  static const char* const kWhat[] = {"getitimer(ITIMER_REAL)", "getitimer(ITIMER_VIRTUAL)",
                                      "getitimer(ITIMER_PROF)", "prctl(PR_GET_CHILD_SUBREAPER)",
                                      "prctl(PR_GET_DUMPABLE)", "prctl(PR_GET_THP_DISABLE)",
                                      "prctl(PR_GET_PDEATHSIG)"};
  rs.callBatch(calls, s.alloc(Registers::kBatchControlSize + calls.size() * Registers::kBatchEntrySize));
  for (size_t i = 0; i < calls.size(); ++i)
    if (calls[i].result < 0 && calls[i].result > -4096)
      throw SysError(fmt::format("{}: {} failed", rs.thread().who(), kWhat[i]),
                     static_cast<int>(-calls[i].result));
  itimerval timers[3];
  s.read(itv, timers, sizeof timers);
  for (size_t i = 0; i < 3; ++i) {
    const itimerval& v = timers[i];
    if (!v.it_value.tv_sec && !v.it_value.tv_usec) continue;
    img::ITimer* t = m->add_itimers();
    t->set_which(kTimers[i]);
    t->set_interval_us(toUs(v.it_interval));
    t->set_value_us(toUs(v.it_value));
  }
  int32_t intOut[4];
  s.read(ints, intOut, sizeof intOut);
  m->set_child_subreaper(intOut[0] != 0);
  m->set_dumpable(static_cast<int32_t>(calls[4].result));
  m->set_thp_disable(calls[5].result != 0);
  m->set_pdeath_signal(intOut[2]);

  for (int r = 0; r < RLIMIT_NLIMITS; ++r) {
    rlimit lim{};
    if (::prlimit(pid, static_cast<__rlimit_resource>(r), nullptr, &lim) != 0)
      failErrno("pid {}: cannot read rlimit {}", pid, r);
    img::Rlimit* l = out.add_rlimits();
    l->set_resource(r);
    l->set_cur(lim.rlim_cur);
    l->set_max(lim.rlim_max);
  }
}

}  // namespace cryo
