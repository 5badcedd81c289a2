// FilesCollector: (placeholder) Files state, Collector side.
#include "dump/FilesCollector.h"

#include "dump/DumpContext.h"

namespace cryo {

void FilesCollector::collect(DumpContext&, img::Process&) {}

}  // namespace cryo
