// The weights in a checkpoint, for the tests that compare runs (test_resume, test_distributed).
#pragma once

#include <torch/serialize.h>

#include <map>
#include <string>

#include "core_util.hpp"
#include "gan/network.hpp"

namespace gan::test {

// Every parameter ("param NAME") and buffer ("buffer NAME") of network `key` ("G" or "D") in the
// checkpoint file `ckpt`, loaded into a network built from `rep`.
inline std::map<std::string, torch::Tensor> module_state(const std::string& ckpt, const std::string& key,
                                                         const gan::NetworkReport& rep) {
  gan::Network net(rep, plugins());
  torch::serialize::InputArchive ar, sub;
  ar.load_from(ckpt, torch::kCPU);
  ar.read(key, sub);
  net->load(sub);
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : net->named_parameters()) out["param " + p.key()] = p.value().detach().clone();
  for (const auto& b : net->named_buffers()) out["buffer " + b.key()] = b.value().clone();
  return out;
}

}  // namespace gan::test
