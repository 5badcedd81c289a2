// ThreadsCollector: per-thread state of a frozen process: registers (general and extended),
// signal mask and pending signals, alternate stack, rseq, robust futex list, clear_child_tid,
// name and scheduling.
#include "dump/ThreadsCollector.h"

#include <elf.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/KernelCompat.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"
#include "inject/x86_64/SyscallRestart.h"

namespace cryo {

namespace {

void collectSched(const DumpContext& ctx, pid_t tid, img::SchedAttr* out) {
  cryo_sched_attr attr = ctx.threadSched(tid);  // (not the freeze's real-time priority)
  out->set_policy(attr.sched_policy);
  out->set_nice(attr.sched_nice);
  out->set_priority(attr.sched_priority);
  out->set_flags(attr.sched_flags);
  out->set_runtime(attr.sched_runtime);
  out->set_deadline(attr.sched_deadline);
  out->set_period(attr.sched_period);
  cpu_set_t set = ctx.threadCpus(tid);  // (not cryo's, where the freeze may hold it)
  out->set_affinity(std::string(reinterpret_cast<const char*>(&set), sizeof set));
}

}  // namespace

void ThreadsCollector::collect(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  for (auto& tp : ctx.freezer().threads()) {
    Tracee& t = *tp;
    pid_t tid = t.tid();
    RemoteSyscalls& rs = ctx.syscalls(tid);  // settles the thread
    img::Thread* th = out.add_threads();
    th->set_tid(tid);
    const Registers& frozen = rs.originalRegs();
    th->set_in_syscall(SyscallRestart::interruptedSyscall(frozen));
    Registers img = SyscallRestart::forImage(frozen);
    th->set_gpregs(std::string(reinterpret_cast<const char*>(&img.raw()), sizeof img.raw()));
    std::vector<uint8_t> xs = t.regset(NT_X86_XSTATE, 64 * 1024);
    th->set_xstate(std::string(xs.begin(), xs.end()));
    th->set_xstate_type(NT_X86_XSTATE);
    th->set_signal_mask(rs.originalSigmask());
    for (const siginfo_t& si : t.pendingSignals(false))
      th->add_pending()->set_siginfo(std::string(reinterpret_cast<const char*>(&si), sizeof si));

    RemoteScratch& s = ctx.scratch();
    uint64_t ssAddr = s.alloc(sizeof(stack_t));
    rs.check("sigaltstack query", SYS_sigaltstack, 0, ssAddr);
    stack_t ss = s.get<stack_t>(ssAddr);
    th->mutable_altstack()->set_sp(reinterpret_cast<uint64_t>(ss.ss_sp));
    th->mutable_altstack()->set_size(ss.ss_size);
    th->mutable_altstack()->set_flags(ss.ss_flags);

    uint64_t tidAddr = s.alloc(8);
    rs.check("prctl(PR_GET_TID_ADDRESS)", SYS_prctl, PR_GET_TID_ADDRESS, tidAddr);
    th->set_clear_child_tid(s.get<uint64_t>(tidAddr));

    cryo_ptrace_rseq_configuration rc = t.rseq();
    th->mutable_rseq()->set_pointer(rc.rseq_abi_pointer);
    th->mutable_rseq()->set_size(rc.rseq_abi_size);
    th->mutable_rseq()->set_signature(rc.signature);

    void* head = nullptr;
    size_t len = 0;
    if (::syscall(SYS_get_robust_list, tid, &head, &len) != 0)
      failErrno("pid {} tid {}: get_robust_list failed", pid, tid);
    th->set_robust_list(reinterpret_cast<uint64_t>(head));
    th->set_robust_list_len(len);

    // The main thread's name is in the process's stat, read once it was frozen.
    std::string comm =
        tid == pid ? ctx.stat().comm
                   : ProcFs::readFile(ProcFs::path(pid, "task/" + std::to_string(tid) + "/comm"));
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    th->set_comm(comm);
    collectSched(ctx, tid, th->mutable_sched());
  }
}

}  // namespace cryo
