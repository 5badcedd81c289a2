// KernelViewCollector: records what the kernel shows of the frozen process (verify/KernelView)
// in the image, for `cryo restore --verify` to compare the restored process with.
#include "dump/KernelViewCollector.h"

#include <sched.h>

#include <chrono>
#include <string>

#include <spdlog/spdlog.h>

#include "dump/DumpContext.h"
#include "verify/KernelView.h"

namespace cryo {

namespace {

// A CPU set as /proc shows it in Cpus_allowed_list ("0-1,4").
std::string cpuList(const cpu_set_t& set) {
  std::string out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    int e = c;
    while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) ++e;
    out += (out.empty() ? "" : ",") + (e == c ? std::to_string(c) : fmt::format("{}-{}", c, e));
    c = e;
  }
  return out;
}

}  // namespace

// Run before the other collectors. The mappings are the ones the dump read before it touched
// anything (its own injection area left out), so that cryo's traces are not part of the view.
void KernelViewCollector::collect(DumpContext& ctx, img::Process& out) {
  if (!ctx.options().recordView) return;
  // While frozen, cryo holds every signal of a thread blocked (for its injected calls) and
  // may hold the thread on its own CPUs: the thread's own mask and CPUs are what it had.
  // Settled first (a signal due is delivered then), as the other collectors see it.
  KernelView::Fields threads;
  for (auto& t : ctx.freezer().threads()) {
    std::string prefix = fmt::format("thread {} ", t->tid());
    threads[prefix + "SigBlk"] = fmt::format("{:016x}", ctx.syscalls(t->tid()).originalSigmask());
    threads[prefix + "Cpus_allowed_list"] = cpuList(ctx.threadCpus(t->tid()));
  }
  auto start = std::chrono::steady_clock::now();  // (the settling is not this view's cost)
  KernelView::Fields fields = KernelView::ofProcess(ctx.pid(), ctx.maps(), false);
  fields.merge(threads);
  for (const auto& [key, value] : fields) {
    img::KernelViewField* f = out.add_kernel_view();
    f->set_key(key);
    f->set_value(value);
  }
  out.set_kernel_view_recorded(true);
  spdlog::debug("pid {}: kernel view recorded ({} fields) in {} us", ctx.pid(),
                out.kernel_view_size(),
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count());
}

}  // namespace cryo
