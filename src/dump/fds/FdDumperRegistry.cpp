// FdDumperRegistry: the dumpers of every kind of fd cryo can checkpoint, in the order they
// are asked to claim an fd. A new kind of fd is one new FdDumper listed here (and its
// FdRestorer in FdRestorerRegistry).
#include "dump/fds/FdDumperRegistry.h"

#include "dump/fds/EpollFdDumper.h"
#include "dump/fds/EventFdDumper.h"
#include "dump/fds/FileFdDumper.h"
#include "dump/fds/InotifyFdDumper.h"
#include "dump/fds/MemfdFdDumper.h"
#include "dump/fds/PipeFdDumper.h"
#include "dump/fds/SignalFdDumper.h"
#include "dump/fds/SocketFdDumper.h"
#include "dump/fds/TimerFdDumper.h"

namespace cryo {

std::vector<std::unique_ptr<FdDumper>> FdDumperRegistry::all() {
  std::vector<std::unique_ptr<FdDumper>> v;
  v.push_back(std::make_unique<MemfdFdDumper>());  // before files: a memfd is a regular file
  v.push_back(std::make_unique<FileFdDumper>());
  v.push_back(std::make_unique<PipeFdDumper>());
  v.push_back(std::make_unique<SocketFdDumper>());
  v.push_back(std::make_unique<EventFdDumper>());
  v.push_back(std::make_unique<TimerFdDumper>());
  v.push_back(std::make_unique<SignalFdDumper>());
  v.push_back(std::make_unique<EpollFdDumper>());
  v.push_back(std::make_unique<InotifyFdDumper>());
  return v;
}

}  // namespace cryo
