// FilesCollector: the open file descriptors of a frozen process, grouped into the open file
// descriptions they share; each description is described by the fd dumper of its kind
// (FdDumperRegistry), and a kind no dumper claims is refused naming the fd and its kind.
#include "dump/FilesCollector.h"

#include <set>

#include "common/Error.h"
#include "common/FileIdentity.h"
#include "dump/DumpContext.h"
#include "dump/fds/FdDumperRegistry.h"
#include "dump/fds/FdTable.h"
#include "dump/fds/FileLocks.h"
#include "dump/fds/TreeFdIndex.h"

namespace cryo {

namespace {

// The locks fdinfo showed on the description (POSIX locks of this process, OFD and flock locks
// of the description), unless the restore gives the task another file in its place.
void addLocks(pid_t pid, const OpenFd& f, img::FileDescription& d) {
  if (f.locks.empty()) return;
  if (d.kind() == img::FileDescription::INHERITED)
    fail("pid {}: fd {} ({}) holds {} ({}) on a standard stream shared with the outside of the "
         "task, which a restore replaces with the restoring process's own: file locks on "
         "inherited streams are not supported",
         pid, f.fd, f.link, FileLocks::describe(f.locks.front()), f.locks.front().line());
  for (const auto& l : f.locks) *d.add_locks() = l;
}

}  // namespace

void FilesCollector::collect(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  TreeFdIndex& index = ctx.fdIndex();
  const FdTable& table = index.table(pid);
  auto dumpers = FdDumperRegistry::all();
  std::set<uint32_t> described;
  for (const OpenFd& f : table.fds()) {
    img::Fd* ofd = out.add_fds();
    ofd->set_fd(f.fd);
    ofd->set_description(f.description);
    ofd->set_cloexec(f.cloexec);
    if (!described.insert(f.description).second) continue;

    img::FileDescription d;
    d.set_id(f.description);
    d.set_tree_id(index.treeId(pid, f.description));
    d.set_flags(f.flags);
    d.set_pos(f.pos);
    d.set_description(f.link);
    *d.mutable_file() = FileIdentity::of(f.st);
    FdDumper* dumper = nullptr;
    for (auto& c : dumpers)
      if (c->claims(f)) {
        dumper = c.get();
        break;
      }
    if (!dumper) {
      std::string anon = f.anonKind();
      if (!anon.empty())
        fail("pid {}: fd {} ({}): {} descriptors are not supported yet", pid, f.fd, f.link, anon);
      fail("pid {}: fd {} ({}): this kind of descriptor is not supported yet", pid, f.fd, f.link);
    }
    // A description shared with another process of the tree is described in each (restore
    // rebuilds it once and passes it on); what must be stored once (a pipe's bytes) is
    // claimed through the index.
    dumper->dump(ctx, table, f, d);
    addLocks(pid, f, d);
    *out.add_files() = std::move(d);
  }
}

}  // namespace cryo
