// RestoreDriver: restores a process from an image: validate everything first, build the shell,
// run every restorer, set the final registers and let all threads run. On any failure the
// half-built process is killed, so nothing is left behind.
#include "restore/RestoreDriver.h"

#include <signal.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/ProcFs.h"
#include "image/ImageChain.h"
#include "restore/ProcessBuilder.h"
#include "restore/RestorerRegistry.h"

namespace cryo {


void RestoreDriver::finalizeThreads(RestoreContext& ctx, const img::Process& in) {
  for (const auto& th : in.threads()) {
    Tracee& t = ctx.thread(th.tid());
    if (!th.xstate().empty())
      t.setRegset(static_cast<int>(th.xstate_type()),
                  std::vector<uint8_t>(th.xstate().begin(), th.xstate().end()));
    user_regs_struct raw{};
    if (th.gpregs().size() != sizeof raw)
      fail("pid {} tid {}: saved registers have {} bytes, expected {}", ctx.pid(), th.tid(),
           th.gpregs().size(), sizeof raw);
    std::memcpy(&raw, th.gpregs().data(), sizeof raw);
    Registers r(raw);
    r.setSyscallNo(-1);
    t.setRegs(r);
    t.setSignalMask(th.signal_mask());
  }
}

RestoreResult RestoreDriver::run(const std::filesystem::path& dir, const RestoreOptions& opts) {
  auto start = std::chrono::steady_clock::now();
  ImageChain chain(dir);
  const ImageReader& image = chain.newest();
  const img::Tree& tree = image.tree();
  if (tree.processes_size() != 1)
    fail("image {}: holds {} processes; this cryo restores exactly one", dir.string(),
         tree.processes_size());
  if (image.manifest().arch() != CRYO_ARCH)
    fail("image {}: made on {}, cannot restore on {}", dir.string(), image.manifest().arch(),
         CRYO_ARCH);
  const img::Process& proc = tree.processes(0);
  RestoreContext ctx(chain, proc, opts);
  auto restorers = RestorerRegistry::all();
  for (auto& r : restorers) r->validate(ctx, proc);
  if (ProcFs::exists(proc.pid())) fail("cannot restore: {}", ProcFs::describe(proc.pid()));

  ShellGuard guard;
  ProcessBuilder::createShell(ctx, guard);
  for (auto& r : restorers) {
    try {
      r->restore(ctx, proc);
    } catch (const Error& e) {
      throw Error(fmt::format("restore of pid {} failed ({} state): {}", proc.pid(), r->name(),
                              e.what()));
    }
    if (r->name() == "memory") FaultPoint::hit("restore-after-memory");
  }
  ProcessBuilder::removeScaffolding(ctx);
  finalizeThreads(ctx, proc);
  FaultPoint::hit("restore-before-detach");
  ctx.forgetSyscalls();
  for (auto& t : ctx.threads()) t->detach();
  guard.disarm();
  RestoreResult res;
  res.pid = proc.pid();
  res.totalUs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now() - start)
                                          .count());
  return res;
}

}  // namespace cryo
