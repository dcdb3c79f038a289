// The core layers plugin: entry points. Types register at the bottom of their own files.
#include "gan/plugin.hpp"

GAN_PLUGIN("layers", "0.1.0")
