// gan/dataset.hpp — the interface a dataset plugin implements. Torch-free.
//
// A dataset is a random-access collection of images of one shape {C, H, W}, each delivered as
// C*H*W floats in [-1, 1], channel-major (NCHW without N). Shuffling, batching and prefetching
// are the framework's job (gan::DataLoader), not the plugin's.
//
// Loaders validate their files when created (magic numbers, sizes, counts) and throw gan::Error
// naming the file and what is wrong ("train-images-idx3-ubyte.gz: truncated: expected
// 47040016 bytes, found 1000").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gan/components.hpp"
#include "gan/shape.hpp"

namespace gan {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Shape shape() const = 0;  // {C, H, W}
  // Writes image `index` (0 <= index < size()) as shape_numel(shape()) floats in [-1, 1].
  // Must be safe to call concurrently from several threads.
  virtual void read(int64_t index, float* out) const = 0;
  // Class label of image `index`, or -1 if the dataset has none.
  virtual int64_t label(int64_t /*index*/) const { return -1; }
  virtual int64_t num_classes() const { return 0; }
  // One line for logs: "idx: /usr/share/datasets/fashion-mnist (train, 60000 images 1x28x28)".
  virtual std::string describe() const = 0;
};

}  // namespace gan
