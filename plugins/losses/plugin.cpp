// The losses plugin: loss types minimax, hinge, wgan_gp.
#include "gan/plugin.hpp"

GAN_PLUGIN("losses", "0.1.0")
