// gan/run_folder.hpp — what a run folder holds besides checkpoints, and who may write it.
//
//   model.toml   the resolved model (extends merged, paths absolute), for people and for resume
//   run.json     where the model came from, gan's version, and the canonical model text with its
//                SHA-256, against which a resume checks that model.toml was not edited
//   train.lock   the writer's lock (gan/fs_util.hpp RunLock)
//   log.jsonl, samples/, checkpoints/, eval.json, evals.jsonl ... written by training/evaluation
//
// gan only ever removes or replaces files of its own in a run folder, and only in a folder that
// is a run (run.json) or that it creates.
#pragma once

#include <string>
#include <vector>

#include "gan/json.hpp"
#include "gan/model.hpp"

namespace gan {

struct RunInfo {
  std::string model_file;  // the model file the run was started from (absolute; any bytes)
  std::string base_dir;    // folder that relative paths in the model are resolved against
  std::string name;        // the model's name
  std::string model_text;  // canonical resolved model at the start (empty for older runs)
  std::string model_sha256;
};

// A run folder opened for reading (sample, evaluate, compare).
struct Run {
  std::string dir;
  RunInfo info;
  ModelSpec spec;
  ModelReport report;
};
Run open_run(const std::string& run_dir);  // throws gan::Error if it is not a run folder
RunInfo read_run_info(const std::string& dir);
// run.json's text for `info` (paths that are not UTF-8 are kept exactly, hex-encoded beside a
// printable copy), plus `extra` fields.
std::string run_info_json(const RunInfo& info, const Json& extra);

// The model as the run folder keeps it: path parameters made absolute (as validated).
ModelSpec with_resolved_paths(ModelSpec spec, const ModelReport& rep);
// The model text that decides the computation, comment lines dropped: model_to_toml of the
// resolved model. Two runs with the same canonical text train alike.
std::string canonical_model_text(const ModelSpec& spec, const ModelReport& rep);
// The differences between two canonical texts that change what training computes, one line
// each ("[train] lr_g: 0.0002 -> 0.0001", "- ...", "+ ..."); settings that only decide how long,
// how often or where the run goes ([train] iterations, log_every, sample_every,
// checkpoint_every, keep_checkpoints, eval_every, keep_best, device; [model]; [eval]) are
// ignored.
std::vector<std::string> model_differences(const std::string& before, const std::string& after);

// What `gan train MODEL --out DIR` may do with DIR.
enum class OutFolder { New, Empty, RestartInPlace };
// Throws gan::Error (nothing changed) when DIR is a file, a non-empty folder that is not a run,
// a run with a checkpoint, or a run holding files gan did not create.
OutFolder check_out_folder(const std::string& dir);
// Removes the files of a run that never saved a checkpoint (all of them gan's, as checked).
void clear_run_without_checkpoint(const std::string& dir);

}  // namespace gan
