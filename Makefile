# make run       — build in release and run the XOR example
# make test      — build and run every test
# make bench     — benchmarks beside PyTorch, with ratios (tools/bench)
# make bench-against REV=…  — the same, plus a build of commit REV in the same rounds
# make fixtures  — regenerate the PyTorch reference values the tests compare against
# make proto     — regenerate Sources/IO/ONNX/synapse.pb.swift from formats/synapse.proto
# Each first installs what it needs when it is missing: system packages with apt-get,
# Python packages with pip into a virtual environment outside the clone ($(VENV)).

SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libhdf5-dev libssl-dev pkg-config libprotobuf-c-dev protobuf-c-compiler valgrind
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV ?= $(HOME)/.cache/synapse/venv
PYTHON := $(VENV)/bin/python
# A CPU-only torch wheel shipped on the machine, when there is one: the default wheel from
# the package index pulls several GB of CUDA libraries.
TORCH_WHEEL := $(firstword $(wildcard /opt/wheels/torch-*+cpu-*.whl))

.PHONY: deps run test bench bench-against bench-io-debug fixtures proto python-env python-test-env plugin-check c-reader c-memcheck

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
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(PYTHON) -m pytest -q tools/python
	$(MAKE) c-memcheck
	$(MAKE) plugin-check

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
	@$(PYTHON) -c "import torch" 2>/dev/null || [ -z "$(TORCH_WHEEL)" ] || { \
		echo "Installing torch from $(TORCH_WHEEL) into $(VENV)"; $(PYTHON) -m pip install -q $(TORCH_WHEEL); }
	@$(PYTHON) -c "import torch" 2>/dev/null && ! $(PYTHON) -c "import onnxscript" 2>/dev/null && { \
		echo "Installing onnxscript (PyTorch's default ONNX exporter needs it) into $(VENV)"; \
		$(PYTHON) -m pip install -q onnxscript; } || true
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

# Saving and loading files in a debug build (what `swift run` and `swift test` use), beside
# PyTorch: the integrity checks must stay cheap there too.
bench-io-debug: deps python-env
	$(SWIFT) build --product synapse-bench
	$(PYTHON) tools/bench/run.py --synapse .build/debug/synapse-bench file_io

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
	cd Examples/UserPackage && $(SWIFT) package --allow-writing-to-package-directory export-model custom.ckpt.h5 -o custom
	$(PYTHON) -c "import onnxruntime as o, numpy as n; \
		s = o.InferenceSession('Examples/UserPackage/custom.onnx'); \
		print('onnxruntime on custom.onnx:', s.run(None, {'input': n.array([[1, 0, -1], [0, 1, 1]], n.float32)})[0].ravel(), '(targets 2, -1)')"
	cd Examples/UserPackage && $(SWIFT) package --allow-writing-to-package-directory export-model xor.ckpt.h5 -o xor
	cd Examples/UserPackage && $(SWIFT) package --allow-writing-to-package-directory import-model xor.onnx -o xor_copy
	$(PYTHON) -c "import onnxruntime as o, numpy as n; \
		s = o.InferenceSession('Examples/UserPackage/xor_copy.onnx'); \
		print('onnxruntime on xor_copy.onnx:', s.run(None, {'input': n.array([[0,0],[0,1],[1,0],[1,1]], n.float32)})[0].ravel())"
