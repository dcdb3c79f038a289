// The specnorm plugin: layer type spectral_norm (spectral_norm.cpp).
#include "gan/plugin.hpp"

GAN_PLUGIN("specnorm", "0.1.0")
