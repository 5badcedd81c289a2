// ReplicaSender: a thread per standby; each round lists the store's complete checkpoints and
// uploads, in order, those newer than the standby's ack (CheckpointUpload).
#include "node/daemon/ReplicaSender.h"

#include <algorithm>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "node/daemon/CheckpointUpload.h"
#include "node/daemon/StoreIndex.h"

namespace cryo::daemon {

namespace {

constexpr std::chrono::milliseconds kFirstPause{100};
constexpr std::chrono::milliseconds kLongestPause{5000};
constexpr std::chrono::seconds kCallDeadline{120};

}  // namespace

ReplicaSender::ReplicaSender(SenderTask task, const std::vector<Peer>& standbys,
                             PeerChannels& channels)
    : task_(std::move(task)), channels_(channels) {
  for (const Peer& p : standbys) {
    auto link = std::make_unique<Link>();
    link->st.peer = p;
    links_.push_back(std::move(link));
  }
  for (auto& l : links_) {
    Link* link = l.get();
    link->thread = std::thread([this, link] { serve(*link); });
  }
}

ReplicaSender::~ReplicaSender() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (auto& l : links_)
      if (l->inFlight) l->inFlight->TryCancel();
  }
  wake_.notify_all();
  for (auto& l : links_)
    if (l->thread.joinable()) l->thread.join();
}

void ReplicaSender::checkpointed() {
  {
    std::lock_guard lk(mu_);
    ++generation_;
  }
  wake_.notify_all();
}

void ReplicaSender::setRecord(std::string recordJson) {
  std::lock_guard lk(mu_);
  record_ = std::move(recordJson);
}

std::string ReplicaSender::recordJson() const {
  std::lock_guard lk(mu_);
  return record_;
}

std::vector<StandbyStatus> ReplicaSender::status() const {
  std::lock_guard lk(mu_);
  std::vector<StandbyStatus> out;
  auto now = std::chrono::system_clock::now();
  for (const auto& l : links_) {
    StandbyStatus s = l->st;
    if (!s.acked.empty()) s.ackedAgeS = std::chrono::duration<double>(now - l->ackedTime).count();
    out.push_back(std::move(s));
  }
  return out;
}

void ReplicaSender::serve(Link& link) {
  auto pause = kFirstPause;
  std::unique_lock lk(mu_);
  while (!stopping_) {
    uint64_t seen = generation_;
    lk.unlock();
    bool ok = catchUp(link);
    lk.lock();
    if (ok) {
      pause = kFirstPause;
      wake_.wait(lk, [&] { return stopping_ || generation_ != seen; });
    } else {
      // However often checkpoints come, a failing standby is tried again after a pause.
      wake_.wait_for(lk, pause, [&] { return stopping_; });
      pause = std::min(pause * 2, kLongestPause);
    }
  }
}

bool ReplicaSender::catchUp(Link& link) {
  try {
    std::vector<IndexEntry> entries = StoreIndex::list(task_.store);
    bool restarted = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      {
        std::lock_guard lk(mu_);
        if (stopping_) return true;
        if (entries[i].id <= link.st.acked) continue;
      }
      try {
        sendOne(link, entries[i]);
      } catch (const StandbyLacksParent& e) {
        if (restarted) throw;
        // From the owner's oldest (full) checkpoint on: what the standby already holds is
        // acked at once, without its data.
        spdlog::info("task {}: {}; sending from checkpoint {} on", task_.id, e.what(),
                     entries.front().id);
        restarted = true;
        std::lock_guard lk(mu_);
        link.st.acked.clear();
        i = static_cast<size_t>(-1);
      }
    }
    std::lock_guard lk(mu_);
    noteLag(link, entries);
    return true;
  } catch (const std::exception& e) {
    std::lock_guard lk(mu_);
    if (link.st.lastError != e.what())
      spdlog::warn("task {}: replication to {} failed: {}", task_.id, link.st.peer.name, e.what());
    link.st.lastError = e.what();
    try {
      noteLag(link, StoreIndex::list(task_.store));
    } catch (const std::exception&) {
    }
    return false;
  }
}

void ReplicaSender::noteLag(Link& link, const std::vector<IndexEntry>& entries) {
  link.st.lag = static_cast<uint64_t>(std::count_if(
      entries.begin(), entries.end(), [&](const IndexEntry& e) { return e.id > link.st.acked; }));
}

bool ReplicaSender::sendOne(Link& link, const IndexEntry& e) {
  node::ReplicaBegin b;
  b.set_task(task_.id);
  b.set_epoch(task_.epoch);
  b.set_checkpoint(e.id);
  b.set_parent(e.parentId);
  b.set_image_id(e.imageId);
  b.set_parent_image_id(e.parentImageId);
  b.set_record_json(recordJson());
  b.set_owner(task_.owner);
  CheckpointUpload upload(std::move(b), e.path);
  auto stub = node::Replica::NewStub(channels_.get(link.st.peer.address));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  {
    std::lock_guard lk(mu_);
    if (stopping_) return false;
    link.inFlight = &ctx;
  }
  node::ReplicaAck ack;
  try {
    ack = upload.send(*stub, ctx, link.st.peer.name);
  } catch (...) {
    std::lock_guard lk(mu_);
    link.inFlight = nullptr;
    throw;
  }
  std::lock_guard lk(mu_);
  link.inFlight = nullptr;
  if (ack.checkpoint() != e.id)
    throw std::runtime_error(fmt::format("standby {} acked checkpoint '{}' for {} of task {}",
                                         link.st.peer.name, ack.checkpoint(), e.id, task_.id));
  link.st.acked = e.id;
  link.ackedTime = e.taken;
  link.st.lastError.clear();
  spdlog::debug("task {}: checkpoint {} durable on {}{}", task_.id, e.id, link.st.peer.name,
                ack.already_held() ? " (already held)" : "");
  return true;
}

}  // namespace cryo::daemon
