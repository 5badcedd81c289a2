// Stats: the repetitions of one figure, summarised as median, minimum and maximum.
#pragma once

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

namespace cryo::bench {

class Stats {
 public:
  void add(double v) { values_.push_back(v); }
  bool empty() const { return values_.empty(); }
  size_t count() const { return values_.size(); }
  // The middle value; the mean of the two middle values for an even count.
  double median() const {
    if (values_.empty()) return 0;
    std::vector<double> v = values_;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  double min() const { return values_.empty() ? 0 : *std::min_element(values_.begin(), values_.end()); }
  double max() const { return values_.empty() ? 0 : *std::max_element(values_.begin(), values_.end()); }
  nlohmann::json toJson() const {
    if (values_.empty()) return nullptr;
    return {{"median", median()}, {"min", min()}, {"max", max()}, {"values", values_}};
  }

 private:
  std::vector<double> values_;
};

}  // namespace cryo::bench
