package io.sdj.nn;

import io.sdj.runtime.Tensor;
import io.sdj.runtime.WeightStore;

/** A named sub-tree of a model's weights: {@code scope.sub("in_layers").get("0.weight")}. */
public record Scope(WeightStore store, String prefix) {

    /** The root scope of a store under a name prefix (ending in '.', or empty). */
    public static Scope of(WeightStore store, String prefix) {
        return new Scope(store, prefix);
    }

    public Tensor get(String name) {
        return store.get(prefix + name);
    }

    public boolean has(String name) {
        return store.tensors().containsKey(prefix + name);
    }

    public Scope sub(String name) {
        return new Scope(store, prefix + name + ".");
    }

    public Scope sub(int index) {
        return sub(Integer.toString(index));
    }
}
