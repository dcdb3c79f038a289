// Factories that misbehave when gan calls them, one type of every kind per way of failing:
//   null_layer / null_dataset / null_loss / null_metric       create returns null
//   throw_layer / throw_dataset / throw_loss / throw_metric   create throws std::runtime_error
//   throw_int_layer                                           create throws an int
// Registration itself is fine. gan must turn each into a gan::Error naming the type and this
// library (exit 1), never a crash (today a null dataset segfaults `gan train`).
#include <memory>
#include <stdexcept>

#include "gan/dataset.hpp"
#include "gan/loss.hpp"  // LibTorch: a null unique_ptr<Loss> still needs the complete type
#include "gan/metric.hpp"
#include "gan/plugin.hpp"

namespace {
gan::LayerFactory layer(const char* type, int how) {
  gan::LayerFactory f;
  f.type = type;
  f.doc = "A broken layer (test only).";
  f.infer = [](const gan::LayerContext& c) { return gan::LayerInfo{c.input, 0, 0}; };
  f.create = [how](const gan::LayerContext&) -> std::shared_ptr<gan::Layer> {
    if (how == 1) throw std::runtime_error("bad_factories: layer create failed on purpose");
    if (how == 2) throw 42;
    return nullptr;
  };
  return f;
}
gan::LayerFactory null_layer() { return layer("null_layer", 0); }
gan::LayerFactory throw_layer() { return layer("throw_layer", 1); }
gan::LayerFactory throw_int_layer() { return layer("throw_int_layer", 2); }

template <class F, class R>
F factory(const char* type, bool throws) {
  F f;
  f.type = type;
  f.doc = "A broken component (test only).";
  f.create = [throws, type](const auto&) -> R {
    if (throws) throw std::runtime_error(std::string("bad_factories: ") + type + " create failed on purpose");
    return R();
  };
  return f;
}
using DatasetPtr = std::unique_ptr<gan::Dataset>;
using LossPtr = std::unique_ptr<gan::Loss>;
using MetricPtr = std::unique_ptr<gan::Metric>;
gan::DatasetFactory null_dataset() { return factory<gan::DatasetFactory, DatasetPtr>("null_dataset", false); }
gan::DatasetFactory throw_dataset() { return factory<gan::DatasetFactory, DatasetPtr>("throw_dataset", true); }
gan::LossFactory null_loss() { return factory<gan::LossFactory, LossPtr>("null_loss", false); }
gan::LossFactory throw_loss() { return factory<gan::LossFactory, LossPtr>("throw_loss", true); }
gan::MetricFactory null_metric() { return factory<gan::MetricFactory, MetricPtr>("null_metric", false); }
gan::MetricFactory throw_metric() { return factory<gan::MetricFactory, MetricPtr>("throw_metric", true); }
}  // namespace

GAN_REGISTER_LAYER(null_layer)
GAN_REGISTER_LAYER(throw_layer)
GAN_REGISTER_LAYER(throw_int_layer)
GAN_REGISTER_DATASET(null_dataset)
GAN_REGISTER_DATASET(throw_dataset)
GAN_REGISTER_LOSS(null_loss)
GAN_REGISTER_LOSS(throw_loss)
GAN_REGISTER_METRIC(null_metric)
GAN_REGISTER_METRIC(throw_metric)
GAN_PLUGIN("bad_factories_test", "0.0.1")
