// CheckpointStore: a directory of numbered checkpoints (each an image, full or incremental);
// lists them, finds the latest restorable one, names the next, and merges old ones away
// (--keep) without ever leaving the store without a restorable latest checkpoint.
#include "store/CheckpointStore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/UniqueFd.h"
#include "image/ImageChain.h"
#include "image/ImageFormat.h"
#include "image/ImageReader.h"
#include "image/ImageWriter.h"
#include "image/StoredFile.h"

namespace fs = std::filesystem;

namespace cryo {

namespace {

bool isCheckpointName(const std::string& n) {
  return n.size() == 6 && std::all_of(n.begin(), n.end(), ::isdigit);
}

uint64_t dirBytes(const fs::path& p) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  return total;
}

void syncDir(const fs::path& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) failErrno("cannot fsync {}", p.string());
}

}  // namespace

CheckpointStore::CheckpointStore(const fs::path& dir, bool create) : dir_(fs::absolute(dir)) {
  if (!fs::exists(dir_)) {
    if (!create) fail("store {} does not exist", dir_.string());
    if (::mkdir(dir_.c_str(), 0700) != 0) failErrno("cannot create store {}", dir_.string());
  } else if (!fs::is_directory(dir_)) {
    fail("store {} is not a directory", dir_.string());
  }
}

std::vector<StoreEntry> CheckpointStore::list() const {
  std::vector<StoreEntry> out;
  for (const auto& e : fs::directory_iterator(dir_)) {
    std::string name = e.path().filename().string();
    if (!e.is_directory() || !isCheckpointName(name)) continue;
    StoreEntry s;
    s.id = name;
    s.path = e.path();
    s.bytes = dirBytes(e.path());
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  // Completeness: the image itself and every ancestor are intact (manifest level; page data is
  // verified by restore). Ancestors come first, so one pass suffices.
  std::map<std::string, const StoreEntry*> byImageId;
  for (auto& s : out) {
    try {
      uint64_t sum = 0;
      s.manifest = ImageReader::readManifest(s.path, &sum);
      ImageReader check(s.path);  // tree and page file sizes and checksums
      if (s.manifest.has_parent()) {
        fs::path p = ImageChain::parentPath(s.path, s.manifest.parent());
        s.parentId = p.filename().string();
        auto it = byImageId.find(s.manifest.parent().image_id());
        if (it == byImageId.end()) {
          s.problem = fmt::format("parent {} is missing", s.parentId);
        } else if (!it->second->complete) {
          s.problem = fmt::format("parent {} is not restorable ({})", it->second->id,
                                  it->second->problem);
        } else {
          ImageChain chain(s.path);  // verifies the parent references
          s.complete = true;
        }
      } else {
        s.complete = true;
      }
    } catch (const Error& e) {
      s.problem = e.what();
    }
    if (!s.manifest.image_id().empty()) byImageId[s.manifest.image_id()] = &s;
  }
  return out;
}

std::optional<StoreEntry> CheckpointStore::latestComplete() const {
  auto all = list();
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    if (it->complete) return *it;
  return std::nullopt;
}

std::optional<StoreEntry> CheckpointStore::find(const std::string& id) const {
  for (auto& s : list())
    if (s.id == id) return s;
  return std::nullopt;
}

fs::path CheckpointStore::nextPath() const {
  int next = 1;
  for (const auto& e : fs::directory_iterator(dir_)) {
    std::string n = e.path().filename().string();
    if (isCheckpointName(n)) next = std::max(next, std::stoi(n) + 1);
  }
  return dir_ / fmt::format("{:06d}", next);
}

void CheckpointStore::removeIncomplete() {
  for (const auto& e : fs::directory_iterator(dir_)) {
    std::string n = e.path().filename().string();
    if (n.rfind('.', 0) == 0 && n.find(".cryo-tmp-") != std::string::npos) {
      std::error_code ec;
      fs::remove_all(e.path(), ec);
    }
  }
}

void CheckpointStore::mergeIntoChild(const StoreEntry& parent, const StoreEntry& child) {
  // Rewrite the child as a full image holding the same state, publish it in place of the
  // child (atomic exchange), and only then delete the parent.
  uint64_t childSum = 0;
  ImageReader::readManifest(child.path, &childSum);
  {
    ImageChain chain(child.path);
    img::Tree tree = chain.newest().tree();
    ImageWriter writer(child.path);
    for (auto& proc : *tree.mutable_processes()) {
      std::vector<PageSource> sources = chain.pageSources(proc);
      proc.clear_pages();
      for (const PageSource& src : sources)
        *proc.add_pages() = writer.pages().append(src.vaddr, src.data, src.nrPages);
      StoredFile::copyAll(chain.newest(), proc, writer.pages());  // (deleted files' bytes)
    }
    img::Manifest m = chain.newest().manifest();
    m.clear_parent();
    if (m.replaced_manifest_checksum() == 0) m.set_replaced_manifest_checksum(childSum);
    uint64_t pages = 0;
    for (const auto& p : tree.processes())
      for (const auto& r : p.pages()) pages += r.kind() == img::PageRun::DATA ? r.nr_pages() : 0;
    m.set_pages_stored(pages);
    writer.commit(tree, m);
  }
  std::error_code ec;
  fs::remove_all(parent.path, ec);
  if (ec) fail("cannot remove merged checkpoint {}: {}", parent.path.string(), ec.message());
  syncDir(dir_);
}

void CheckpointStore::compact(size_t keep) {
  if (keep == 0) fail("--keep must be at least 1");
  for (;;) {
    auto all = list();
    if (all.size() <= keep) return;
    const StoreEntry& oldest = all.front();
    // The oldest goes: merge it into the checkpoint that names it as parent, if any.
    const StoreEntry* child = nullptr;
    for (const auto& s : all)
      if (s.parentId == oldest.id) child = &s;
    if (child) {
      if (!child->complete || !oldest.complete) return;  // never touch a broken chain
      mergeIntoChild(oldest, *child);
    } else {
      std::error_code ec;
      fs::remove_all(oldest.path, ec);
      syncDir(dir_);
    }
  }
}

}  // namespace cryo
