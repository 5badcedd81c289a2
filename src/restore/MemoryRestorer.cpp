// MemoryRestorer: rebuilds the address space: removes the shell's mappings, places the vdso,
// recreates every mapping at its address, fills the saved pages, sets the mm fields and exe.
#include "restore/MemoryRestorer.h"

#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/FileIdentity.h"
#include "common/KernelUapi.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "image/ImageFormat.h"
#include "restore/DeletedFileMaker.h"
#include "restore/RestoreContext.h"

namespace cryo {

namespace {

constexpr uint64_t kPage = image::kPageSize;

std::string vmaName(const img::Vma& v) {
  return fmt::format("{:#x}-{:#x} {}", v.start(), v.end(),
                     v.path().empty() ? img::Vma::Kind_Name(v.kind()) : v.path());
}

bool isSpecial(const img::Vma& v) {
  return v.kind() == img::Vma::VDSO || v.kind() == img::Vma::VVAR ||
         v.kind() == img::Vma::VVAR_VCLOCK;
}

// Private anonymous memory (what a fork shares copy-on-write and a restore can share again).
bool anonPrivate(const img::Vma& v) {
  bool anon = v.kind() == img::Vma::ANON || v.kind() == img::Vma::HEAP ||
              v.kind() == img::Vma::STACK;
  return anon && !v.shared() && !v.droppable() && !v.shmem_id();
}

// Whether a child's mapping `v` is what its parent's mapping `p` gives it at a fork.
bool sameAnonMapping(const img::Vma& v, const img::Vma& p) {
  return anonPrivate(v) && anonPrivate(p) && v.end() == p.end() && v.kind() == p.kind() &&
         v.growsdown() == p.growsdown() && v.noreserve() == p.noreserve();
}

}  // namespace

void MemoryRestorer::validate(RestoreContext& ctx, const img::Process& in) {
  proc_ = &in;
  auto checkFile = [&](const std::string& path, const img::FileId& id, const std::string& what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      failErrno("pid {}: {} {} cannot be used", ctx.pid(), what, path);
    int64_t mtime = FileIdentity::mtimeNs(st);
    if (static_cast<uint64_t>(st.st_size) != id.size() || mtime != id.mtime_ns())
      fail("pid {}: {} {} changed since the checkpoint (size {} -> {}, mtime changed: {}); "
           "its pages would not match",
           ctx.pid(), what, path, id.size(), st.st_size, mtime != id.mtime_ns() ? "yes" : "no");
  };
  checkFile(in.mm().exe_path(), in.mm().exe(), "executable");
  for (const auto& v : in.vmas()) {
    // POSIX shared memory files get their saved pages back (and are made if missing).
    if (v.kind() == img::Vma::FILE && v.deleted())
      DeletedFileMaker::validate(ctx, v.file(), v.path(),
                                 fmt::format("pid {}: mapping {}", ctx.pid(), vmaName(v)));
    else if (v.kind() == img::Vma::FILE && !v.shmem_id())
      checkFile(v.path(), v.file(), "mapped file");
    if (v.kind() == img::Vma::SYSV_SHM && v.sysv().shmid() != static_cast<int>(v.shmem_id()))
      fail("pid {}: mapping {} names System V segment {} twice differently: the image is corrupt",
           ctx.pid(), vmaName(v), v.shmem_id());
  }
  // Runs must fall inside mappings, in order.
  size_t vi = 0;
  for (const auto& run : in.pages()) {
    uint64_t end = run.vaddr() + uint64_t(run.nr_pages()) * kPage;
    while (vi < static_cast<size_t>(in.vmas_size()) && in.vmas(static_cast<int>(vi)).end() <= run.vaddr())
      ++vi;
    if (vi == static_cast<size_t>(in.vmas_size()) || in.vmas(static_cast<int>(vi)).start() > run.vaddr() ||
        in.vmas(static_cast<int>(vi)).end() < end)
      fail("pid {}: page run {:#x}-{:#x} lies outside the saved mappings: the image is corrupt",
           ctx.pid(), run.vaddr(), end);
  }
  // Resolve every page's source now: corrupt page data is refused before anything is built.
  sources_ = ctx.chain().pageSources(in);
  int mi = 0;
  for (const PageSource& src : sources_) {
    while (mi < in.vmas_size() && in.vmas(mi).end() <= src.vaddr) ++mi;
    if (mi < in.vmas_size()) withPages_.insert(in.vmas(mi).start());
  }
}

void MemoryRestorer::bornFrom(const Restorer& parentsOwn) {
  parent_ = dynamic_cast<const MemoryRestorer*>(&parentsOwn);
}

void MemoryRestorer::beforeChildren(RestoreContext& ctx, const img::Process& in) {
  findInherited(in);
  clearShell(ctx);
  placeVdso(ctx, in);
  createMappings(ctx, in);
  fillPages(ctx, in);
}

void MemoryRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  finishMappings(ctx, in);
  setMmFields(ctx, in);
}

void MemoryRestorer::findInherited(const img::Process& in) {
  kept_.clear();
  parentRuns_.clear();
  if (!parent_ || !parent_->proc_ || FaultPoint::skips("restore-cow-sharing")) return;
  std::map<uint64_t, const img::Vma*> theirs;
  for (const auto& p : parent_->proc_->vmas()) theirs[p.start()] = &p;
  for (const auto& v : in.vmas()) {
    auto it = theirs.find(v.start());
    if (it != theirs.end() && sameAnonMapping(v, *it->second)) kept_[v.start()] = v.end();
  }
  for (const PageSource& src : parent_->sources_) parentRuns_[src.vaddr] = src;
}

void MemoryRestorer::clearShell(RestoreContext& ctx) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
  std::vector<MapsEntry> maps = ProcFs::maps(ctx.pid(), false);
  // An inherited mapping is kept only where the shell has it whole.
  for (auto it = kept_.begin(); it != kept_.end();) {
    uint64_t at = it->first;
    for (const MapsEntry& m : maps)
      if (m.start <= at && m.end > at) at = m.end;
    it = at >= it->second ? std::next(it) : kept_.erase(it);
  }
  std::map<uint64_t, uint64_t> keep = kept_;
  keep[ctx.scratch().addr() - kPage] = ctx.scratch().end();
  for (const MapsEntry& m : maps) {
    if (m.path == "[vsyscall]") continue;
    uint64_t cur = m.start;
    auto unmap = [&](uint64_t s, uint64_t e) {
      if (s < e)
        rs.check(fmt::format("munmap of the shell's {:#x}-{:#x} {}", s, e, m.path), SYS_munmap,
                 s, e - s);
    };
    for (const auto& [ks, ke] : keep) {
      if (ke <= cur || ks >= m.end) continue;
      unmap(cur, std::min(ks, m.end));
      cur = std::max(cur, ke);
    }
    unmap(cur, m.end);
  }
}

void MemoryRestorer::placeVdso(RestoreContext& ctx, const img::Process& in) {
  uint64_t low = UINT64_MAX, vdso = 0, vdsoSize = 0;
  for (const auto& v : in.vmas()) {
    if (!isSpecial(v)) continue;
    low = std::min(low, v.start());
    if (v.kind() == img::Vma::VDSO) {
      vdso = v.start();
      vdsoSize = v.end() - v.start();
    }
  }
  if (!vdso) return;  // the task had unmapped its vdso
  ctx.leaderSyscalls().check(fmt::format("arch_prctl(ARCH_MAP_VDSO_64, {:#x})", low),
                             SYS_arch_prctl, ARCH_MAP_VDSO_64, low);
  for (const MapsEntry& m : ProcFs::maps(ctx.pid(), false)) {
    if (m.path != "[vdso]") continue;
    if (m.start != vdso || m.size() != vdsoSize)
      fail("pid {}: this kernel's vdso ({:#x}, {} bytes) cannot be placed where the checkpoint "
           "had it ({:#x}, {} bytes): was the checkpoint taken under another kernel?",
           ctx.pid(), m.start, m.size(), vdso, vdsoSize);
    return;
  }
  fail("pid {}: the vdso did not appear after ARCH_MAP_VDSO_64", ctx.pid());
}

void MemoryRestorer::createMappings(RestoreContext& ctx, const img::Process& in) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
    for (const auto& v : in.vmas()) {
    if (isSpecial(v)) continue;
    uint64_t len = v.end() - v.start();
    uint32_t prot = v.prot();
    if (withPages_.count(v.start())) prot |= PROT_READ | PROT_WRITE;
    uint64_t flags = MAP_FIXED | (v.shared() ? MAP_SHARED : v.droppable() ? MAP_DROPPABLE : MAP_PRIVATE);
    if (v.growsdown()) flags |= MAP_GROWSDOWN;
    if (v.noreserve()) flags |= MAP_NORESERVE;
    int fd = -1;
    uint64_t offset = 0;
    bool share = false;  // a new MAP_SHARED anonymous object other processes will map
    if (v.kind() == img::Vma::SYSV_SHM) {
      attachSysv(ctx, v, prot);
      continue;
    }
    if (inherited(v)) {  // there since the fork, with the parent's pages
      rs.check(fmt::format("mprotect of inherited {}", vmaName(v)), SYS_mprotect, v.start(), len,
               prot);
      continue;
    }
    if (v.kind() == img::Vma::FILE) {
      int oflags = (v.shared() && v.may_write()) ? O_RDWR : O_RDONLY;
      if (v.shmem_id()) oflags = O_RDWR | O_CREAT;  // /dev/shm: made again if it is gone
      if (v.deleted())  // made again once, shared with the fds of the same file
        fd = DeletedFileMaker::openFile(ctx, v.file(), v.path(), oflags,
                                        fmt::format("pid {}: mapping {}", ctx.pid(), vmaName(v)));
      else
        fd = ctx.openInProcess(v.path(), oflags, 0600);
      offset = v.pgoff();
      if (v.shmem_id()) {
        uint64_t need = ctx.treeFiles().sharedSize(v.shmem_id());
        struct stat st {};
        UniqueFd copy = ctx.takeFd(fd);
        if (::fstat(copy.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) < need &&
            ::ftruncate(copy.get(), static_cast<off_t>(need)) != 0)
          failErrno("pid {}: cannot size {} to {} bytes", ctx.pid(), v.path(), need);
      }
    } else if (v.shared() && v.shmem_id() && ctx.treeFiles().has(sharedKey(v))) {
      // Shared with a process of the tree restored before: the same object.
      fd = ctx.receiveFd(ctx.treeFiles().get(sharedKey(v)), "the shared memory of " + vmaName(v));
      offset = v.pgoff();
    } else if (v.shared() && v.shmem_id() &&
               (v.pgoff() || !v.path().empty() || ctx.treeFiles().sharedSize(v.shmem_id()) > len)) {
      // Not mapped from offset 0 or not whole, or a memfd: made as a memfd.
      fd = makeSharedObject(ctx, v);
      offset = v.pgoff();
    } else {
      flags |= MAP_ANONYMOUS;
      share = v.shared() && v.shmem_id() && ctx.inTree();
    }
    long r = rs.call(SYS_mmap, v.start(), len, prot, flags, static_cast<uint64_t>(fd), offset);
    if (fd >= 0) ctx.closeInProcess(fd);
    if (r < 0) throw SysError(fmt::format("pid {}: cannot recreate mapping {}", ctx.pid(),
                                          vmaName(v)),
                              static_cast<int>(-r));
    if (static_cast<uint64_t>(r) != v.start())
      fail("pid {}: mapping {} landed at {:#x}", ctx.pid(), vmaName(v), r);
    if (share) {
      std::string mf = ProcFs::path(ctx.pid(), fmt::format("map_files/{:x}-{:x}", v.start(), v.end()));
      UniqueFd obj(::open(mf.c_str(), O_RDWR | O_CLOEXEC));
      if (!obj) failErrno("pid {}: cannot open {} to share {}", ctx.pid(), mf, vmaName(v));
      ctx.treeFiles().put(sharedKey(v), std::move(obj));
    }
  }
}

std::string MemoryRestorer::sharedKey(const img::Vma& v) {
  return TreeFiles::sharedMemory(v.shmem_id());
}

int MemoryRestorer::makeSharedObject(RestoreContext& ctx, const img::Vma& v) {
  // As large as every offset the tree maps, named as it was.
  std::string name = v.path().rfind("/memfd:", 0) == 0 ? memfdName(v.path()) : "dev/zero";
  uint64_t size = std::max(ctx.treeFiles().sharedSize(v.shmem_id()),
                           v.pgoff() + (v.end() - v.start()));
  return ctx.createSharedMemfd(v.shmem_id(), name, size);
}

void MemoryRestorer::attachSysv(RestoreContext& ctx, const img::Vma& v, uint32_t prot) {
  const img::SysvShm& seg = v.sysv();
  ctx.treeFiles().ensureSysv(seg, fmt::format("pid {}: mapping {}", ctx.pid(), vmaName(v)));
  uint64_t flags = 0;
  if (!(prot & PROT_WRITE)) flags |= SHM_RDONLY;
  if (prot & PROT_EXEC) flags |= SHM_EXEC;
  long r = ctx.leaderSyscalls().call(SYS_shmat, static_cast<uint64_t>(seg.shmid()), v.start(),
                                     flags);
  if (r < 0)
    throw SysError(fmt::format("pid {}: cannot attach System V segment {} at {}", ctx.pid(),
                               seg.shmid(), vmaName(v)),
                   static_cast<int>(-r));
  if (static_cast<uint64_t>(r) != v.start())
    fail("pid {}: System V segment {} attached at {:#x}, not {:#x}", ctx.pid(), seg.shmid(), r,
         v.start());
}

std::string MemoryRestorer::memfdName(const std::string& path) {
  static const std::string kPrefix = "/memfd:", kDeleted = " (deleted)";
  std::string n = path.substr(kPrefix.size());
  if (n.size() >= kDeleted.size() && n.compare(n.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
    n.resize(n.size() - kDeleted.size());
  return n;
}

void MemoryRestorer::fillPages(RestoreContext& ctx, const img::Process& in) {
  std::vector<iovec> local, remote;
  uint64_t batched = 0;
  auto flush = [&] {
    if (local.empty()) return;
    ctx.memory().writev(local, remote);
    local.clear();
    remote.clear();
    batched = 0;
  };
  // Pages no image stored are left as the fresh mapping holds them (zeros or file bytes).
  for (const PageSource& src : sources_) {
    auto k = kept_.upper_bound(src.vaddr);
    if (k != kept_.begin() && std::prev(k)->second > src.vaddr) continue;  // (below)
    size_t len = src.nrPages * kPage;
    local.push_back({const_cast<uint8_t*>(src.data), len});
    remote.push_back({reinterpret_cast<void*>(src.vaddr), len});
    batched += len;
    if (local.size() >= 1024 || batched >= (64u << 20)) flush();
  }
  flush();
  for (const auto& v : in.vmas())
    if (inherited(v)) {
      fillInherited(ctx, v, local, remote);
      flush();
    }
}

const uint8_t* MemoryRestorer::parentPage(uint64_t addr) const {
  auto it = parentRuns_.upper_bound(addr);
  if (it == parentRuns_.begin()) return nullptr;
  const PageSource& r = std::prev(it)->second;
  return addr < r.vaddr + r.nrPages * kPage ? r.data + (addr - r.vaddr) : nullptr;
}

void MemoryRestorer::fillInherited(RestoreContext& ctx, const img::Vma& v,
                                   std::vector<iovec>& local, std::vector<iovec>& remote) {
  uint64_t start = v.start(), pages = (v.end() - v.start()) / kPage;
  std::vector<bool> mine(pages, false);
  auto add = [&](const uint8_t* data, uint64_t addr) {
    if (!remote.empty() && reinterpret_cast<uint64_t>(remote.back().iov_base) +
                                   remote.back().iov_len == addr &&
        static_cast<const uint8_t*>(local.back().iov_base) + local.back().iov_len == data) {
      local.back().iov_len += kPage;
      remote.back().iov_len += kPage;
      return;
    }
    local.push_back({const_cast<uint8_t*>(data), kPage});
    remote.push_back({reinterpret_cast<void*>(addr), kPage});
  };
  for (const PageSource& src : sources_) {
    if (src.vaddr < start || src.vaddr >= v.end()) continue;
    for (uint64_t i = 0; i < src.nrPages; ++i) {
      uint64_t addr = src.vaddr + i * kPage;
      const uint8_t* data = src.data + i * kPage;
      mine[(addr - start) / kPage] = true;
      const uint8_t* theirs = parentPage(addr);
      if (theirs && std::memcmp(theirs, data, kPage) == 0) continue;  // stays shared
      add(data, addr);
    }
  }
  // Pages the parent has and this process had not (it read zeros there): dropped.
  uint64_t runStart = 0, runEnd = 0;
  auto drop = [&] {
    if (runEnd > runStart)
      ctx.leaderSyscalls().check(
          fmt::format("pid {}: MADV_DONTNEED of {:#x}-{:#x} in inherited {}", ctx.pid(),
                      runStart, runEnd, vmaName(v)),
          SYS_madvise, runStart, runEnd - runStart, MADV_DONTNEED);
    runStart = runEnd = 0;
  };
  for (uint64_t i = 0; i < pages; ++i) {
    uint64_t addr = start + i * kPage;
    if (mine[i] || !parentPage(addr)) continue;
    if (addr != runEnd) {
      drop();
      runStart = addr;
    }
    runEnd = addr + kPage;
  }
  drop();
}

void MemoryRestorer::finishMappings(RestoreContext& ctx, const img::Process& in) {
  RemoteSyscalls& rs = ctx.leaderSyscalls();
    for (const auto& v : in.vmas()) {
    if (isSpecial(v)) continue;
    uint64_t len = v.end() - v.start();
    // (An inherited mapping had the parent's protection: always set.)
    if ((withPages_.count(v.start()) || inherited(v)) &&
        (inherited(v) || (v.prot() & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE)))
      rs.check(fmt::format("mprotect of {}", vmaName(v)), SYS_mprotect, v.start(), len, v.prot());
    if (!FaultPoint::skips("restore-madvise"))
      for (uint32_t advice : v.madvise())
        rs.check(fmt::format("madvise({}) of {}", advice, vmaName(v)), SYS_madvise, v.start(),
                 len, advice);
    installGuards(ctx, v);  // before mlock: a locked mapping takes no new guard regions
    if (v.locked() && v.lock_onfault())
      rs.check(fmt::format("mlock2(MLOCK_ONFAULT) of {}", vmaName(v)), SYS_mlock2, v.start(),
               len, MLOCK_ONFAULT);
    else if (v.locked())
      rs.check(fmt::format("mlock of {}", vmaName(v)), SYS_mlock, v.start(), len);
    if (!v.anon_name().empty()) {
      uint64_t name = ctx.scratch().putString(v.anon_name());
      rs.check(fmt::format("naming {}", vmaName(v)), SYS_prctl, PR_SET_VMA,
               PR_SET_VMA_ANON_NAME, v.start(), len, name);
    }
    // Last: a sealed mapping can no longer be changed.
    if (v.sealed())
      rs.check(fmt::format("mseal of {}", vmaName(v)), SYS_mseal, v.start(), len, 0);
  }
}

void MemoryRestorer::installGuards(RestoreContext& ctx, const img::Vma& v) {
  if (v.guard_ranges_size() % 2 != 0)
    fail("pid {}: mapping {}: odd guard range list: the image is corrupt", ctx.pid(), vmaName(v));
  for (int i = 0; i < v.guard_ranges_size(); i += 2) {
    uint64_t s = v.guard_ranges(i), e = v.guard_ranges(i + 1);
    if (s < v.start() || e > v.end() || s >= e)
      fail("pid {}: mapping {}: guard range {:#x}-{:#x} lies outside it: the image is corrupt",
           ctx.pid(), vmaName(v), s, e);
    ctx.leaderSyscalls().check(
        fmt::format("MADV_GUARD_INSTALL of {:#x}-{:#x} in {}", s, e, vmaName(v)), SYS_madvise,
        s, e - s, MADV_GUARD_INSTALL);
  }
}

void MemoryRestorer::setMmFields(RestoreContext& ctx, const img::Process& in) {
  const img::MmState& mm = in.mm();
  prctl_mm_map map{};
  map.start_code = mm.start_code();
  map.end_code = mm.end_code();
  map.start_data = mm.start_data();
  map.end_data = mm.end_data();
  map.start_brk = mm.start_brk();
  map.brk = mm.brk();
  map.start_stack = mm.start_stack();
  map.arg_start = mm.arg_start();
  map.arg_end = mm.arg_end();
  map.env_start = mm.env_start();
  map.env_end = mm.env_end();
  int exeFd = ctx.openInProcess(mm.exe_path(), O_RDONLY);
  map.exe_fd = static_cast<uint32_t>(exeFd);
  RemoteScratch& s = ctx.scratch();
  map.auxv = reinterpret_cast<__u64*>(s.put(mm.auxv().data(), mm.auxv().size()));
  map.auxv_size = static_cast<uint32_t>(mm.auxv().size());
  uint64_t addr = s.putValue(map);
  ctx.leaderSyscalls().check("prctl(PR_SET_MM, PR_SET_MM_MAP)", SYS_prctl, PR_SET_MM,
                             PR_SET_MM_MAP, addr, sizeof map);
  ctx.closeInProcess(exeFd);
}

}  // namespace cryo
