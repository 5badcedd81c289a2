// ParentDiffSelection: finds the pages changed since a parent image by comparing the task's
// memory with the parent chain's page data. Needs no tracking state, so one-shot commands
// (`cryo dump --parent`, `cryo checkpoint`) can take incremental checkpoints; it reads all of
// the task's memory while it is frozen (content comparison, the last-resort method).
#pragma once

#include <filesystem>

#include "dump/PageSelection.h"

namespace cryo {

class ParentDiffSelection : public PageSelection {
 public:
  explicit ParentDiffSelection(std::filesystem::path parent) : parent_(std::move(parent)) {}
  std::optional<PageRanges> changedRanges(DumpContext& ctx) override;

 private:
  std::filesystem::path parent_;
};

}  // namespace cryo
