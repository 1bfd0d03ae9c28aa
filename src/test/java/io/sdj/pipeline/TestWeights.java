package io.sdj.pipeline;

import io.sdj.family.WeightTypePolicy;
import io.sdj.model.Component;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.TensorSource;
import io.sdj.runtime.Backend;
import io.sdj.runtime.WeightStore;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Test support: the weights of some components of a configured file, in the file's types. */
final class TestWeights {
    private TestWeights() {
    }

    static WeightStore load(TensorSource f, ModelConfig config, Backend backend, Component... components) {
        Set<String> names = new LinkedHashSet<>();
        for (Component c : components) {
            names.addAll(LdmLayout.expectedTensors(c, config).keySet());
        }
        return WeightLoader.load(f, names, List.of(components), backend, new WeightTypePolicy(null), "test",
                (n, t) -> {
                });
    }
}
