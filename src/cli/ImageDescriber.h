// ImageDescriber: what `cryo show` prints about an image, as text for people or JSON for scripts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "image/ImageReader.h"

namespace cryo {

class ImageDescriber {
 public:
  static nlohmann::json toJson(const ImageReader& image);
  static std::string toText(const ImageReader& image);
};

}  // namespace cryo
