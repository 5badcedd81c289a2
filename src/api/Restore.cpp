// Restore: the library API's restore (include/cryo/restore.h) over StoreCommands (which
// checkpoint) and RestoreDriver (the restore itself).
#include "cryo/restore.h"

#include "cli/StoreCommands.h"
#include "restore/RestoreDriver.h"

namespace cryo::api {

pid_t restoreLatest(const std::filesystem::path& store, const std::string& id) {
  std::filesystem::path dir = StoreCommands::pickForRestore(store, id);
  RestoreOptions opts;
  return RestoreDriver::run(dir, opts).pid;
}

}  // namespace cryo::api
