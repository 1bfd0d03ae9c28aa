# sdj — the front door. `make test` is what CI runs (see .ci/run and README.md).
SHELL := /bin/bash
JAVA_HOME := $(shell native/find-jdk.sh)
export JAVA_HOME
MVN := mvn -B -q -e
BINDINGS_DIR := target/generated-sources/ggml
BINDINGS_RESOURCES := target/generated-resources/ggml
# CUDA=1 adds Debian's CUDA backend to the runtime; UPDATE_LOCK=1 re-resolves and re-pins the packages
RUNTIME_FLAGS := $(if $(CUDA),--cuda) $(if $(UPDATE_LOCK),--update-lock)
# The runtime prefix (runtime.env and the libraries). Every script and launcher reads it through SDJ_PREFIX.
PREFIX ?= native/prefix
export SDJ_PREFIX := $(abspath $(PREFIX))
PROVISION ?= bash native/provision.sh
# the prefix's mode, read when a recipe runs (so 'make native bindings build test' sees the fresh build)
RUNTIME_MODE = $$(sed -n 's/^mode=//p' $(PREFIX)/runtime.env 2>/dev/null)

.PHONY: device-bundle bench-suite runtime bindings build install test test-example test-slow test-extended model run bench bench-jmh native clean help

help:
	@echo "make runtime   provision ggml (CPU + Vulkan/lavapipe) into native/prefix from Debian packages"
	@echo "make bindings  generate the FFM bindings from ggml's headers (JEXTRACT=/path/to/jextract to use jextract)"
	@echo "make build     compile sdj and write the bin/sdj launcher"
	@echo "make install   publish io.sdj:sdj to the local Maven repository (~/.m2)"
	@echo "make test      the fast test suite (CPU and Vulkan), then the example app (make test-example)"
	@echo "make test-slow the full-size checks (SD1.5 layout, golden parity)"
	@echo "make bench     benchmarks (bench/)"
	@echo "make run       generate an image end to end with sdj's own small stand-in model (random weights)"
	@echo "make model     write the full-size SD1.5 stand-in from ../shared (for the benchmarks)"
	@echo "make device-bundle  pack what the GPU check (bench/device/gpu-bench.sh) needs on a borrowed device"

# mode=built: 'make native' installed your own ggml there; it is used as it is and never re-provisioned
runtime:
	@if [ "$(RUNTIME_MODE)" = built ]; then \
	  echo "[runtime] $(PREFIX) holds your own ggml build (mode=built, from 'make native'): using it as it is, not provisioning. Remove $(PREFIX) to go back to Debian's packages."; \
	else $(PROVISION) $(RUNTIME_FLAGS); fi

bindings: runtime
	@bash bindings/generate.sh $(BINDINGS_DIR) $(BINDINGS_RESOURCES)

build: bindings
	$(MVN) package -DskipTests
	@bash native/write-launcher.sh

install: bindings
	$(MVN) install -DskipTests

# the fast suite; 'install' runs it and publishes the artifact the example app then depends on
test: bindings
	$(MVN) install
	@bash examples/run.sh

# examples/generate-image built against the installed artifact and run from a temporary folder outside the checkout
test-example: install
	@bash examples/run.sh

test-slow: bindings
	$(MVN) test -Dsdj.test.excludedGroups=none -Dsdj.test.groups=slow -Dsdj.test.reportsDirectory=$(CURDIR)/target/surefire-reports-slow

# Long measurements and the 30,000-case fuzz run: not part of CI (timings are noisy on shared machines)
test-extended: bindings
	$(MVN) test -Dsdj.test.excludedGroups=none -Dsdj.test.groups=extended -Dsdj.test.reportsDirectory=$(CURDIR)/target/surefire-reports-extended

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

# The speed issue's rows (SD 1.5 256² and 512², q4_0 GGUF, SD 2.1, SDXL 1024²); ROWS, REPS, COMPARE: see bench/suite.sh
bench-suite: build model
	@bash bench/suite.sh

# The carry bundle for the GPU check on a borrowed device (bench/device/gpu-bench.sh; see bench/README.md)
device-bundle: build
	@SDJ_SHARED=$(SHARED) bash bench/device/bundle.sh

# Build ggml from your own checkout: make native GGML_SOURCE_DIR=/path/to/ggml [GGML_CMAKE_FLAGS="-DGGML_CUDA=ON"]
# (CPU backend with all CPU variants as plugins; add -DGGML_VULKAN=ON and/or -DGGML_CUDA=ON). Installs into $(PREFIX)
# with runtime.env mode=built; then 'make bindings build test' use it with the host's libclang.
NATIVE_BUILD ?= native/build
native:
	@test -n "$(GGML_SOURCE_DIR)" || { echo "make native: set GGML_SOURCE_DIR to a ggml source checkout (git clone https://github.com/ggml-org/ggml)" >&2; exit 2; }
	@mode="$(RUNTIME_MODE)"; if [ -n "$$mode" ] && [ "$$mode" != built ]; then \
	  rm -rf $(PREFIX).previous && mv $(PREFIX) $(PREFIX).previous && \
	  echo "[native] moved the existing mode=$$mode runtime aside to $(PREFIX).previous"; fi
	cmake -S native -B $(NATIVE_BUILD) -DGGML_SOURCE_DIR=$(abspath $(GGML_SOURCE_DIR)) -DSDJ_PREFIX=$(SDJ_PREFIX) $(GGML_CMAKE_FLAGS)
	cmake --build $(NATIVE_BUILD) -j $$(nproc)
	cmake --install $(NATIVE_BUILD)
	@echo "[native] ggml installed into $(PREFIX) (mode=built). Next: make bindings build test"

clean:
	rm -rf target bin bench/target
