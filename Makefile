# make run  — build in release and run the XOR example
# make test — build and run every test
# Each first installs the system packages it needs when they are missing (Debian/Ubuntu).

SWIFT ?= swift
APT_PACKAGES := libopenblas-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps run test

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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
