// RestoreVerifier: `cryo restore --verify`: compares what the kernel shows of every restored
// process, before it runs, with the view the dump recorded.
#include "verify/RestoreVerifier.h"

#include <string>
#include <vector>

#include "common/Error.h"
#include "verify/KernelView.h"

namespace cryo {

namespace {

// A zombie shows only who it is: the image's identity fields are its whole view.
KernelView::Fields zombieView(const img::Process& p) {
  return {{"zombie", "yes"},
          {"ppid", std::to_string(p.ppid())},
          {"pgrp", std::to_string(p.pgid())},
          {"session", std::to_string(p.sid())}};
}

KernelView::Fields recordedView(const img::Process& p) {
  KernelView::Fields f;
  for (const img::KernelViewField& kv : p.kernel_view()) f[kv.key()] = kv.value();
  return f;
}

}  // namespace

void RestoreVerifier::requireView(const img::Manifest& manifest) {
  if (manifest.kernel_view_version() == 0)
    fail("restore --verify: the image holds no kernel view to compare with: take the checkpoint "
         "with --verify-data");
  if (manifest.kernel_view_version() != KernelView::kVersion)
    fail("restore --verify: the image's kernel view is version {}, this cryo compares version {}",
         manifest.kernel_view_version(), KernelView::kVersion);
}

void RestoreVerifier::check(const img::Manifest& manifest, const img::Tree& tree) {
  requireView(manifest);
  std::vector<std::string> diffs;
  for (const img::Process& p : tree.processes()) {
    if (!p.zombie() && !p.kernel_view_recorded())
      fail("restore --verify: pid {}: the image holds no kernel view of it", p.pid());
    KernelView::Fields recorded = p.zombie() ? zombieView(p) : recordedView(p);
    KernelView::Fields restored = KernelView::ofProcess(p.pid());
    if (p.zombie())  // only the identity fields are compared
      std::erase_if(restored, [&](const auto& kv) { return !recorded.count(kv.first); });
    if (p.pid() == tree.root_pid()) {
      // The restored root is the restoring cryo's child, whoever its parent was.
      recorded.erase("ppid");
      restored.erase("ppid");
    }
    for (std::string& d : KernelView::differences(p.pid(), recorded, restored))
      diffs.push_back(std::move(d));
  }
  if (diffs.empty()) return;
  std::string all;
  for (const std::string& d : diffs) all += "\n  " + d;
  fail("restore --verify: the restored tree differs from the checkpointed one in {} field{} "
       "(restored tree killed):{}",
       diffs.size(), diffs.size() == 1 ? "" : "s", all);
}

}  // namespace cryo
