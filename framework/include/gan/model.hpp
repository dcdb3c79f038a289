// gan/model.hpp — the model language: TOML files that declare a GAN layer by layer.
//
// A model file (see docs/model-language.md for the full reference, generated from the registry):
//
//   [model]
//   name = "baseline"
//   [data]                      # dataset type + its parameters; channels/size = image shape
//   type = "idx"
//   channels = 1
//   size = 28
//   [train]                     # optimiser, lr, betas, batch_size, n_dis, iterations, seed, init ...
//   [loss]
//   type = "minimax"
//   [eval]
//   metrics = ["is", "fid"]
//   [generator]
//   latent_dim = 128
//   [[generator.layers]]
//   name = "fc"
//   type = "linear"
//   out_features = 6272
//   ...
//   [discriminator]
//   wrap = { type = "spectral_norm" }   # default wrapper for every layer with a weight
//   [[discriminator.layers]]
//   ...
//
// A variant extends another file and overrides layers by name:
//
//   extends = "baseline.toml"
//   [model]
//   name = "adagan-1-3x3"
//   [generator.override.conv1]
//   type = "adaconv"
//   adaptive_kernel_size = 3
//
// load_model() parses and merges (syntax, structure, extends); check_model() resolves every type
// through the registry, validates parameters and infers shapes. Both throw gan::Error with
// file:line. Torch-free.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gan/params.hpp"
#include "gan/registry.hpp"
#include "gan/shape.hpp"

namespace gan {

struct WrapSpec {
  std::string type;
  Params raw;
  Source where;
};

struct LayerSpec {
  std::string name;
  std::string type;   // a layer type of the registry; empty for a block instance
  Source where;       // the [[...layers]] header
  Source name_where;  // the `name = ...` line
  Source type_where;  // the `type = ...` line
  Params raw;         // parameters as written (not yet validated); a block instance's arguments
  std::optional<WrapSpec> wrap;
  bool no_wrap = false;  // `wrap = "none"`: opt out of the network's default wrapper
  // `inputs = ["up1", "shortcut"]`: the layers (or the network's input, "z" / "x", or inside a
  // block its inputs) whose outputs this layer takes. Empty: the previous layer.
  std::vector<std::string> inputs;
  Source inputs_where;
  // `block = "gblock"`: an instance of a block declared under [blocks.gblock].
  std::string block;
  Source block_where;
  // `enabled = false` (or "$param" in a block): the layer passes its one input through unchanged.
  std::optional<ParamValue> enabled;
  Source enabled_where;
  // `init = "paper" | "default" | "xavier_uniform"`: overrides [train] init for this layer.
  std::string init;
  Source init_where;
};

// Layers removed by an edit (`remove = [...]`), kept to explain a dangling reference.
using RemovedLayers = std::map<std::string, Source>;

// An override of one layer inside a block instance, `[generator.override."block1.conv2"]`: applied
// to that instance's layer alone when the blocks are expanded.
struct LayerPatch {
  std::string target;  // "block1.conv2"
  Source where;
  LayerSpec set;       // what the override gives (type empty: unchanged; raw: values to set)
  std::vector<std::string> unset;
};

struct NetworkSpec {
  std::string role;  // "generator" | "discriminator"
  Source where;
  int64_t latent_dim = 0;  // generator only
  Source latent_where;
  std::optional<WrapSpec> wrap;  // default wrapper for layers with a weight
  std::vector<LayerSpec> layers;
  RemovedLayers removed;
  std::vector<LayerPatch> patches;
};

// A reusable, parameterised group of layers:
//
//   [blocks.gblock]
//   params = { ch = 256, up = 2 }     # defaults; `required = ["ch"]` for arguments without one
//   inputs = ["in"]                   # names of its inputs (default: one, "in")
//   [[blocks.gblock.layers]]
//   name = "conv1"
//   type = "conv2d"
//   out_channels = "$ch"              # "$name": the instance's argument
//
// instantiated as a layer: `name = "block1"`, `block = "gblock"`, `ch = 128`. Its layers become
// "block1.conv1", ...; "block1" names its last layer's output.
struct BlockSpec {
  std::string name;
  Source where;
  Params defaults;                     // declared parameters with their default values
  std::vector<std::string> required;   // declared parameters without a default
  std::vector<std::string> inputs = {"in"};
  std::vector<LayerSpec> layers;
  RemovedLayers removed;
};

struct SectionSpec {
  Params raw;
  Source where;
  bool present = false;
  // [eval] only: a metric's own parameters, [eval.TYPE] (e.g. [eval.kid] subset_size = 500)
  std::map<std::string, Params> tables;
};

struct ModelSpec {
  std::string path;                // the file given
  std::vector<std::string> files;  // the extends chain, the given file first
  SectionSpec model, data, train, loss, eval;
  NetworkSpec generator, discriminator;
  std::map<std::string, BlockSpec> blocks;

  std::string name() const;  // [model] name, or the file's stem
};

// Parses `path` and everything it extends. Throws gan::Error (syntax errors, unknown sections,
// missing/circular extends, overrides of unknown layers) with file:line.
ModelSpec load_model(const std::string& path);

// ---- validation and shape inference ----

struct LayerReport {
  std::string name, type;  // name: "block2.conv1" for a layer of a block instance
  Source where;            // a block's layer: the instance's line (block_where: the block's)
  Source block_where;
  Params params;  // validated
  Shape input, output;                // input: the first input's shape
  std::vector<std::string> inputs;    // the layers it reads, "z" / "x" for the network's input
  std::vector<Shape> input_shapes;    // one per input
  int64_t params_count = 0, macs = 0;
  std::string input_from;
  std::optional<WrapSpec> wrap;  // resolved wrapper (validated params in wrap->raw)
  std::string init;              // the layer's own init, or "" for [train] init
};

// A network as a graph: `layers` in execution order (every layer after the layers it reads); the
// output is the last one's.
struct NetworkReport {
  std::string role;
  std::string input_name;  // "z" (generator) or "x" (discriminator)
  Shape input, output;
  int64_t params_count = 0, macs = 0;
  std::vector<LayerReport> layers;
};

struct ModelReport {
  NetworkReport generator, discriminator;
  Shape image;  // {C, H, W} from [data]
  Params data, train, loss, eval;  // validated sections (data: the dataset's own parameters)
  std::string data_type, loss_type;
  std::vector<std::string> metrics;
  std::map<std::string, Params> metric_params;  // validated [eval.TYPE] of each metric, defaults filled
};

// Validates everything against the registry and infers every layer's shape.
ModelReport check_model(const ModelSpec& spec, const Registry& reg);

// The framework's own sections' parameters, for docs and `gan plugins --describe`.
const std::vector<ParamSpec>& train_param_specs();
const std::vector<ParamSpec>& eval_param_specs();
const std::vector<ParamSpec>& data_param_specs();   // channels, size (the rest is the dataset's)
const std::vector<ParamSpec>& model_param_specs();  // name, description

// The merged model written back as one self-contained TOML file (for run folders).
std::string model_to_toml(const ModelSpec& spec);

}  // namespace gan
