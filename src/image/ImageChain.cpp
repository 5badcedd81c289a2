// ImageChain: an image and the ancestors its pages come from (incremental images name their
// parent by id and manifest checksum); refuses broken chains and resolves, for each page of the
// newest image, which image holds its data.
#include "image/ImageChain.h"

#include <algorithm>
#include <map>

#include "common/Error.h"
#include "image/ImageFormat.h"

namespace fs = std::filesystem;

namespace cryo {

namespace {
constexpr uint64_t kPage = image::kPageSize;
constexpr size_t kMaxChain = 100000;
}  // namespace

fs::path ImageChain::parentPath(const fs::path& child, const img::ParentRef& ref) {
  fs::path p = ref.path();
  if (p.is_absolute()) return p;
  return (child / p).lexically_normal();
}

ImageChain::ImageChain(const fs::path& newest) {
  images_.push_back(std::make_unique<ImageReader>(newest));
  fs::path dir = newest;
  while (images_.back()->manifest().has_parent()) {
    const img::ParentRef& ref = images_.back()->manifest().parent();
    fs::path pdir = parentPath(dir, ref);
    if (!fs::exists(pdir / std::string(image::kManifestFile)))
      fail("image {}: its parent {} ({}) is missing: the chain is broken", dir.string(),
           pdir.string(), ref.image_id());
    uint64_t sum = 0;
    img::Manifest pm = ImageReader::readManifest(pdir, &sum);
    bool sameState = sum == ref.manifest_checksum() ||
                     (pm.replaced_manifest_checksum() != 0 &&
                      pm.replaced_manifest_checksum() == ref.manifest_checksum());
    if (pm.image_id() != ref.image_id() || !sameState)
      fail("image {}: its parent {} is not the image it was taken after (id {} vs {}, manifest "
           "checksum {:016x} vs {:016x}): the chain is broken",
           dir.string(), pdir.string(), pm.image_id(), ref.image_id(), sum,
           ref.manifest_checksum());
    images_.push_back(std::make_unique<ImageReader>(pdir));
    dir = pdir;
    if (images_.size() > kMaxChain) fail("image {}: parent chain too long (a loop?)", newest.string());
  }
}

const uint8_t* ImageChain::verified(const ImageReader& image, const img::PageRun& run) const {
  if (verified_.count(&run)) return image.pageData(run, false);
  const uint8_t* p = image.pageData(run, true);
  verified_.insert(&run);
  return p;
}

std::vector<PageSource> ImageChain::pageSources(const img::Process& proc) const {
  // Assigned page ranges [start, end): taken by a newer image (data or "fresh content").
  std::map<uint64_t, uint64_t> assigned;
  std::vector<std::pair<uint64_t, uint64_t>> vmas;
  for (const auto& v : proc.vmas()) vmas.emplace_back(v.start(), v.end());
  std::vector<PageSource> out;

  auto take = [&](uint64_t s, uint64_t e, const ImageReader* img, const img::PageRun* run) {
    // Clip [s, e) to the final mappings, then to what no newer image assigned.
    auto vit = std::upper_bound(vmas.begin(), vmas.end(), std::make_pair(s, UINT64_MAX));
    if (vit != vmas.begin()) --vit;
    for (; vit != vmas.end() && vit->first < e; ++vit) {
      uint64_t cs = std::max(s, vit->first), ce = std::min(e, vit->second);
      if (cs >= ce) continue;
      uint64_t cur = cs;
      auto ait = assigned.upper_bound(cur);
      if (ait != assigned.begin()) {
        auto prev = std::prev(ait);
        if (prev->second > cur) cur = prev->second;
      }
      while (cur < ce) {
        uint64_t gapEnd = (ait != assigned.end()) ? std::min(ce, ait->first) : ce;
        if (cur < gapEnd) {
          if (run && run->kind() == img::PageRun::DATA) {
            const uint8_t* base = verified(*img, *run);
            out.push_back({cur, (gapEnd - cur) / kPage, base + (cur - run->vaddr())});
          }
          assigned[cur] = gapEnd;
        }
        if (ait == assigned.end() || ait->first >= ce) break;
        cur = std::max(cur, ait->second);
        ++ait;
      }
    }
  };

  for (const auto& image : images_) {
    bool complete = false;
    for (const auto& p : image->tree().processes()) {
      if (p.pid() != proc.pid()) continue;
      for (const auto& run : p.pages())
        take(run.vaddr(), run.vaddr() + uint64_t(run.nr_pages()) * kPage, image.get(), &run);
      complete = p.full_pages();
    }
    if (complete) break;  // older images hold an earlier process with this pid, or stale pages
  }
  std::sort(out.begin(), out.end(),
            [](const PageSource& a, const PageSource& b) { return a.vaddr < b.vaddr; });
  return out;
}

}  // namespace cryo
