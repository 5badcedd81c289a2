// cryo/restore.h: the library API for bringing a task back from a store.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace cryo::api {

// Restores the store's latest complete checkpoint (or `id`), under its saved pids; returns the
// root's pid. The restored task is the caller's child. Throws std::exception saying why not.
pid_t restoreLatest(const std::filesystem::path& store, const std::string& id = "");

}  // namespace cryo::api
