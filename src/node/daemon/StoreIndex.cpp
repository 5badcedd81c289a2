// StoreIndex: six-digit directory names, ImageReader::readManifest (checksummed) of each.
#include "node/daemon/StoreIndex.h"

#include <algorithm>

#include "image/ImageChain.h"
#include "image/ImageReader.h"

namespace cryo::daemon {

namespace {

bool isCheckpointName(const std::string& n) {
  return n.size() == 6 && std::all_of(n.begin(), n.end(), ::isdigit);
}

std::optional<IndexEntry> entryOf(const std::filesystem::path& dir) {
  try {
    uint64_t sum = 0;
    img::Manifest m = ImageReader::readManifest(dir, &sum);
    IndexEntry e;
    e.id = dir.filename().string();
    e.path = dir;
    e.imageId = m.image_id();
    if (m.has_parent()) {
      e.parentId = ImageChain::parentPath(dir, m.parent()).filename().string();
      e.parentImageId = m.parent().image_id();
    }
    e.taken = std::chrono::system_clock::time_point(std::chrono::duration_cast<
        std::chrono::system_clock::duration>(std::chrono::nanoseconds(m.created_unix_ns())));
    return e;
  } catch (const std::exception&) {
    return std::nullopt;  // being merged, or broken: CheckpointStore::list says why
  }
}

}  // namespace

std::vector<IndexEntry> StoreIndex::list(const std::filesystem::path& store) {
  std::vector<IndexEntry> out;
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator(store, ec)) {
    if (!isCheckpointName(d.path().filename().string())) continue;
    if (std::optional<IndexEntry> e = entryOf(d.path())) out.push_back(std::move(*e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::optional<IndexEntry> StoreIndex::find(const std::filesystem::path& store,
                                           const std::string& id) {
  if (!isCheckpointName(id) || !std::filesystem::is_directory(store / id)) return std::nullopt;
  return entryOf(store / id);
}

}  // namespace cryo::daemon
