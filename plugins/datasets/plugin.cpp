// plugins/datasets/plugin.cpp — the `datasets` plugin library: idx, cifar10, stl10, image_folder.
// Each type registers itself at the bottom of its own file; this file only names the library.
#include "gan/plugin.hpp"

GAN_PLUGIN("datasets", "0.1.0")
