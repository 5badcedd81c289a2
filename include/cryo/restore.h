// cryo/restore.h: the library API for bringing a task back from a store.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace cryo::api {

struct RestoreRequest {
  std::filesystem::path store;
  std::string id;  // "" : the latest complete checkpoint
  // Files the task had open that the restoring caller provides instead (like `cryo restore
  // --inherit-fd`): key = what the fd was, as `cryo show` and the dump's log name it (a path
  // for a file, "pipe:[INODE]" for a pipe, "socket:[INODE]" for a socket); value = an fd of the
  // caller, whose open file description every fd of the task that had it then shares. A key
  // that no fd of the task had is refused, unless `inheritOptional`.
  std::map<std::string, int> inheritFds;
  // The inheritFds are offers: a key no fd of the task had is ignored (a daemon offering a
  // task its new log files, which the task may have closed).
  bool inheritOptional = false;
};

// Restores the request's checkpoint under its saved pids; returns the root's pid. The restored
// task is the caller's child. Throws std::exception saying why not.
pid_t restore(const RestoreRequest& request);

// restore() of the store's latest complete checkpoint (or `id`), nothing inherited.
pid_t restoreLatest(const std::filesystem::path& store, const std::string& id = "");

}  // namespace cryo::api
