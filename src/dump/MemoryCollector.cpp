// MemoryCollector: the address space of a frozen process: every mapping with its protections
// and flags, the mm fields (brk, stack, arg/env areas, auxv, exe), and the pages that hold data.
#include "dump/MemoryCollector.h"

#include <fcntl.h>
#include <linux/magic.h>
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
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/DumpContext.h"
#include "dump/FileMappingCache.h"
#include "dump/FreezeHelper.h"
#include "dump/PageReader.h"
#include "image/ImageFormat.h"

namespace cryo {

namespace {


std::string rangeName(const MapsEntry& m) {
  return fmt::format("{:#x}-{:#x} {}", m.start, m.end, m.path.empty() ? "(anonymous)" : m.path);
}

}  // namespace

// The mappings and mm fields first: the written pages may still be being found meanwhile.
void MemoryCollector::collect(DumpContext& ctx, img::Process& out) {
  for (const MapsEntry& m : ctx.maps()) {
    if (m.path == "[vsyscall]") continue;  // fixed by the kernel, present in every process
    *out.add_vmas() = describe(ctx.pid(), m, ctx.options().fileMappings.get());
  }
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
  v.set_locked(m.hasFlag("lo"));
  if (m.hasFlag("hg")) v.add_madvise(MADV_HUGEPAGE);
  if (m.hasFlag("nh")) v.add_madvise(MADV_NOHUGEPAGE);
  if (m.hasFlag("dc")) v.add_madvise(MADV_DONTFORK);
  if (m.hasFlag("dd")) v.add_madvise(MADV_DONTDUMP);
  if (m.hasFlag("wf")) v.add_madvise(MADV_WIPEONFORK);
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
    fail("pid {}: mapping {}: the mapped file was deleted; cannot checkpoint it", pid,
         rangeName(m));
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
    if (!changed) {
      add(v.start(), v.end(), false);
      continue;
    }
    // Incremental: only the changed parts; their pages without data become ZERO runs so the
    // parent's older copy is not used.
    auto it = std::lower_bound(changed->begin(), changed->end(), std::make_pair(v.start(), uint64_t(0)));
    if (it != changed->begin()) --it;
    for (; it != changed->end() && it->first < v.end(); ++it) {
      uint64_t s = std::max(it->first, v.start()), e = std::min(it->second, v.end());
      if (s < e) add(s, e, true);
    }
  }
  reader.run(*out.mutable_pages());
  ctx.setPendingPages(std::move(owned));  // the rest is stored after the task runs again
}

}  // namespace cryo
