// Checks across components (gan/compat.hpp).
#include "gan/compat.hpp"

#include <string>
#include <utility>
#include <vector>

#include "gan/error.hpp"

namespace gan {

namespace {

void check_network(const NetworkReport& net, const std::string& why, const std::string& loss_desc,
                   const Registry& reg) {
  for (const LayerReport& lr : net.layers) {
    std::vector<std::pair<std::string, std::string>> reasons;  // (type, why not)
    const LayerFactory& f = reg.layer(lr.type, lr.where);
    if (f.no_double_backward) {
      if (std::string r = f.no_double_backward(lr.params); !r.empty()) reasons.push_back({lr.type, r});
    }
    if (lr.wrap) {
      const LayerFactory& wf = reg.layer(lr.wrap->type, lr.wrap->where);
      if (wf.no_double_backward) {
        if (std::string r = wf.no_double_backward(lr.wrap->raw); !r.empty())
          reasons.push_back({"wrapper " + lr.wrap->type, r});
      }
    }
    if (!reasons.empty()) {
      const auto& [what, r] = reasons.front();
      throw Error(lr.where, "layer '" + lr.name + "' (" + lr.type + ") of the " + net.role + ": " + loss_desc +
                                " back-propagates through the " + net.role + "'s input gradient (" + why +
                                "), which needs every " + net.role + " layer twice differentiable, and this one is "
                                "not: " + (what == lr.type ? "" : what + ": ") + r +
                                "; or use a loss without a gradient penalty");
    }
  }
}

}  // namespace

void check_double_backward(const ModelSpec& spec, const ModelReport& rep, const Registry& reg) {
  const LossFactory& lf = reg.loss(rep.loss_type, spec.loss.raw.source("type"));
  Source loss_where = spec.loss.raw.has("type") ? spec.loss.raw.source("type") : spec.loss.where;
  std::string loss_desc = "[loss] " + rep.loss_type + (loss_where.known() ? " (" + loss_where.str() + ")" : "");
  if (lf.discriminator_double_backward) {
    if (std::string why = lf.discriminator_double_backward(rep.loss); !why.empty())
      check_network(rep.discriminator, why, loss_desc, reg);
  }
  if (lf.generator_double_backward) {
    if (std::string why = lf.generator_double_backward(rep.loss); !why.empty())
      check_network(rep.generator, why, loss_desc, reg);
  }
}

}  // namespace gan
