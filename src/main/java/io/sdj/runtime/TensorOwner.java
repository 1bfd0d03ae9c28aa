package io.sdj.runtime;

/** Something that owns ggml tensors: a graph under construction or a weight store. */
interface TensorOwner {
    /** True until the owner is closed; a tensor must not be used after that. */
    boolean isOpen();

    /** For error messages: what the owner is. */
    String describe();
}
