// RestoreDriver: restores a process tree from an image: validate everything first, build the
// shells (parents fork their children), run every restorer per process, set the final
// registers and let all threads run. On any failure every half-built process is killed, so
// nothing is left behind.
#include "restore/RestoreDriver.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/ProcFs.h"
#include "image/ImageChain.h"
#include "restore/FilesRestorer.h"
#include "restore/ProcessBuilder.h"
#include "restore/RestorerRegistry.h"
#include "verify/RestoreVerifier.h"

namespace cryo {

namespace {

// Waits until every thread of `pid` is stopped (the SIGSTOP queued before the detach).
void awaitStopped(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    bool all = true;
    for (pid_t tid : ProcFs::threads(pid))
      if (ProcFs::stat(tid).state != 'T') all = false;  // (/proc/TID: the thread's own state)
    if (all) return;
    if (std::chrono::steady_clock::now() > deadline)
      fail("pid {} was restored but did not stop ({}): it is not left stopped",
           pid, ProcFs::describe(pid));
    ::usleep(200);
  }
}

// Whether `p` is left stopped once let go: asked for (--leave-stopped), or stopped by job
// control when it was checkpointed.
bool stopsOnRelease(const img::Process& p, const RestoreOptions& opts) {
  return !p.zombie() && (opts.leaveStopped || p.stop_signal() != 0);
}

}  // namespace

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

void RestoreDriver::runBeforeChildren(RestoreContext& ctx,
                                      std::vector<std::unique_ptr<Restorer>>& restorers) {
  for (auto& r : restorers) {
    try {
      r->beforeChildren(ctx, ctx.process());
    } catch (const Error& e) {
      throw Error(fmt::format("restore of pid {} failed ({} state): {}", ctx.pid(), r->name(),
                              e.what()));
    }
  }
}

void RestoreDriver::takeLocks(RestoreContext& ctx) {
  try {
    FilesRestorer::takeLocks(ctx, ctx.process());
  } catch (const Error& e) {
    throw Error(fmt::format("restore of pid {} failed (file locks): {}", ctx.pid(), e.what()));
  }
}

void RestoreDriver::checkTree(const img::Tree& tree, const std::filesystem::path& dir) {
  if (tree.processes_size() == 0) fail("image {}: holds no process: it is corrupt", dir.string());
  if (tree.processes(0).pid() != tree.root_pid() || tree.processes(0).zombie())
    fail("image {}: its first process is not the root {}: it is corrupt", dir.string(),
         tree.root_pid());
  std::set<pid_t> seen;
  for (const auto& p : tree.processes()) {
    if (p.pid() <= 0 || !seen.insert(p.pid()).second)
      fail("image {}: pid {} appears twice or is invalid: it is corrupt", dir.string(), p.pid());
    if (p.pid() != tree.root_pid() && !seen.count(p.ppid()))
      fail("image {}: the parent {} of pid {} is not saved before it: it is corrupt",
           dir.string(), p.ppid(), p.pid());
    for (int32_t with : {p.files_shared_with(), p.fs_shared_with()})
      if (with != 0 && (with != p.ppid() || p.zombie() || p.pid() == tree.root_pid()))
        fail("image {}: pid {} shares a table with pid {}, which is not its restored parent: it "
             "is corrupt",
             dir.string(), p.pid(), with);
  }
  std::set<pid_t> zombies;
  for (const auto& p : tree.processes())
    if (p.zombie()) zombies.insert(p.pid());
  for (const auto& p : tree.processes())
    if (zombies.count(p.files_shared_with()) || zombies.count(p.fs_shared_with()))
      fail("image {}: pid {} shares a table with a zombie: it is corrupt", dir.string(), p.pid());
}

void RestoreDriver::checkInheritFds(const img::Tree& tree, const RestoreOptions& opts) {
  std::set<std::string> had;
  for (const auto& p : tree.processes())
    for (const auto& d : p.files()) had.insert(d.description());
  for (const auto& [key, fd] : opts.inheritFds) {
    if (!had.count(key) && opts.inheritOptional) {
      spdlog::debug("--inherit-fd fd[{}]:{}: no process of the image had it open", fd, key);
      continue;
    }
    if (!had.count(key)) {
      std::string outside;
      for (const auto& p : tree.processes())
        for (const auto& d : p.files())
          if (d.pipe_peer_outside() || d.kind() == img::FileDescription::INHERITED)
            outside += fmt::format("{}{}", outside.empty() ? "" : ", ", d.description());
      fail("--inherit-fd fd[{}]:{}: no process of the image had {} open (connected outside the "
           "task: {})",
           fd, key, key, outside.empty() ? "nothing" : outside);
    }
    if (::fcntl(fd, F_GETFD) < 0) failErrno("--inherit-fd fd[{}]:{}: fd {} is not open", fd, key, fd);
  }
}

RestoreResult RestoreDriver::run(const std::filesystem::path& dir, const RestoreOptions& opts) {
  auto start = std::chrono::steady_clock::now();
  ImageChain chain(dir);
  const ImageReader& image = chain.newest();
  const img::Tree& tree = image.tree();
  if (opts.verify) RestoreVerifier::requireView(image.manifest());
  if (image.manifest().arch() != CRYO_ARCH)
    fail("image {}: made on {}, cannot restore on {}", dir.string(), image.manifest().arch(),
         CRYO_ARCH);
  checkTree(tree, dir);
  checkInheritFds(tree, opts);

  // One context and one set of restorers per process; what processes share goes through
  // `shared`.
  TreeFiles shared;
  for (const auto& p : tree.processes())
    for (const auto& v : p.vmas())
      if (v.shmem_id()) shared.noteSharedSize(v.shmem_id(), v.pgoff() + (v.end() - v.start()));
  struct Member {
    std::unique_ptr<RestoreContext> ctx;
    std::vector<std::unique_ptr<Restorer>> restorers;
  };
  std::vector<Member> members;
  std::map<pid_t, size_t> index;
  for (const auto& p : tree.processes()) {
    Member m;
    m.ctx = std::make_unique<RestoreContext>(chain, p, opts);
    m.ctx->setTreeFiles(&shared);
    m.ctx->setTreeSize(tree.processes_size());
    m.ctx->setParentRestored(p.pid() != tree.root_pid());
    if (!p.zombie()) {
      m.restorers = RestorerRegistry::all();
      for (auto& r : m.restorers) r->validate(*m.ctx, p);
    }
    index[p.pid()] = members.size();
    members.push_back(std::move(m));
  }
  for (const auto& p : tree.processes())
    if (ProcFs::exists(p.pid())) fail("cannot restore: {}", ProcFs::describe(p.pid()));

  // The shells, parents first: each child is forked by its parent's shell once the parent's
  // memory is in place (the child inherits what it shared), so the tree has its saved shape;
  // then process groups led by others are joined, zombies end.
  ShellGuard guard;
  ProcessBuilder::createShell(*members[0].ctx, guard, tree);
  runBeforeChildren(*members[0].ctx, members[0].restorers);
  for (size_t i = 1; i < members.size(); ++i) {
    Member& parent = members[index.at(members[i].ctx->process().ppid())];
    ProcessBuilder::createChildShell(*members[i].ctx, *parent.ctx, guard);
    auto& own = members[i].restorers;
    for (size_t k = 0; k < own.size() && k < parent.restorers.size(); ++k)
      own[k]->bornFrom(*parent.restorers[k]);
    runBeforeChildren(*members[i].ctx, own);
  }
  for (auto& m : members)
    ProcessBuilder::joinProcessGroup(*m.ctx, index.count(m.ctx->process().pgid()) != 0);
  // Of processes sharing cwd, root and umask, the last restored sets them.
  std::map<pid_t, pid_t> fsTop;
  std::map<pid_t, RestoreContext*> fsLast;
  for (auto& m : members) {
    const img::Process& p = m.ctx->process();
    fsTop[p.pid()] = m.ctx->sharesFs() ? fsTop.at(p.ppid()) : p.pid();
    m.ctx->setRestoresFs(false);
    fsLast[fsTop[p.pid()]] = m.ctx.get();
  }
  for (auto& [top, ctx] : fsLast) ctx->setRestoresFs(true);
  for (size_t i = members.size(); i-- > 1;)
    if (members[i].ctx->process().zombie())
      ProcessBuilder::becomeZombie(*members[i].ctx,
                                   *members[index.at(members[i].ctx->process().ppid())].ctx);

  for (auto& m : members) {
    const img::Process& proc = m.ctx->process();
    if (proc.zombie()) continue;
    for (auto& r : m.restorers) {
      try {
        r->restore(*m.ctx, proc);
      } catch (const Error& e) {
        throw Error(fmt::format("restore of pid {} failed ({} state): {}", proc.pid(), r->name(),
                                e.what()));
      }
      if (r->name() == "memory") FaultPoint::hit("restore-after-memory");
    }
  }
  for (auto& m : members)
    if (!m.ctx->process().zombie()) takeLocks(*m.ctx);
  for (auto& m : members) {
    if (m.ctx->process().zombie()) continue;
    ProcessBuilder::removeScaffolding(*m.ctx);
    finalizeThreads(*m.ctx, m.ctx->process());
  }
  if (opts.verify) {
    auto verifyStart = std::chrono::steady_clock::now();
    try {
      RestoreVerifier::check(image.manifest(), tree);
    } catch (const Error&) {
      // The guard waits for each process, but a leader is not reported dead before its other
      // threads are reaped, and only cryo, their tracer, can reap them.
      for (auto& m : members) ::kill(static_cast<pid_t>(m.ctx->pid()), SIGKILL);
      for (auto& m : members)
        for (auto& t : m.ctx->threads())
          if (t->tid() != m.ctx->pid())
            while (::waitpid(t->tid(), nullptr, __WALL) < 0 && errno == EINTR) {
            }
      throw;
    }
    spdlog::info("restore --verify: {} processes as recorded, checked in {} us",
                 tree.processes_size(),
                 std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - verifyStart)
                     .count());
  }
  FaultPoint::hit("restore-before-detach");
  shared.commit();
  for (auto& m : members) {
    m.ctx->forgetSyscalls();
    // A stop signal queued while traced is the first thing the process does once let go
    // (SIGSTOP also for a process that SIGTSTP, SIGTTIN or SIGTTOU had stopped: only
    // SIGSTOP stops whatever the process group and the dispositions).
    if (stopsOnRelease(m.ctx->process(), opts) &&
        ::kill(static_cast<pid_t>(m.ctx->process().pid()), SIGSTOP) != 0)
      failErrno("pid {}: cannot queue SIGSTOP to leave it stopped", m.ctx->process().pid());
    for (auto& t : m.ctx->threads())
      if (t->attached()) t->detach();
  }
  for (auto& m : members)
    if (stopsOnRelease(m.ctx->process(), opts))
      awaitStopped(static_cast<pid_t>(m.ctx->process().pid()));
  guard.disarm();
  RestoreResult res;
  res.pid = tree.root_pid();
  res.processes = static_cast<size_t>(tree.processes_size());
  res.totalUs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now() - start)
                                          .count());
  return res;
}

}  // namespace cryo
