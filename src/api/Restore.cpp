// Restore: the library API's restore (include/cryo/restore.h) over StoreCommands (which
// checkpoint) and RestoreDriver (the restore itself).
#include "cryo/restore.h"

#include "cli/StoreCommands.h"
#include "restore/RestoreDriver.h"

namespace cryo::api {

pid_t restore(const RestoreRequest& request) {
  std::filesystem::path dir = StoreCommands::pickForRestore(request.store, request.id);
  RestoreOptions opts;
  opts.inheritFds = request.inheritFds;
  opts.inheritOptional = request.inheritOptional;
  return RestoreDriver::run(dir, opts).pid;
}

pid_t restoreLatest(const std::filesystem::path& store, const std::string& id) {
  RestoreRequest request;
  request.store = store;
  request.id = id;
  return restore(request);
}

}  // namespace cryo::api
