// plugins/datasets/datasets.hpp — the factories of the `datasets` plugin, one per type.
//
// Each is registered by one GAN_REGISTER_DATASET line at the bottom of its own file; they are
// declared here so that tests can create the types directly, without loading the plugin:
//
//   gan::DatasetFactory f = gan::datasets::idx_factory();
//   gan::DatasetContext ctx;
//   ctx.params = gan::validate_params(f.params, raw);   // raw: gan::Params with "path", ...
//   std::unique_ptr<gan::Dataset> ds = f.create(ctx);    // throws gan::Error on a bad file
#pragma once

#include "gan/components.hpp"

namespace gan::datasets {

// Where Debian's dataset-fashion-mnist package puts the files: the `idx` type's default path.
inline constexpr const char* kDefaultIdxPath = "/usr/share/datasets/fashion-mnist";

DatasetFactory idx_factory();           // MNIST / Fashion-MNIST IDX files, gzip or raw
DatasetFactory cifar10_factory();       // CIFAR-10 binary version (data_batch_N.bin)
DatasetFactory stl10_factory();         // STL-10 binary version (unlabeled_X.bin, ...)
DatasetFactory image_folder_factory();  // a folder tree of PNG / JPEG files

}  // namespace gan::datasets
