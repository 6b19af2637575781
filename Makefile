# SPDX-License-Identifier: GPL-3.0-or-later
# gr-lmsscc: `make demo` runs the main job, `make test` runs every test
# (ctest: the C++ tests and the Python suite).
# Each first does its own idempotent set-up: Debian packages, the venv, the
# C++ build and the install into a prefix inside the venv.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PREFIX := $(abspath $(VENV))/gr
BUILD := build
SITE := $(VENV)/lib/python3.11/site-packages
STAMP := $(VENV)/.stamps

APT_PACKAGES := gnuradio-dev gnuradio cmake g++ make pkg-config pybind11-dev \
	python3-pybind11 libspdlog-dev libgmp-dev python3-numpy python3-zmq castxml \
	python3-pygccxml python3-venv xz-utils zstd brotli gzip clang-14 libclang-rt-14-dev libjxl-tools webp
# GNU Radio Companion's GUI needs GTK introspection (Recommends of the
# gnuradio package, skipped by --no-install-recommends); the tests open it
# headless under Xvfb.
GUI_PACKAGES := gir1.2-gtk-3.0 python3-gi python3-gi-cairo python3-cairo
# The known-answer ctest also runs an aarch64 build of the engine under qemu.
CROSS_PACKAGES := g++-aarch64-linux-gnu qemu-user-static
TEST_PACKAGES := xvfb $(GUI_PACKAGES) $(CROSS_PACKAGES)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GRC_BLOCKS := $(PREFIX)/share/gnuradio/grc/blocks

.PHONY: demo test install build apt venv data clean ctest pytest grc grc-screenshot

demo: install
	$(PY) apps/demo.py

# apt-test first: the configure step then finds the aarch64 cross compiler
# and qemu; the build is re-configured in case an earlier `make demo`
# configured it before they were installed.
test: $(STAMP)/apt-test install data
	flock $(BUILD).lock bash -c 'cmake $(BUILD) > /dev/null && cmake --build $(BUILD) -j2 > /dev/null'
	cd $(BUILD) && ctest --output-on-failure

# The Companion with this module's interpreter (torch, transformers) and blocks.
grc: install $(STAMP)/apt-gui
	GRC_BLOCKS_PATH=$(GRC_BLOCKS) $(PY) /usr/bin/gnuradio-companion $(FLOWGRAPH)

# Re-takes docs/grc_loopback.png (the headless Companion test, screenshot kept).
grc-screenshot: install $(STAMP)/apt-test
	LMSSCC_SCREENSHOT=docs/grc_loopback.png $(PY) -m pytest -q tests/test_grc_gui.py -k companion

install: $(STAMP)/install
build: $(STAMP)/install
venv: $(STAMP)/venv
apt: $(STAMP)/apt

# $(call apt_install,PACKAGES): installs those not installed yet, no Recommends.
define apt_install
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@mkdir -p $(STAMP) && touch $@
endef

$(STAMP)/apt:
	$(call apt_install,$(APT_PACKAGES))

$(STAMP)/apt-gui: $(STAMP)/apt
	$(call apt_install,$(GUI_PACKAGES))

$(STAMP)/apt-test: $(STAMP)/apt
	$(call apt_install,$(TEST_PACKAGES))

$(STAMP)/venv: $(STAMP)/apt requirements.txt requirements-nodeps.txt
	[ -x $(PY) ] || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	@mkdir -p $(STAMP) && touch $@

# Rebuilt when any C++/CMake/Python/GRC source or app changes; cmake itself only
# recompiles what changed.
SOURCES := $(shell find CMakeLists.txt tests/CMakeLists.txt lib include python grc apps -type f \
	-not -path '*/__pycache__/*' 2>/dev/null)

# flock: two builds in one tree at once (several shells) would corrupt it.
$(STAMP)/install: $(STAMP)/venv $(SOURCES)
	flock $(BUILD).lock bash -c 'set -e; \
		cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
			-DPYTHON_EXECUTABLE=$(abspath $(PY)) -DLMSSCC_PYTHON=$(abspath $(PY)) \
			> $(BUILD).cmake.log || (cat $(BUILD).cmake.log; false); \
		cmake --build $(BUILD) -j2; \
		cmake --install $(BUILD) > /dev/null'
	echo "$(PREFIX)/lib/python3.11/site-packages" > $(SITE)/gr-lmsscc.pth
	@touch $@

# Offline test corpora for the benchmarks (Canterbury corpus, gensim's news).
data: $(STAMP)/venv
	$(PY) bench/fetch_corpora.py

clean:
	rm -rf $(BUILD) $(BUILD).cmake.log $(PREFIX) $(STAMP)/install $(SITE)/gr-lmsscc.pth
