// FilesRestorer: rebuilds every open file description of the process with the fd restorer of
// its kind (FdRestorerRegistry) and installs it at the saved fd numbers with the saved
// close-on-exec bits (or installs the restoring process's fd the user named for it with
// --inherit-fd); then lets each kind finish (epoll interest lists need every fd). A process
// that shares its parent's fd table has it restored by the parent. The file locks are taken
// again (FileLockTaker) once every process is restored: closing any fd of a file drops the POSIX
// locks of the fd table on it, and a table may be shared.
#include "restore/FilesRestorer.h"

#include "common/Error.h"
#include "restore/FileLockTaker.h"
#include "restore/RestoreContext.h"
#include "restore/fds/FdInstaller.h"
#include "restore/fds/FdRestorerRegistry.h"

namespace cryo {

namespace {

FdRestorer& restorerFor(std::vector<std::unique_ptr<FdRestorer>>& all, RestoreContext& ctx,
                        const img::FileDescription& d) {
  for (auto& r : all)
    if (r->handles(d.kind())) return *r;
  fail("pid {}: {}: unknown kind of file {} in the image (written by a newer cryo?)", ctx.pid(),
       d.description(), static_cast<int>(d.kind()));
}

// The fd of the restoring process that --inherit-fd gives for `d`, or -1.
int inheritedFor(const RestoreContext& ctx, const img::FileDescription& d) {
  const auto& given = ctx.options().inheritFds;
  auto it = given.find(d.description());
  return it == given.end() ? -1 : it->second;
}

}  // namespace

void FilesRestorer::validate(RestoreContext& ctx, const img::Process& in) {
  auto restorers = FdRestorerRegistry::all();
  for (const auto& d : in.files())
    if (inheritedFor(ctx, d) < 0) restorerFor(restorers, ctx, d).validate(ctx, d);
}

void FilesRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  if (ctx.sharesFdTable()) {
    // Its parent's table, which the parent has restored: nothing of its own to install, and
    // the copies of cryo's standard streams were the parent's (closed by it).
    ctx.closeCryoPidfd();
    for (int n = 0; n < 3; ++n) ctx.setInheritedStdio(n, -1);
    return;
  }
  auto restorers = FdRestorerRegistry::all();
  FdInstaller inst(ctx, in);
  TreeFiles& tree = ctx.treeFiles();
  for (const auto& d : in.files()) {
    // A description another process of the tree has already rebuilt is received, not rebuilt:
    // it is one open file (offset, flags, state) in both.
    std::string key = TreeFiles::description(d.tree_id());
    int given = inheritedFor(ctx, d);
    int temp = d.tree_id() && tree.has(key) ? ctx.receiveFd(tree.get(key), inst.who(d))
               : given >= 0                 ? ctx.receiveFd(given, inst.who(d))
                                            : restorerFor(restorers, ctx, d).open(inst, d);
    if (d.tree_id() && ctx.inTree() && !tree.has(key)) tree.put(key, ctx.takeFd(temp));
    inst.install(temp, d);
    ctx.closeInProcess(temp);
  }
  for (auto& r : restorers) r->finish(inst);
  ctx.closeCryoPidfd();
  for (int n = 0; n < 3; ++n)
    if (ctx.inheritedStdio(n) >= 0) {
      ctx.closeInProcess(ctx.inheritedStdio(n));
      ctx.setInheritedStdio(n, -1);
    }
}

void FilesRestorer::takeLocks(RestoreContext& ctx, const img::Process& in) {
  FdInstaller inst(ctx, in);
  FileLockTaker::takeAll(inst, in);
}

}  // namespace cryo
