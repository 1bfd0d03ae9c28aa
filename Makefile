# sdj — the front door. `make test` is what CI runs (see .ci/run and README.md).
SHELL := /bin/bash
JAVA_HOME := $(shell native/find-jdk.sh)
export JAVA_HOME
MVN := mvn -B -q -e
BINDINGS_DIR := target/generated-sources/ggml
# CUDA=1 adds Debian's CUDA backend to the runtime; UPDATE_LOCK=1 re-resolves and re-pins the packages
RUNTIME_FLAGS := $(if $(CUDA),--cuda) $(if $(UPDATE_LOCK),--update-lock)

.PHONY: runtime bindings build test test-slow model run bench bench-jmh native clean help

help:
	@echo "make runtime   provision ggml (CPU + Vulkan/lavapipe) into native/prefix from Debian packages"
	@echo "make bindings  generate the FFM bindings from ggml's headers (JEXTRACT=/path/to/jextract to use jextract)"
	@echo "make build     compile sdj and write the bin/sdj launcher"
	@echo "make test      the fast test suite (CPU and Vulkan)"
	@echo "make test-slow the full-size checks (SD1.5 layout, golden parity)"
	@echo "make bench     benchmarks (bench/)"
	@echo "make run       generate an image end to end with sdj's own small stand-in model (random weights)"
	@echo "make model     write the full-size SD1.5 stand-in from ../shared (for the benchmarks)"

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
	$(MVN) test -Dsdj.test.excludedGroups=none -Dsdj.test.groups=slow -Dsdj.test.reportsDirectory=$(CURDIR)/target/surefire-reports-slow

# The deterministic SD 1.5 stand-in checkpoint (real weights cannot be downloaded here): same layout as the real
# file, pseudo-random values, checked against the published SHA-256.
MODEL := models/cache/sd15_random_seed1.safetensors
SHARED := $(abspath ../shared)
model: $(MODEL)
$(MODEL):
	@mkdir -p models/cache
	@echo "writing the deterministic SD1.5 stand-in checkpoint (2.1 GB) to $@"
	"$(JAVA_HOME)/bin/java" $(SHARED)/golden/RandomSd15.java $@.tmp 1 && mv $@.tmp $@
	@echo "$$(sha256sum $@ | cut -d' ' -f1)  (expected 0396b50d0ed8816accd01fc590cdbb679dad9638f588148dcffca63fe7de1041)"

# `make run` needs nothing outside the checkout: sdj writes its own small stand-in (SD 1.x layout, random weights)
# and a tokenizer sized for it (io.sdj.cli.StandIn), then generates with it.
STANDIN_DIR := models/cache/stand-in
RUN_ARGS ?= -p "a lovely cat" -W 256 -H 256 --steps 8 -s 42
run: build
	@mkdir -p out
	"$(JAVA_HOME)/bin/java" -cp "target/classes:$$(cat target/runtime-classpath.txt)" io.sdj.cli.StandIn $(STANDIN_DIR)
	bin/sdj -m $(STANDIN_DIR)/sd15-stand-in.safetensors $(RUN_ARGS) -o out/sdj.png
	@echo "out/sdj.png comes from the stand-in, whose weights are random: it is a texture, not a picture of the prompt"

bench: build model
	@bash bench/run.sh

bench-jmh: build
	@bash bench/run.sh --jmh

# Build ggml from your own checkout: make native GGML_SOURCE_DIR=/path/to/ggml GGML_CMAKE_FLAGS="-DGGML_CUDA=ON"
native:
	cmake -S native -B native/build -DGGML_SOURCE_DIR=$(GGML_SOURCE_DIR) $(GGML_CMAKE_FLAGS)
	cmake --build native/build -j
	cmake --install native/build

clean:
	rm -rf target bin bench/target
