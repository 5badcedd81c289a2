// ProcessTree: the processes one dump covers, the root and all its descendants, frozen
// together, parents before children; zombies recorded.
#include "dump/ProcessTree.h"

#include <algorithm>
#include <set>

#include "common/Error.h"

namespace cryo {

ProcessTree::ProcessTree(pid_t root, const Listing& listing,
                         const std::function<void()>& rootHeld,
                         const Tracee::SlowToStop& slowToStop)
    : slowToStop_(slowToStop) {
  const std::vector<pid_t>& expected = listing.pids;
  members_.emplace_back();
  members_.back().pid = root;
  members_.back().freezer = std::make_unique<ProcessFreezer>(root, slowToStop_);
  frozenAt_ = members_.front().freezer->frozenAt();
  if (rootHeld) rootHeld();
  members_.front().stat = ProcFs::stat(root);
  std::set<pid_t> known{root};
  auto isLiveMember = [&](pid_t pid) {
    for (const Member& m : members_)
      if (m.pid == pid) return !m.zombie();
    return false;
  };
  // The descendants listed before the freeze, parents first: frozen without a listing each;
  // one that is no longer a child of a member (reparented meanwhile) is let go again.
  for (pid_t c : expected) {
    if (known.count(c)) continue;
    size_t before = members_.size();
    add(c);
    if (members_.size() == before) continue;
    if (!isLiveMember(members_.back().stat.ppid)) {
      if (members_.back().freezer) members_.back().freezer->thaw();
      members_.pop_back();
      continue;
    }
    known.insert(c);
  }
  // No process or thread was created anywhere since the listing began (the count of forks
  // is the same): the members are all the tree has. Processes that became orphans meanwhile
  // are adopted by an ancestor of theirs, so none can have joined the tree (a listing while
  // frozen costs a read of every process's stat: tenths of a millisecond).
  if (listing.forksBefore && ProcFs::forkCount() == listing.forksBefore) return;
  // Otherwise list the children of frozen members until a listing finds none we do not have:
  // a frozen process cannot fork, so the last listing saw the whole tree.
  for (;;) {
    std::map<pid_t, pid_t> parents = ProcFs::parents();
    std::vector<pid_t> found;
    for (const auto& [child, parent] : parents)
      if (!known.count(child) && isLiveMember(parent)) found.push_back(child);  // a zombie's children are not its
    if (found.empty()) break;
    for (pid_t c : found) {
      known.insert(c);
      add(c);
    }
  }
}

void ProcessTree::add(pid_t pid) {
  Member m;
  m.pid = pid;
  try {
    m.stat = ProcFs::stat(pid);
  } catch (const Error&) {
    return;  // exited and reaped meanwhile: not part of the tree any more
  }
  if (m.stat.state != 'Z' && m.stat.state != 'X') {
    try {
      m.freezer = std::make_unique<ProcessFreezer>(pid, slowToStop_);
    } catch (const Error&) {
      // It may have exited in between: then it is a zombie (or gone); otherwise the error
      // stands (traced by someone else, ...).
      auto again = ProcFs::tryReadFile(ProcFs::path(pid, "stat"));
      if (!again) return;
      m.stat = ProcFs::stat(pid);
      if (m.stat.state != 'Z' && m.stat.state != 'X') throw;
    }
    if (m.freezer) m.stat = ProcFs::stat(pid);
  }
  members_.push_back(std::move(m));
}

std::vector<pid_t> ProcessTree::livePids() const {
  std::vector<pid_t> out;
  for (const Member& m : members_)
    if (!m.zombie()) out.push_back(m.pid);
  return out;
}

size_t ProcessTree::liveCount() const { return livePids().size(); }

void ProcessTree::thaw() {
  for (Member& m : members_)
    if (m.freezer) m.freezer->thaw();
}

void ProcessTree::kill() {
  // Children first: a parent killed first would have them reparented mid-way.
  for (size_t i = members_.size(); i-- > 0;)
    if (members_[i].freezer) members_[i].freezer->kill();
}

std::vector<pid_t> ProcessTree::descendants(pid_t root) { return list(root).pids; }

ProcessTree::Listing ProcessTree::list(pid_t root) {
  Listing listing;
  listing.forksBefore = ProcFs::forkCount();
  std::map<pid_t, pid_t> parents = ProcFs::parents();
  std::set<pid_t> in{root};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [child, parent] : parents)
      if (in.count(parent) && in.insert(child).second) {
        listing.pids.push_back(child);
        grew = true;
      }
  }
  return listing;
}

}  // namespace cryo
