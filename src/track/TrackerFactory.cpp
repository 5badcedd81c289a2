// TrackerFactory: which dirty-page backends this kernel offers (and why not), which one cryo
// picks (uffd-wp > soft-dirty > hash, unless CRYO_TRACKER names one), and creating one by name.
#include "track/TrackerFactory.h"

#include <cstdlib>

#include <fmt/format.h>

#include "common/Error.h"
#include "track/CrossCheckTracker.h"
#include "track/HashTracker.h"
#include "track/SoftDirtyTracker.h"
#include "track/UffdWpTracker.h"

namespace cryo {

namespace {

const char* const kNames = "uffd-wp, soft-dirty, hash";

std::string forced() {
  const char* env = std::getenv(TrackerFactory::kEnv);
  return env ? env : "";
}

}  // namespace

namespace {

const char* const kOrder[] = {"uffd-wp", "soft-dirty", "hash"};

// Probes only the backend named (the soft-dirty probe forks a short-lived child).
BackendStatus probe(const std::string& name) {
  BackendStatus b{name};
  if (name == "uffd-wp") {
    b.available = UffdWpTracker::available(b.detail);
  } else if (name == "soft-dirty") {
    b.available = SoftDirtyTracker::available(b.detail);
  } else {
    b.available = true;
    b.detail = "XXH3-64 of every page that holds data, compared at each checkpoint";
  }
  return b;
}

}  // namespace

std::vector<BackendStatus> TrackerFactory::backends() {
  std::vector<BackendStatus> out;
  for (const char* n : kOrder) out.push_back(probe(n));
  return out;
}

BackendStatus TrackerFactory::status(const std::string& name) {
  for (const char* n : kOrder)
    if (name == n) return probe(name);
  fail("unknown dirty-page backend '{}' (known: {})", name, kNames);
}

std::string TrackerFactory::pick() {
  std::string env = forced();
  if (!env.empty()) {
    BackendStatus b = status(env);
    if (!b.available)
      fail("{}={} but that backend is unavailable here: {}", kEnv, env, b.detail);
    return env;
  }
  for (const char* n : kOrder)
    if (probe(n).available) return n;
  fail("no dirty-page backend is available");  // never: hash always is
}

std::unique_ptr<DirtyTracker> TrackerFactory::create(const std::string& requested) {
  if (requested == "none") return nullptr;
  std::string name = requested.empty() ? pick() : requested;
  if (!requested.empty()) {
    BackendStatus b = status(name);
    if (!b.available) fail("dirty-page backend {} is unavailable here: {}", name, b.detail);
  }
  std::unique_ptr<DirtyTracker> t;
  if (name == "uffd-wp") t = std::make_unique<UffdWpTracker>();
  else if (name == "soft-dirty") t = std::make_unique<SoftDirtyTracker>();
  else return std::make_unique<HashTracker>();
  if (CrossCheckTracker::wanted()) return std::make_unique<CrossCheckTracker>(std::move(t));
  return t;
}

std::vector<std::string> TrackerFactory::reportLines() {
  std::vector<std::string> out;
  for (const auto& b : backends())
    out.push_back(fmt::format("{}: {} ({})", b.name, b.available ? "available" : "unavailable",
                              b.detail));
  try {
    std::string p = pick();
    out.push_back(forced().empty() ? fmt::format("picked: {}", p)
                                   : fmt::format("picked: {} (forced by {})", p, kEnv));
  } catch (const Error& e) {
    out.push_back(fmt::format("picked: none ({})", e.what()));
  }
  return out;
}

std::string TrackerFactory::report() {
  std::string out;
  for (const auto& l : reportLines()) out += l + "\n";
  return out;
}

}  // namespace cryo
