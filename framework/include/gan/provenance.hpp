// gan/provenance.hpp — what produced a result: gan's version and commit, LibTorch's version,
// the device, and every loaded plugin with the sha256 of its library file. Recorded in run.json
// (at the start of a run and at each resume), in every evaluation record and in `gan score`'s.
#pragma once

#include <string>

#include "gan/json.hpp"

namespace gan {

// The commit of the checkout gan was built from ("unknown" outside git; "+dirty" when it had
// uncommitted changes to tracked files).
const char* build_commit();

// {"gan_version", "gan_commit", "libtorch", "cuda_build", "device", "plugins": [{"name",
// "version", "library", "sha256"}]}; the plugin hashes are computed once per process.
Json provenance(const std::string& device);

}  // namespace gan
