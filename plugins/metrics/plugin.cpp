// The metrics plugin: metric types is, fid, kid, precision, density.
#include "gan/plugin.hpp"

GAN_PLUGIN("metrics", "0.1.0")
