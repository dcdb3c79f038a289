// Internal to the model front end: block expansion and graph shape inference (model_graph.cpp),
// used by check_model (model.cpp). Torch-free.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gan/model.hpp"

namespace gan::detail {

// `raw`'s values (and where each was written) under a new owner and location, less `drop`: the
// front end collects values per file and section, validation reports them as one component.
inline Params reowned(const Params& raw, std::string owner, Source where, const std::vector<std::string>& drop = {}) {
  Params out(std::move(owner), std::move(where));
  for (const auto& [k, v] : raw.values()) {
    if (std::find(drop.begin(), drop.end(), k) == drop.end()) out.set(k, v, raw.source(k));
  }
  return out;
}

// Expands the network's block instances, resolves every layer's inputs and infers every shape
// over the graph, in an order where each layer follows the layers it reads.
NetworkReport infer_network(const NetworkSpec& net, const std::map<std::string, BlockSpec>& blocks,
                            const Shape& input, const Registry& reg);

// Where to point for a wrong network output, and what to add to the message.
std::pair<Source, std::string> blame_for_output(const NetworkReport& net);

}  // namespace gan::detail
