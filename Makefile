# sdj — the front door. `make test` is what CI runs (see .ci/run and README.md).
SHELL := /bin/bash
JAVA_HOME := $(shell native/find-jdk.sh)
export JAVA_HOME
MVN := mvn -B -q -e
BINDINGS_DIR := target/generated-sources/ggml
# CUDA=1 adds Debian's CUDA backend to the runtime; UPDATE_LOCK=1 re-resolves and re-pins the packages
RUNTIME_FLAGS := $(if $(CUDA),--cuda) $(if $(UPDATE_LOCK),--update-lock)

.PHONY: runtime bindings build test test-slow parity bench run clean help

help:
	@echo "make runtime   provision ggml (CPU + Vulkan/lavapipe) into native/prefix from Debian packages"
	@echo "make bindings  generate the FFM bindings from ggml's headers (JEXTRACT=/path/to/jextract to use jextract)"
	@echo "make build     compile sdj and write the bin/sdj launcher"
	@echo "make test      the fast test suite (CPU and Vulkan)"
	@echo "make test-slow the full-size checks (SD1.5 layout, golden parity)"
	@echo "make bench     benchmarks (bench/)"
	@echo "make run       generate an image end to end with the deterministic SD1.5 stand-in"

runtime:
	@bash native/provision.sh $(RUNTIME_FLAGS)

bindings: runtime
	@bash bindings/generate.sh $(BINDINGS_DIR)

build: bindings
	$(MVN) package -DskipTests
	@bash native/write-launcher.sh

test: bindings
	$(MVN) test

test-slow: bindings
	$(MVN) test -Dsdj.test.excludedGroups= -Dsdj.test.groups=slow

clean:
	rm -rf target bin bench/target
