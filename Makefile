# perfapp — the two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
FLASK := $(BIN)/flask --app app
# What the app needs at run time (ffprobe/ffmpeg check voice notes), and what the tests add.
RUN_APT_PACKAGES := ffmpeg
APT_PACKAGES := $(RUN_APT_PACKAGES) chromium fonts-noto-cjk fonts-noto-color-emoji wrk

.PHONY: run test runtime-deps install install-dev system-deps npm-deps compile serve worker lint vendor bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"

# Debian packages the tests need (a real browser, CJK/emoji fonts for screenshots, ffmpeg, wrk);
# `make runtime-deps` installs only what the app itself needs.
runtime-deps: APT_PACKAGES := $(RUN_APT_PACKAGES)
runtime-deps: system-deps

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

npm-deps:
	npm ci --no-audit --no-fund --loglevel=error

compile:
	$(FLASK) translate compile >/dev/null

# Installs, migrates, seeds a demo organisation into an empty database, serves on 127.0.0.1:$(PORT)
# with the background job consumer alongside.
run: runtime-deps install compile
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(BIN)/python -m whitenoise.compress -q static >/dev/null
	@# The job consumer (push delivery, nudges) runs beside gunicorn and stops when it exits.
	@# -m 2: an idle SQLite queue is polled at least every 2 s, so a push never waits long.
	$(BIN)/huey_consumer perfapp.tasks.huey -w 2 -k thread -m 2 -q & consumer=$$!; \
	trap 'kill $$consumer 2>/dev/null; wait $$consumer 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) app:app

# Installs everything (Debian packages, Python dev deps, npm dev packages) and runs the whole suite.
# The lint first (seconds): a type error or lint failure stops the run before the long suite.
test: system-deps install-dev npm-deps compile lint
	$(BIN)/python -m pytest -q

# ruff over everything, then mypy over perfapp/ (configured in pyproject.toml).
lint:
	$(BIN)/ruff check .
	$(BIN)/mypy

WORKBOX_MODULES := core routing strategies precaching expiration cacheable-response \
  navigation-preload background-sync

# Refresh vendored front-end files from the pinned npm packages (committed; not needed to run).
vendor: npm-deps
	mkdir -p static/vendor/htmx
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE static/vendor/htmx/
	$(BIN)/python tools/build_sprite.py
	@# Workbox: only the production modules the service worker loads, in a folder named by version.
	@tmp=$$(mktemp -d) && npx --no-install workbox-cli copyLibraries $$tmp/ >/dev/null && \
	src=$$(ls -d $$tmp/workbox-v*) && dest=static/vendor/$$(basename $$src) && \
	rm -rf static/vendor/workbox-v* && mkdir -p $$dest && \
	cp $$src/workbox-sw.js $(foreach m,$(WORKBOX_MODULES),$$src/workbox-$(m).prod.js) $$dest/ && \
	sed -i '/^\/\/# sourceMappingURL=/d' $$dest/*.js && \
	cp node_modules/workbox-sw/LICENSE $$dest/ && rm -rf $$tmp && echo "vendored $$dest"

# Benchmarks print figures (not tests): wrk on logged-in pages, then bytes over the wire in Chromium.
# Uses DATABASE_URL when set, else bench/out/load.db (seed-load'ed on first run: about a minute).
bench: install-dev compile
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.size

clean:
	rm -rf $(VENV) node_modules instance
