# make run       — build in release and run the XOR example
# make test      — build and run every test
# make check     — the inner loop: build and run the Swift unit tests (no MPI, no Python, no fuzzing)
# make bench     — benchmarks beside PyTorch, with ratios (tools/bench); the real-size ones at 1 thread and all cores
# make bench-real — only the real-size workloads (ResNet-18, GPT, LSTM LM training; ResNet-18 inference)
# make bench-against REV=…  — the same, plus a build of commit REV in the same rounds
# make fuzz      — coverage-guided fuzzing of every reader (FUZZ_SECONDS each; tools/fuzz)
# make fixtures  — regenerate the PyTorch reference values the tests compare against
# make docs      — the API documentation with DocC into .build/docs (make docs-preview serves it)
# make proto     — regenerate Sources/IO/ONNX/synapse.pb.swift from formats/synapse.proto
# Each first installs what it needs when it is missing: system packages with apt-get,
# Python packages with pip into a virtual environment outside the clone ($(VENV)).

SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libhdf5-dev libssl-dev pkg-config libprotobuf-c-dev protobuf-c-compiler valgrind libopenmpi-dev openmpi-bin iproute2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV ?= $(HOME)/.cache/synapse/venv
PYTHON := $(VENV)/bin/python
# A CPU-only torch wheel shipped on the machine, when there is one: the default wheel from
# the package index pulls several GB of CUDA libraries.
TORCH_WHEEL := $(firstword $(wildcard /opt/wheels/torch-*+cpu-*.whl))

.PHONY: check onnx-schemas op-table onnx-conformance zoo bench-inference bench-layers docs docs-preview mpi-test deps run test bench bench-real bench-against bench-io-debug fixtures fuzz fuzz-build fuzz-smoke fuzz-corpus proto python-env python-test-env plugin-check c-reader c-memcheck

deps:
	@command -v dpkg >/dev/null 2>&1 || { echo "dpkg not found: install $(APT_PACKAGES) yourself"; exit 0; }; \
	missing=""; \
	for package in $(APT_PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

run: deps
	$(SWIFT) run -c release xor

test: deps python-test-env c-reader
	$(MAKE) check
	$(MAKE) mpi-test
	$(PYTHON) -m pytest -q tools/python
	$(MAKE) c-memcheck
	$(MAKE) fuzz-smoke
	$(MAKE) plugin-check

check: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip "DataParallelTests|TwoHostTests"

# Data-parallel training: the synapse tool under mpirun -np 2 (collectives, 2 ranks against one
# process, resume, a killed rank, a shard that ends early) and across two network namespaces.
mpi-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter "DataParallelTests|TwoHostTests"

# The C reader of model files (tools/c): libsynapse_model.a and synapse-inspect-c.
c-reader: deps
	$(MAKE) -C tools/c

# The C reader under AddressSanitizer and Valgrind on good and bad files.
c-memcheck: c-reader
	$(SWIFT) build --product synapse
	rm -rf .build/c-memcheck && mkdir -p .build/c-memcheck
	cd .build/c-memcheck && ../debug/synapse train digits --epochs 1 --checkpoint d.ckpt.h5 > /dev/null \
		&& ../debug/synapse export d.ckpt.h5 -o digits > /dev/null \
		&& ../debug/synapse train xor --epochs 10 --checkpoint x.ckpt.h5 > /dev/null \
		&& ../debug/synapse export x.ckpt.h5 -o xor > /dev/null
	tools/c/memcheck.sh $(CURDIR)/.build/c-memcheck/digits.onnx $(CURDIR)/.build/c-memcheck/xor.onnx

# What the Python tests need (h5py, numpy, pytest, onnx, onnxruntime; torch from a local
# CPU-only wheel when the machine has one, with onnxscript for its default exporter; else the
# torch tests skip and say why), and this
# clone's tools/python package, installed fresh each time (a few seconds).
python-test-env:
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	@$(PYTHON) -c "import h5py, numpy, pytest, onnx, onnxruntime" 2>/dev/null || { \
		echo "Installing h5py, numpy, pytest, onnx and onnxruntime into $(VENV)"; \
		$(PYTHON) -m pip install -q h5py numpy pytest onnx onnxruntime; }
	@$(PYTHON) -c "import hypothesis" 2>/dev/null || { echo "Installing hypothesis into $(VENV)"; $(PYTHON) -m pip install -q hypothesis; }
	@$(PYTHON) -c "import tensorboard" 2>/dev/null || { echo "Installing tensorboard (its reader checks Synapse's event files) into $(VENV)"; $(PYTHON) -m pip install -q tensorboard; }
	@$(PYTHON) -c "import safetensors" 2>/dev/null || { echo "Installing safetensors (Hugging Face's weight files, read and written by Synapse) into $(VENV)"; $(PYTHON) -m pip install -q safetensors; }
	@$(PYTHON) -c "import torch" 2>/dev/null || [ -z "$(TORCH_WHEEL)" ] || { \
		echo "Installing torch from $(TORCH_WHEEL) into $(VENV)"; $(PYTHON) -m pip install -q $(TORCH_WHEEL); }
	@$(PYTHON) -c "import torch" 2>/dev/null && ! $(PYTHON) -c "import onnxscript" 2>/dev/null && { \
		echo "Installing onnxscript (PyTorch's default ONNX exporter needs it) into $(VENV)"; \
		$(PYTHON) -m pip install -q onnxscript; } || true
	@# The real-model tests: transformers beside the CPU torch (it does not require torch, so it
	@# leaves it alone); torchvision and timm without their dependencies (PyPI's torchvision
	@# for torch 2.13 is a CUDA build that would replace the CPU torch; tools/zoo/zoo.py loads it).
	@$(PYTHON) -c "import torch" 2>/dev/null && ! $(PYTHON) -c "import transformers" 2>/dev/null && { \
		echo "Installing transformers into $(VENV)"; $(PYTHON) -m pip install -q transformers; } || true
	@$(PYTHON) -c "import torch" 2>/dev/null && ! { $(PYTHON) -m pip show -q torchvision && $(PYTHON) -m pip show -q timm; } >/dev/null 2>&1 && { \
		echo "Installing torchvision and timm (--no-deps) into $(VENV)"; $(PYTHON) -m pip install -q --no-deps torchvision timm; } || true
	@rm -rf tools/python/build tools/python/*.egg-info
	@$(PYTHON) -m pip install -q --no-build-isolation --no-deps --force-reinstall tools/python

python-env:
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	@$(PYTHON) -c "import torch, numpy" 2>/dev/null || { \
		echo "Installing torch and numpy into $(VENV)"; \
		$(PYTHON) -m pip install -q --upgrade pip && \
		$(PYTHON) -m pip install -q $(or $(TORCH_WHEEL),torch) numpy; }

bench: deps python-env
	$(SWIFT) build -c release --product synapse-bench
	$(PYTHON) tools/bench/run.py $(BENCH_ARGS)

# The workloads of real_size.py (tools/bench/pytorch, from shared/bench) at 1 thread and at
# every core, alternating with PyTorch; BENCH_ARGS=--unset-openblas runs both sides with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed.
bench-real: deps python-env
	$(SWIFT) build -c release --product synapse-bench
	$(PYTHON) tools/bench/run.py $(BENCH_ARGS) resnet18_train gpt_train lstm_lm_train resnet18_infer_b1 resnet18_infer_b64

# Saving and loading files in a debug build (what `swift run` and `swift test` use), beside
# PyTorch: the integrity checks must stay cheap there too.
bench-io-debug: deps python-env
	$(SWIFT) build --product synapse-bench
	$(PYTHON) tools/bench/run.py --synapse .build/debug/synapse-bench file_io

# Coverage-guided fuzzing of every reader (tools/fuzz): four Swift libFuzzer targets built with
# -sanitize=fuzzer,address, the C reader's with clang, the Python reader's with hypothesis.
# `make fuzz FUZZ_SECONDS=600` runs each that long; `make fuzz-smoke` (part of make test)
# replays the committed corpora and regressions and fuzzes each for a few seconds.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz-checkpoint fuzz-model-file fuzz-onnx-graph fuzz-tensor-input
FUZZ_FLAGS := -rss_limit_mb=3000 -malloc_limit_mb=2048 -timeout=30
FUZZ_ENV := SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$(CURDIR)/tools/fuzz/lsan.supp
CLANG ?= $(firstword $(wildcard /opt/swift/usr/bin/clang) clang)

fuzz-build: deps
	$(SWIFT) build --package-path tools/fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
	mkdir -p .build-fuzz/c
	$(CLANG) -g -O1 -fsanitize=fuzzer,address -Itools/c -Itools/c/generated $$(pkg-config --cflags libprotobuf-c hdf5) \
		tools/fuzz/fuzz_c_reader.c tools/c/synapse_model.c tools/c/generated/synapse.pb-c.c \
		$$(pkg-config --libs libprotobuf-c hdf5 libcrypto) -o .build-fuzz/c/fuzz-c-reader

fuzz: fuzz-build python-test-env
	for target in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$target && \
		$(FUZZ_ENV) .build-fuzz/debug/$$target .build-fuzz/corpus/$$target tools/fuzz/corpus/$$target \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_FLAGS) -artifact_prefix=.build-fuzz/$$target- || exit 1; \
	done
	mkdir -p .build-fuzz/corpus/c-reader
	.build-fuzz/c/fuzz-c-reader .build-fuzz/corpus/c-reader tools/fuzz/corpus/fuzz-model-file tools/fuzz/corpus/fuzz-onnx-graph \
		-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_FLAGS) -artifact_prefix=.build-fuzz/c-reader-
	FUZZ_EXAMPLES=$$(( $(FUZZ_SECONDS) * 20 )) $(PYTHON) -m pytest -q tools/python/tests/test_fuzz_reader.py

# libFuzzer writes new inputs into the first folder it is given: always a scratch one under
# .build-fuzz, so the committed seeds stay as make fuzz-corpus wrote them.
fuzz-smoke: fuzz-build
	for target in $(FUZZ_TARGETS); do \
		rm -rf .build-fuzz/smoke/$$target && mkdir -p .build-fuzz/smoke/$$target && \
		$(FUZZ_ENV) .build-fuzz/debug/$$target -runs=0 .build-fuzz/smoke/$$target tools/fuzz/corpus/$$target \
			$$(ls -d tools/fuzz/regressions/$$target 2>/dev/null) $(FUZZ_FLAGS) || exit 1; \
		$(FUZZ_ENV) .build-fuzz/debug/$$target -max_total_time=5 -seed=1 .build-fuzz/smoke/$$target tools/fuzz/corpus/$$target $(FUZZ_FLAGS) \
			-artifact_prefix=.build-fuzz/$$target- > .build-fuzz/$$target.log 2>&1 || { tail -40 .build-fuzz/$$target.log; exit 1; }; \
		echo "$$target: $$(grep -E '^Done' .build-fuzz/$$target.log)"; \
	done
	rm -rf .build-fuzz/smoke/c-reader && mkdir -p .build-fuzz/smoke/c-reader
	.build-fuzz/c/fuzz-c-reader -runs=0 .build-fuzz/smoke/c-reader tools/fuzz/corpus/fuzz-model-file tools/fuzz/regressions/fuzz-c-reader $(FUZZ_FLAGS)
	.build-fuzz/c/fuzz-c-reader -max_total_time=5 -seed=1 .build-fuzz/smoke/c-reader tools/fuzz/corpus/fuzz-model-file $(FUZZ_FLAGS) \
		-artifact_prefix=.build-fuzz/c-reader- > .build-fuzz/c-reader.log 2>&1 || { tail -40 .build-fuzz/c-reader.log; exit 1; }
	echo "fuzz-c-reader: $$(grep -E '^Done' .build-fuzz/c-reader.log)"

# Regenerates the committed seed corpora from files the CLI and PyTorch write.
fuzz-corpus: python-test-env
	$(SWIFT) build --product synapse
	$(PYTHON) tools/fuzz/make_corpus.py .build/debug/synapse

# The same benchmarks with a second Synapse built from commit REV, run in the same rounds:
# `make bench-against REV=HEAD~3` says whether this build got slower than that one.
bench-against: deps python-env
	test -n "$(REV)" || { echo "usage: make bench-against REV=<commit>"; exit 2; }
	rm -rf .build-baseline && git worktree prune && git worktree add --detach .build-baseline $(REV)
	cd .build-baseline && $(SWIFT) build -c release --product synapse-bench
	$(SWIFT) build -c release --product synapse-bench
	$(PYTHON) tools/bench/run.py --baseline .build-baseline/.build/release/synapse-bench $(BENCH_ARGS)
	git worktree remove --force .build-baseline

fixtures: python-env
	$(PYTHON) tools/fixtures/optimizer_fixtures.py
	$(PYTHON) tools/fixtures/cnn_fixtures.py
	$(PYTHON) tools/fixtures/sequence_fixtures.py

# Only to regenerate committed code: needs protoc (apt-get install protobuf-compiler) and
# builds swift-protobuf's generator (Swift) and protoc-c (C). No normal build runs either.
proto:
	command -v protoc-c >/dev/null || $(SUDO) apt-get install -y -qq protobuf-c-compiler
	$(MAKE) -C tools/c generate
	command -v protoc >/dev/null || $(SUDO) apt-get install -y -qq protobuf-compiler
	$(SWIFT) build -c release --product protoc-gen-swift
	mkdir -p Sources/IO/ONNX
	protoc --plugin=protoc-gen-swift=$$($(SWIFT) build -c release --show-bin-path)/protoc-gen-swift \
		--swift_out=Sources/IO/ONNX --swift_opt=Visibility=Public -I formats formats/synapse.proto

# The plugins from a user's package: Examples/UserPackage depends on Synapse by path, trains
# XOR, then `swift package export-model` / `import-model` write model files there.
plugin-check: deps python-test-env
	cd Examples/UserPackage && $(SWIFT) run TrainXOR
	cd Examples/UserPackage && $(SWIFT) run CustomModel
	cd Examples/UserPackage && $(SWIFT) run CustomFunctions
	cd Examples/UserPackage && $(SWIFT) run ConcurrentInference
	$(PYTHON) -c "import onnxruntime as o, numpy as n; \
		s = o.InferenceSession('Examples/UserPackage/adversarial.onnx'); \
		print('onnxruntime on adversarial.onnx (GradientReversal as Identity):', s.run(None, {'input': n.ones((1, 3), n.float32)})[0].ravel())"
	cd Examples/UserPackage && $(SWIFT) package --allow-writing-to-package-directory export-model custom.ckpt.h5 -o custom
	$(PYTHON) -c "import onnxruntime as o, numpy as n; \
		s = o.InferenceSession('Examples/UserPackage/custom.onnx'); \
		print('onnxruntime on custom.onnx:', s.run(None, {'input': n.array([[1, 0, -1], [0, 1, 1]], n.float32)})[0].ravel(), '(targets 2, -1)')"
	cd Examples/UserPackage && $(SWIFT) package --allow-writing-to-package-directory export-model xor.ckpt.h5 -o xor
	cd Examples/UserPackage && $(SWIFT) package --allow-writing-to-package-directory import-model xor.onnx -o xor_copy
	$(PYTHON) -c "import onnxruntime as o, numpy as n; \
		s = o.InferenceSession('Examples/UserPackage/xor_copy.onnx'); \
		print('onnxruntime on xor_copy.onnx:', s.run(None, {'input': n.array([[0,0],[0,1],[1,0],[1,1]], n.float32)})[0].ravel())"

# The library's modules and the Synapse catalog (articles, the tutorial) as one DocC archive;
# DocC warnings (a broken link, a bad directive) fail the build. The tutorial's code is
# type-checked against the built modules so that it cannot drift from the API.
DOC_TARGETS := --target Core --target NN --target Optim --target Data --target IO --target Training --target Distributed --target Synapse
docs: deps
	$(SWIFT) build --target Synapse
	@for file in Sources/Synapse/Synapse.docc/Resources/*.swift; do \
		swiftc -typecheck -I .build/debug/Modules -Xcc -fmodule-map-file=.build/debug/CBLAS.build/module.modulemap \
			-Xcc -fmodule-map-file=Sources/CHDF5/module.modulemap -Xcc -fmodule-map-file=Sources/CCrypto/module.modulemap \
			$$(pkg-config --cflags-only-I hdf5 | sed 's/-I/-Xcc -I/g') $$file || exit 1; \
	done
	$(SWIFT) package --disable-sandbox generate-documentation $(DOC_TARGETS) --enable-experimental-combined-documentation \
		--warnings-as-errors --output-path .build/docs --transform-for-static-hosting
	@echo "Documentation in .build/docs (make docs-preview, or any static web server)"

docs-preview: docs
	cd .build/docs && python3 -m http.server 8080

# ONNX's schemas of the operators Synapse declares importers for (Sources/Core/Import/ONNXSchemas.swift),
# from the onnx package; then formats/FORMAT.md's table of supported operators from the declarations.
onnx-schemas: python-test-env
	$(PYTHON) tools/onnx/generate_schemas.py
	$(MAKE) op-table

op-table: deps
	$(SWIFT) build --product synapse
	.build/debug/synapse _op-table --update formats/FORMAT.md

# ONNX's own backend node tests for every operator Synapse declares (tools/onnx/conformance.py):
# per-operator pass counts and the total, in release.
zoo: deps python-test-env
	$(SWIFT) build -c release --product synapse
	$(PYTHON) tools/zoo/zoo.py --synapse .build/release/synapse --size 224

# synapse benchmark beside onnxruntime on the zoo's models (exported with the dynamo exporter),
# at batch 1 and 8, 1 thread and every core; BENCH_ARGS="--size 64 --only resnet18" shortens it.
bench-inference: deps python-test-env
	$(SWIFT) build -c release --product synapse
	$(PYTHON) tools/bench/inference.py --synapse .build/release/synapse $(BENCH_ARGS)

# Single convolution layers (MobileNet's and EfficientNet's depthwise and pointwise shapes) beside
# onnxruntime, one thread; BENCH_ARGS="--threads 1,2 --only dw14s2,pw112" picks others.
bench-layers: deps python-test-env
	$(SWIFT) build -c release --product synapse
	$(PYTHON) tools/bench/layers.py --synapse .build/release/synapse $(BENCH_ARGS)

onnx-conformance: deps python-test-env
	$(SWIFT) build -c release --product synapse
	$(PYTHON) tools/onnx/conformance.py --synapse .build/release/synapse
