// MemoryCollector: the address space of a frozen process: every mapping with its protections
// and flags, the mm fields (brk, stack, arg/env areas, auxv, exe), and the pages that hold data.
#include "dump/MemoryCollector.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/Error.h"
#include "common/FileIdentity.h"
#include "common/KernelUapi.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/DeletedFiles.h"
#include "dump/DumpContext.h"
#include "dump/FileMappingCache.h"
#include "realtime/FreezeHelper.h"
#include "dump/PageReader.h"
#include "image/ImageFormat.h"

namespace cryo {

namespace {


std::string rangeName(const MapsEntry& m) {
  return fmt::format("{:#x}-{:#x} {}", m.start, m.end, m.path.empty() ? "(anonymous)" : m.path);
}

// VmFlags set by madvise advice, re-applied as such.
constexpr std::pair<std::string_view, uint32_t> kAdvice[] = {
    {"hg", MADV_HUGEPAGE},   {"nh", MADV_NOHUGEPAGE}, {"dc", MADV_DONTFORK},
    {"dd", MADV_DONTDUMP},   {"wf", MADV_WIPEONFORK}, {"rr", MADV_RANDOM},
    {"sr", MADV_SEQUENTIAL}, {"mg", MADV_MERGEABLE},
};

bool isSpecial(const std::string& path) {
  return path == "[vdso]" || path == "[vvar]" || path == "[vvar_vclock]" || path == "[vsyscall]";
}

}  // namespace

// The mappings and mm fields first: the written pages may still be being found meanwhile.
void MemoryCollector::collect(DumpContext& ctx, img::Process& out) {
  for (const MapsEntry& m : ctx.maps()) {
    if (m.path == "[vsyscall]") continue;  // fixed by the kernel, present in every process
    *out.add_vmas() = describe(ctx.pid(), m, ctx.options().fileMappings.get());
  }
  collectGuards(ctx.pid(), out);
  // The bytes of deleted mapped files, as they are now (frozen): once per inode of the tree.
  for (img::Vma& v : *out.mutable_vmas())
    if (v.deleted()) storeDeleted(ctx, v);
  collectMm(ctx, out);
  collectPages(ctx, out);
}

img::Vma MemoryCollector::describe(pid_t pid, const MapsEntry& m, const FileMappingCache* known) {
  img::Vma v;
  v.set_start(m.start);
  v.set_end(m.end);
  v.set_prot((m.read ? PROT_READ : 0) | (m.write ? PROT_WRITE : 0) | (m.exec ? PROT_EXEC : 0));
  v.set_shared(m.shared);
  v.set_growsdown(m.hasFlag("gd"));
  v.set_noreserve(m.hasFlag("nr"));
  v.set_may_write(m.hasFlag("mw"));
  checkVmFlags(pid, m);
  v.set_locked(m.hasFlag("lo"));
  v.set_lock_onfault(m.hasFlag("lf"));
  v.set_droppable(m.hasFlag("dp"));
  v.set_sealed(m.hasFlag("sl"));
  for (const auto& [flag, advice] : kAdvice)
    if (m.hasFlag(flag)) v.add_madvise(advice);
  if (m.hasFlag("mg")) checkKsmMergeAny(pid, m);
  const std::string& p = m.path;
  if (p.empty()) {
    v.set_kind(img::Vma::ANON);
  } else if (p == "[heap]") {
    v.set_kind(img::Vma::HEAP);
  } else if (p == "[stack]") {
    v.set_kind(img::Vma::STACK);
  } else if (p == "[vdso]") {
    v.set_kind(img::Vma::VDSO);
  } else if (p == "[vvar]") {
    v.set_kind(img::Vma::VVAR);
  } else if (p == "[vvar_vclock]") {
    v.set_kind(img::Vma::VVAR_VCLOCK);
  } else if (p.rfind("[anon:", 0) == 0 && p.back() == ']') {
    v.set_kind(img::Vma::ANON);
    v.set_anon_name(p.substr(6, p.size() - 7));
  } else if (p.rfind("[anon_shmem:", 0) == 0 && p.back() == ']') {
    v.set_kind(img::Vma::ANON);
    v.set_anon_name(p.substr(12, p.size() - 13));
  } else if (p[0] == '[') {
    fail("pid {}: mapping {} is not supported", pid, rangeName(m));
  } else if (m.shared && m.inode != 0 && p.rfind("/dev/zero", 0) == 0) {
    // A shared anonymous mapping shows as "/dev/zero (deleted)"; its inode names the object
    // that other processes of the tree may share.
    v.set_kind(img::Vma::ANON);
    v.set_shmem_id(m.inode);
    v.set_pgoff(m.offset);
  } else if (p.rfind("/memfd:", 0) == 0) {
    // Shared memfd memory: a shared memory object like the above, recreated under its name.
    if (!m.shared)
      fail("pid {}: mapping {}: private memfd mappings are not supported yet", pid, rangeName(m));
    v.set_kind(img::Vma::ANON);
    v.set_path(p);
    v.set_shmem_id(m.inode);
    v.set_pgoff(m.offset);
  } else if (p.rfind("/SYSV", 0) == 0) {
    describeSysv(pid, m, v);
  } else if (m.deleted() && m.shared && p.rfind("/dev/shm/", 0) == 0 && onTmpfs(pid, m)) {
    // A file of /dev/shm (tmpfs) removed while mapped: memory only, like a memfd.
    v.set_kind(img::Vma::ANON);
    v.set_path(p);
    v.set_shmem_id(m.inode);
    v.set_pgoff(m.offset);
  } else if (m.deleted()) {
    describeDeleted(pid, m, v);
  } else if (const img::Vma* k = known ? known->find(m) : nullptr) {
    return *k;  // a mapped file described while the task ran, its mapping unchanged since
  } else {
    // A mapped file: make sure the path still names the very file that is mapped.
    struct stat mapped {}, named {};
    std::string mf = ProcFs::path(pid, fmt::format("map_files/{:x}-{:x}", m.start, m.end));
    if (::stat(mf.c_str(), &mapped) != 0) failErrno("pid {}: cannot stat {}", pid, mf);
    if (::stat(p.c_str(), &named) != 0)
      failErrno("pid {}: mapping {}: cannot stat the file", pid, rangeName(m));
    if (mapped.st_dev != named.st_dev || mapped.st_ino != named.st_ino)
      fail("pid {}: mapping {}: the path now names another file (replaced since it was mapped)",
           pid, rangeName(m));
    if (S_ISCHR(named.st_mode) && p == "/dev/zero") {
      v.set_kind(img::Vma::ANON);  // private /dev/zero mapping = anonymous memory
    } else if (!S_ISREG(named.st_mode)) {
      fail("pid {}: mapping {}: only regular files can be mapped (device mappings are not "
           "supported)",
           pid, rangeName(m));
    } else {
      v.set_kind(img::Vma::FILE);
      v.set_path(p);
      v.set_pgoff(m.offset);
      *v.mutable_file() = FileIdentity::of(named);
      // A shared mapping of a POSIX shared memory file (tmpfs /dev/shm): its pages are stored
      // as they were at the checkpoint, as for other shared memory (MappingPolicy agrees).
      if (m.shared && p.rfind("/dev/shm/", 0) == 0 && onTmpfs(pid, m)) v.set_shmem_id(m.inode);
    }
  }
  return v;
}

// A regular file deleted while mapped: made again at restore from its bytes (storeDeleted).
void MemoryCollector::describeDeleted(pid_t pid, const MapsEntry& m, img::Vma& v) {
  struct stat mapped {};
  std::string mf = ProcFs::path(pid, fmt::format("map_files/{:x}-{:x}", m.start, m.end));
  if (::stat(mf.c_str(), &mapped) != 0) failErrno("pid {}: cannot stat {}", pid, mf);
  if (!S_ISREG(mapped.st_mode))
    fail("pid {}: mapping {}: only regular files can be mapped", pid, rangeName(m));
  if (mapped.st_nlink > 0)
    fail("pid {}: mapping {}: the mapped name was removed while other hard links of the file "
         "remain; not supported",
         pid, rangeName(m));
  v.set_kind(img::Vma::FILE);
  v.set_path(DeletedFiles::liveName(m.path));
  v.set_pgoff(m.offset);
  v.set_deleted(true);
  *v.mutable_file() = FileIdentity::of(mapped);
}

void MemoryCollector::storeDeleted(DumpContext& ctx, img::Vma& v) {
  std::string mf = fmt::format("map_files/{:x}-{:x}", v.start(), v.end());
  struct stat now {};
  if (::stat(ProcFs::path(ctx.pid(), mf).c_str(), &now) != 0)
    failErrno("pid {}: cannot stat {}", ctx.pid(), mf);
  *v.mutable_file() = FileIdentity::of(now);  // (a description made while it ran is older)
  if (auto data = DeletedFiles::store(
          ctx, mf, v.file(),
          fmt::format("pid {}: mapping {:#x}-{:#x} of deleted file {}", ctx.pid(), v.start(),
                      v.end(), v.path())))
    *v.mutable_deleted_data() = std::move(*data);
}

// Every VmFlag of an ordinary mapping is restored exactly, or the checkpoint is refused
// naming it (the kernel's special mappings are the kernel's to recreate).
void MemoryCollector::checkVmFlags(pid_t pid, const MapsEntry& m) {
  if (isSpecial(m.path)) return;
  for (const std::string& flag : m.vmFlags.list()) {
    std::string_view meaning;
    if (VmFlags::role(flag, &meaning) == VmFlags::Role::kRefused)
      fail("pid {}: mapping {} has VmFlag '{}' ({}): cannot checkpoint it", pid, rangeName(m),
           flag, meaning);
  }
}

// prctl(PR_SET_MEMORY_MERGE) makes every mapping of the process mergeable, the ones it makes
// later too: per-mapping advice would not bring that back.
void MemoryCollector::checkKsmMergeAny(pid_t pid, const MapsEntry& m) {
  std::optional<std::string> ksm = ProcFs::tryReadFile(ProcFs::path(pid, "ksm_stat"));
  if (ksm && ksm->find("ksm_merge_any: yes") != std::string::npos)
    fail("pid {}: mapping {}: the process set prctl(PR_SET_MEMORY_MERGE) (KSM for all its "
         "memory); not supported",
         pid, rangeName(m));
}

// MADV_GUARD_INSTALL guard regions: the pages PAGEMAP_SCAN reports as PAGE_IS_GUARD (Linux
// 6.14 and later; an older kernel does not know the category, and cannot show them).
void MemoryCollector::collectGuards(pid_t pid, img::Process& out) {
  if (out.vmas_size() == 0) return;
  std::string pm = ProcFs::path(pid, "pagemap");
  UniqueFd fd(::open(pm.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) failErrno("pid {}: cannot open {}", pid, pm);
  std::vector<page_region> regions(64);
  uint64_t at = out.vmas(0).start(), end = out.vmas(out.vmas_size() - 1).end();
  int vi = 0;
  while (at < end) {
    pm_scan_arg arg{};
    arg.size = sizeof arg;
    arg.start = at;
    arg.end = end;
    arg.vec = reinterpret_cast<uint64_t>(regions.data());
    arg.vec_len = regions.size();
    arg.category_mask = PAGE_IS_GUARD;
    arg.return_mask = PAGE_IS_GUARD;
    long n = ::ioctl(fd.get(), PAGEMAP_SCAN, &arg);
    if (n < 0 && errno == EINVAL && at == out.vmas(0).start()) return;  // no PAGE_IS_GUARD
    if (n < 0) failErrno("pid {}: PAGEMAP_SCAN for guard regions at {:#x}", pid, at);
    for (long i = 0; i < n; ++i) addGuard(out, vi, regions[static_cast<size_t>(i)]);
    if (arg.walk_end <= at) break;
    at = arg.walk_end;
  }
}

// Adds guard range `r` to the mappings it covers (`vi`: the first one it may be in).
void MemoryCollector::addGuard(img::Process& out, int& vi, const page_region& r) {
  for (; vi < out.vmas_size(); ++vi) {
    img::Vma& v = *out.mutable_vmas(vi);
    if (v.end() <= r.start) continue;
    if (v.start() >= r.end) return;
    v.add_guard_ranges(std::max<uint64_t>(v.start(), r.start));
    v.add_guard_ranges(std::min<uint64_t>(v.end(), r.end));
    if (v.end() >= r.end) return;
  }
}

void MemoryCollector::collectMm(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  const ProcStat& st = ctx.stat();
  img::MmState* mm = out.mutable_mm();
  mm->set_start_code(st.startCode);
  mm->set_end_code(st.endCode);
  mm->set_start_data(st.startData);
  mm->set_end_data(st.endData);
  mm->set_start_brk(st.startBrk);
  mm->set_start_stack(st.startStack);
  mm->set_arg_start(st.argStart);
  mm->set_arg_end(st.argEnd);
  mm->set_env_start(st.envStart);
  mm->set_env_end(st.envEnd);
  mm->set_brk(ctx.leaderSyscalls().call(SYS_brk, 0));
  mm->set_auxv(ProcFs::readFile(ProcFs::path(pid, "auxv")));
  std::string exe = ProcFs::readLink(ProcFs::path(pid, "exe"));
  static const std::string kDeleted = " (deleted)";
  if (exe.size() > kDeleted.size() && exe.compare(exe.size() - kDeleted.size(), kDeleted.size(),
                                                  kDeleted) == 0)
    fail("pid {}: its executable {} was deleted; cannot checkpoint it", pid, exe);
  mm->set_exe_path(exe);
  struct stat est {};
  if (::stat(ProcFs::path(pid, "exe").c_str(), &est) != 0)
    failErrno("pid {}: cannot stat its executable {}", pid, exe);
  *mm->mutable_exe() = FileIdentity::of(est);
}

bool MemoryCollector::onTmpfs(pid_t pid, const MapsEntry& m) {
  std::string mf = ProcFs::path(pid, fmt::format("map_files/{:x}-{:x}", m.start, m.end));
  struct statfs fs {};
  if (::statfs(mf.c_str(), &fs) != 0) failErrno("pid {}: cannot statfs {}", pid, mf);
  return fs.f_type == TMPFS_MAGIC;
}

void MemoryCollector::describeSysv(pid_t pid, const MapsEntry& m, img::Vma& v) {
  int shmid = static_cast<int>(m.inode);
  shmid_ds ds{};
  if (::shmctl(shmid, IPC_STAT, &ds) != 0)
    failErrno("pid {}: mapping {}: cannot read System V segment {}", pid, rangeName(m), shmid);
  uint64_t size = (static_cast<uint64_t>(ds.shm_segsz) + image::kPageSize - 1) &
                  ~(image::kPageSize - 1);
  if (m.offset != 0 || m.size() != size)
    fail("pid {}: mapping {}: only part of System V segment {} ({} bytes) is attached; not "
         "supported",
         pid, rangeName(m), shmid, ds.shm_segsz);
  v.set_kind(img::Vma::SYSV_SHM);
  v.set_shmem_id(m.inode);
  img::SysvShm* s = v.mutable_sysv();
  s->set_shmid(shmid);
  s->set_key(ds.shm_perm.__key);
  s->set_size(ds.shm_segsz);
  s->set_mode(ds.shm_perm.mode & 0777);
  s->set_removed(ds.shm_perm.mode & SHM_DEST);
}

std::vector<std::pair<uint64_t, uint64_t>> MemoryCollector::objectData(pid_t pid,
                                                                       const img::Vma& v) {
  std::string mf = ProcFs::path(pid, fmt::format("map_files/{:x}-{:x}", v.start(), v.end()));
  UniqueFd fd(::open(mf.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) failErrno("pid {}: cannot open the shared memory of {:#x}-{:#x} ({})", pid, v.start(),
                     v.end(), mf);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  const uint64_t begin = v.pgoff(), end = v.pgoff() + (v.end() - v.start());
  uint64_t off = begin;
  while (off < end) {
    off_t d = ::lseek(fd.get(), static_cast<off_t>(off), SEEK_DATA);
    if (d < 0) {
      if (errno == ENXIO) break;  // no data after off
      failErrno("pid {}: SEEK_DATA in the shared memory of {:#x}-{:#x}", pid, v.start(), v.end());
    }
    if (static_cast<uint64_t>(d) >= end) break;
    off_t h = ::lseek(fd.get(), d, SEEK_HOLE);
    if (h < 0) failErrno("pid {}: SEEK_HOLE in the shared memory of {:#x}-{:#x}", pid, v.start(),
                         v.end());
    uint64_t ds = static_cast<uint64_t>(d) & ~(image::kPageSize - 1);
    uint64_t de = std::min<uint64_t>(end, (static_cast<uint64_t>(h) + image::kPageSize - 1) &
                                              ~(image::kPageSize - 1));
    out.emplace_back(v.start() + (ds - begin), v.start() + (de - begin));
    off = de;
  }
  return out;
}

void MemoryCollector::collectPages(DumpContext& ctx, img::Process& out) {
  auto owned = std::make_unique<PageReader>(ctx.pid(), ctx.memory(), ctx.pages(), ctx.copyBuffers());
  PageReader& reader = *owned;
  if (FreezeHelper* helper = ctx.helper())
    reader.setShared([helper](size_t n, const std::function<void(size_t)>& fn) {
      helper->forEach(n, fn);
    });
  const std::optional<PageRanges>& changed = ctx.changedRanges();
  for (const img::Vma& v : out.vmas()) {
    bool anon = v.kind() == img::Vma::ANON || v.kind() == img::Vma::HEAP ||
                v.kind() == img::Vma::STACK;
    PageReader::Mode mode;
    if (anon)
      mode = v.shared() ? PageReader::kAnyPresent : PageReader::kAnonPresent;
    else if (v.kind() == img::Vma::FILE && !v.shared())
      mode = PageReader::kPrivateCopies;
    else if (v.shmem_id() && (v.kind() == img::Vma::FILE || v.kind() == img::Vma::SYSV_SHM))
      mode = PageReader::kAll;  // by its object's data, below
    else
      continue;
    std::vector<std::pair<uint64_t, uint64_t>> data;  // shared memory: where its object has data
    if (v.shmem_id()) {
      // Shared memory seen by an earlier process of the tree is stored there.
      SharedMappings& shared = ctx.sharedMappings();
      if (shared.stored(v.shmem_id(), v.pgoff(), v.end() - v.start())) continue;
      shared.add(v.shmem_id(), v.pgoff(), v.end() - v.start());
      data = objectData(ctx.pid(), v);
    }
    // Adds [s, e) of the mapping; shared memory by its object's data, not by page tables (a
    // page another process wrote may be in none of ours).
    auto add = [&](uint64_t s, uint64_t e, bool recordRest) {
      if (!v.shmem_id()) return reader.addRange(s, e, mode, recordRest);
      uint64_t at = s;
      for (const auto& [ds, de] : data) {
        uint64_t a = std::max(ds, s), b = std::min(de, e);
        if (a >= b) continue;
        if (at < a && recordRest) reader.addRange(at, a, PageReader::kNone, true);
        reader.addRange(a, b, PageReader::kAll, recordRest);
        at = b;
      }
      if (at < e && recordRest) reader.addRange(at, e, PageReader::kNone, true);
    };
    // Guard pages hold nothing and cannot be read: left out (recorded as empty when the rest
    // is), the restore installs them again after the pages are filled.
    auto addUnguarded = [&](uint64_t s, uint64_t e, bool recordRest) {
      uint64_t at = s;
      for (int g = 0; g + 1 < v.guard_ranges_size(); g += 2) {
        uint64_t gs = std::max(v.guard_ranges(g), s), ge = std::min(v.guard_ranges(g + 1), e);
        if (gs >= ge) continue;
        if (at < gs) add(at, gs, recordRest);
        if (recordRest) reader.addRange(gs, ge, PageReader::kNone, true);
        at = ge;
      }
      if (at < e) add(at, e, recordRest);
    };
    if (!changed) {
      addUnguarded(v.start(), v.end(), false);
      continue;
    }
    // Incremental: only the changed parts; their pages without data become ZERO runs so the
    // parent's older copy is not used.
    auto it = std::lower_bound(changed->begin(), changed->end(), std::make_pair(v.start(), uint64_t(0)));
    if (it != changed->begin()) --it;
    for (; it != changed->end() && it->first < v.end(); ++it) {
      uint64_t s = std::max(it->first, v.start()), e = std::min(it->second, v.end());
      if (s < e) addUnguarded(s, e, true);
    }
  }
  reader.run(*out.mutable_pages());
  ctx.setPendingPages(std::move(owned));  // the rest is stored after the task runs again
}

}  // namespace cryo
