// ReplicaReceiver: per-task locks; Begin checked against the record it carries and the store
// (already held, parent, epoch) before anything is written; then IncomingCheckpoint.
#include "node/daemon/ReplicaReceiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "node/daemon/IncomingCheckpoint.h"
#include "node/daemon/StoreIndex.h"
#include "store/CheckpointStore.h"

namespace cryo::daemon {

namespace {

bool isCheckpointId(const std::string& s) {
  return s.size() == 6 && std::all_of(s.begin(), s.end(), ::isdigit);
}

bool isTaskId(const std::string& s) {
  return !s.empty() && s.size() < 128 && s[0] != '.' &&
         s.find_first_of("/ \t\n") == std::string::npos;
}

void fsyncDir(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0)
    spdlog::warn("cannot fsync {}: {}", p.string(), strerror(errno));
  if (fd >= 0) ::close(fd);
}

void makePrivateDir(const std::filesystem::path& p) {
  std::filesystem::create_directories(p);
  std::filesystem::permissions(p, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
}

}  // namespace

ReplicaReceiver::ReplicaReceiver(std::string node, const std::filesystem::path& dataDir)
    : node_(std::move(node)), dir_(dataDir / "replicas") {
  makePrivateDir(dir_);
  for (const auto& d : std::filesystem::directory_iterator(dir_)) {
    if (!std::filesystem::is_directory(d.path() / "store")) continue;
    try {
      CheckpointStore(d.path() / "store", false).removeIncomplete();
    } catch (const std::exception& e) {
      spdlog::warn("replica {}: {}", d.path().string(), e.what());
    }
  }
}

std::mutex& ReplicaReceiver::lockFor(const std::string& task) {
  std::lock_guard lk(mu_);
  auto& m = taskLocks_[task];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

void ReplicaReceiver::checkBegin(const node::ReplicaBegin& b, const TaskRecord& rec) const {
  auto bad = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("replica of task '{}' checkpoint '{}': {}", b.task(),
                                            b.checkpoint(), why));
  };
  if (!isTaskId(b.task())) bad("bad task id");
  if (!isCheckpointId(b.checkpoint())) bad("bad checkpoint id");
  if (!b.parent().empty() && !isCheckpointId(b.parent())) bad("bad parent id");
  if (b.image_id().empty()) bad("no image id");
  if (rec.id != b.task()) bad(fmt::format("task id mismatch: the record is of task '{}'", rec.id));
  if (rec.epoch != b.epoch())
    bad(fmt::format("epoch mismatch: {} in the stream, {} in the record", b.epoch(), rec.epoch));
  if (rec.node != b.owner())
    bad(fmt::format("owner mismatch: {} in the stream, {} in the record", b.owner(), rec.node));
}

node::ReplicaAck ReplicaReceiver::receive(
    const std::string& sender, const std::function<bool(node::ReplicaMessage&)>& next) {
  node::ReplicaMessage m;
  if (!next(m) || !m.has_begin())
    throw std::invalid_argument("a replication stream starts with Begin");
  node::ReplicaBegin b = m.begin();
  TaskRecord rec = TaskRecord::fromJson(b.record_json(), "sent with task " + b.task());
  checkBegin(b, rec);
  if (sender != b.owner())
    throw ReplicaRefused(ReplicaRefused::Why::kNotOwner,
                         fmt::format("task {}: node {} sends for owner {}", b.task(), sender,
                                     b.owner()));
  std::lock_guard taskLock(lockFor(b.task()));
  {
    std::lock_guard lk(mu_);
    if (ownedHere_.count(b.task()))
      throw ReplicaRefused(ReplicaRefused::Why::kOwnedHere,
                           fmt::format("task {} was restored on node {}: it runs here now",
                                       b.task(), node_));
  }
  std::filesystem::path dir = dir_ / b.task();
  if (std::filesystem::exists(dir / TaskRecord::kFile)) {
    uint64_t seen = TaskRecord::load(dir).epoch;
    if (b.epoch() < seen)
      throw ReplicaRefused(ReplicaRefused::Why::kStaleEpoch,
                           fmt::format("task {}: epoch {} is older than epoch {} seen on node {}",
                                       b.task(), b.epoch(), seen, node_));
  }
  makePrivateDir(dir);
  return store(dir, b, std::move(rec), sender, next);
}

void ReplicaReceiver::checkHeld(const std::filesystem::path& dir,
                                const node::ReplicaBegin& b) const {
  if (b.parent().empty()) return;
  std::optional<IndexEntry> p = StoreIndex::find(dir / "store", b.parent());
  if (!p || p->imageId != b.parent_image_id())
    throw ReplicaRefused(ReplicaRefused::Why::kMissingParent,
                         fmt::format("node {} lacks parent {} of checkpoint {} of task {}", node_,
                                     b.parent(), b.checkpoint(), b.task()));
}

node::ReplicaAck ReplicaReceiver::store(const std::filesystem::path& dir,
                                        const node::ReplicaBegin& b, TaskRecord rec,
                                        const std::string& sender,
                                        const std::function<bool(node::ReplicaMessage&)>& next) {
  CheckpointStore store(dir / "store", true);
  node::ReplicaAck ack;
  ack.set_checkpoint(b.checkpoint());
  if (std::optional<IndexEntry> held = StoreIndex::find(store.dir(), b.checkpoint())) {
    if (held->imageId != b.image_id())
      throw ReplicaRefused(ReplicaRefused::Why::kConflict,
                           fmt::format("node {} holds another checkpoint {} of task {} (image {})",
                                       node_, b.checkpoint(), b.task(),
                                       held->imageId));
    ack.set_already_held(true);
    return ack;
  }
  checkHeld(dir, b);
  IncomingCheckpoint in(store.dir(), b);
  node::ReplicaMessage m;
  while (next(m)) {
    if (m.has_chunk()) {
      in.write(m.chunk());
      continue;
    }
    if (!m.has_end()) throw std::invalid_argument("a second Begin in one replication stream");
    in.verify(m.end());
    in.commit();
    rec.dir = dir;
    rec.save();
    spdlog::info("task {}: checkpoint {} from {} durable", b.task(), b.checkpoint(), sender);
    try {
      if (rec.keep) store.compact(rec.keep);
    } catch (const std::exception& e) {
      spdlog::warn("task {}: cannot merge old replicated checkpoints: {}", b.task(), e.what());
    }
    return ack;
  }
  throw std::runtime_error(fmt::format("checkpoint {} of task {} from {}: the stream ended "
                                       "before its End (cut mid-way): nothing kept",
                                       b.checkpoint(), b.task(), sender));
}

std::vector<ReplicaView> ReplicaReceiver::list() const {
  std::vector<ReplicaView> out;
  for (const auto& d : std::filesystem::directory_iterator(dir_)) {
    if (!std::filesystem::exists(d.path() / TaskRecord::kFile)) continue;
    try {
      ReplicaView v;
      v.record = TaskRecord::load(d.path());
      for (const IndexEntry& e : StoreIndex::list(d.path() / "store")) {
        ++v.checkpoints;
        v.newest = e.id;
        v.newestAgeS =
            std::chrono::duration<double>(std::chrono::system_clock::now() - e.taken).count();
      }
      out.push_back(std::move(v));
    } catch (const std::exception& e) {
      spdlog::warn("replica {}: {}", d.path().string(), e.what());
    }
  }
  return out;
}

TaskRecord ReplicaReceiver::release(const std::string& task, const std::filesystem::path& to) {
  if (!isTaskId(task)) throw std::out_of_range(fmt::format("bad task id '{}'", task));
  std::lock_guard taskLock(lockFor(task));
  std::filesystem::path dir = dir_ / task;
  if (!std::filesystem::exists(dir / TaskRecord::kFile))
    throw std::out_of_range(fmt::format("node {} holds no replica of task {}", node_, task));
  if (std::filesystem::exists(to))
    throw std::runtime_error(fmt::format("cannot take over task {}: {} exists", task, to.string()));
  std::filesystem::rename(dir, to);
  for (const auto& parent : {dir_, to.parent_path()}) fsyncDir(parent);
  {
    std::lock_guard lk(mu_);
    ownedHere_.insert(task);
  }
  return TaskRecord::load(to);
}

}  // namespace cryo::daemon
