// gan/checkpoint.hpp — the checkpoint files of a run folder, committed atomically.
//
// A save of checkpoint <which> ("latest" or "best") at iteration N writes, in checkpoints/:
//   <which>-NNNNNNN.pt    the serialised state (a LibTorch archive)
//   <which>-NNNNNNN.json  its metadata: size and CRC32 of the .pt, iteration, model, ...
// each through a temp file, fsync and rename, then commits by replacing the one pointer file
//   <which>.json          a copy of that metadata, naming the .pt it belongs to
// with a single rename (file and folder fsynced). A kill at any instant leaves either the old
// pointer or the new one, each naming a complete, verified pair. Afterwards <which>.pt is made a
// symbolic link to the current file (for people and tools; gan itself reads the pointer) and
// all but the newest `keep` numbered pairs are removed.
//
// Readers verify size and CRC32 before using a file. If the pointer is missing, unreadable or
// names a file that fails to verify, they fall back to the newest numbered pair that verifies,
// with a warning naming what was skipped. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gan/json.hpp"

namespace gan {

struct CheckpointRecord {
  std::string path;   // the .pt file read
  std::string bytes;  // its verified contents
  Json meta;          // its metadata
};

// Commits `bytes` as checkpoint `which` at `iteration` in folder `dir` (see above). `meta` gets
// file, size, crc32 and iteration added. Throws gan::Error (the previous checkpoint intact).
void commit_checkpoint(const std::string& dir, const std::string& which, int64_t iteration,
                       const std::string& bytes, Json meta, int64_t keep);

// Reads checkpoint `which` of folder `dir`: a pointer name ("latest", "best"; with fallback as
// above) or a numbered one ("latest-0000400"). Throws gan::Error when nothing verifies.
CheckpointRecord read_checkpoint(const std::string& dir, const std::string& which);

// True when `dir` holds anything of checkpoint `which` (a pointer or a numbered pair).
bool has_checkpoint(const std::string& dir, const std::string& which);

// The metadata of the checkpoint read_checkpoint would use, or null Json when there is none
// (no file contents are read beyond the metadata and the CRC check).
Json checkpoint_metadata(const std::string& dir, const std::string& which);

// Removes temp files (".<name>.tmp.<pid>") left in `dir` by gan processes that are gone.
// Returns how many were removed.
int remove_stale_temps(const std::string& dir);

}  // namespace gan
