// gan/score.hpp — scoring any image set against another with a model's feature network and
// metrics (`gan score`): a folder of PNGs (what `gan sample --out DIR` writes, or another tool's
// output) or a split of the model's data set, against the model's real data or another set.
//
//   gan::ScoreOptions o;
//   o.images = "data:train@0";   // the train split in torch.randperm(seed 0) order
//   o.against = "data:test";     // default: the model's [eval] real_split
//   o.n = 10000;
//   gan::ScoreResult r = gan::score_images(gan::open_run("runs/x"), o);
//
// A set is named by
//   DIR            every *.png in DIR, by name (8-bit, the model's size; gray or RGB as the model)
//   data:SPLIT     the model's [data] set with split = SPLIT (when the type has one), in order
//   data:SPLIT@S   the same, permuted as torch.randperm(size, generator=torch.Generator().manual_seed(S))
// and n / n_against take the first images of it (default: all of it; for the default `against`,
// [eval] real_samples).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gan/json.hpp"
#include "gan/run_folder.hpp"

namespace gan {

struct ScoreOptions {
  std::string images;              // required
  std::string against;             // empty: data:<[eval] real_split>, real_samples images
  int64_t n = -1, n_against = -1;  // -1: all (the default `against`: [eval] real_samples)
  std::vector<std::string> metrics;  // empty: [eval] metrics
  std::string feature_net;           // empty: [eval] feature_net
  std::string device = "auto";
  bool progress = true;
};

struct ScoreResult {
  std::string images, against, feature_net, feature_net_sha256;
  int64_t n = 0, n_against = 0;
  std::map<std::string, double> values;
  std::map<std::string, bool> higher_is_better;
  std::map<std::string, std::string> scales;
  double seconds = 0;
  Json provenance;  // gan/provenance.hpp
  Json to_json() const;
};

// `run` gives the data set, [eval] and the feature network (a model file's check, or a run folder).
ScoreResult score_images(const Run& run, const ScoreOptions& o);

// A Run for a model file that has no run folder: the file checked, paths taken from its folder.
Run run_of_model_file(const std::string& model_path);

}  // namespace gan
