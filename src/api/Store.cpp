// Store: the library API's view of a store (include/cryo/store.h) over CheckpointStore.
#include "cryo/store.h"

#include "store/CheckpointStore.h"

namespace cryo::api {

std::vector<CheckpointSummary> listCheckpoints(const std::filesystem::path& store) {
  std::vector<CheckpointSummary> out;
  if (!std::filesystem::is_directory(store)) return out;
  CheckpointStore st(store, false);
  for (const StoreEntry& e : st.list()) {
    CheckpointSummary c;
    c.id = e.id;
    c.parentId = e.parentId;
    c.time = std::chrono::system_clock::time_point(std::chrono::duration_cast<
        std::chrono::system_clock::duration>(std::chrono::nanoseconds(e.manifest.created_unix_ns())));
    c.bytes = e.bytes;
    c.complete = e.complete;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace cryo::api
