# khsyt: one command to set up and run the main job, one to set up and run the tests.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
export DAGSTER_HOME := $(CURDIR)
export PYTHONPATH := $(CURDIR)
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie chromium poppler-utils

.PHONY: setup system-deps run test ui eval bench lint clean golden

# System packages (Tesseract with Vietnamese, Chromium for the UI test); skipped when present.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

.venv/.installed: pyproject.toml
	python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $@

setup: system-deps .venv/.installed

# The main job: every plan file in data/raw → data/curated, through Dagster (local SQLite instance).
run: setup
	$(PY) -m pipeline.ingest --raw data/raw --curated data/curated

test: setup
	$(PY) -m pytest -q

# The Dagster UI with the sensor and daily schedule on: http://127.0.0.1:3000
ui: setup
	.venv/bin/dagster dev -m pipeline.definitions -h 127.0.0.1 -p 3000

# Score each input kind in its own output folder against the gold annotations
# (KINDS=digital,txt,legacy,docx,scan300,scan200 for all; scans take minutes).
KINDS ?= digital,txt,legacy,docx
eval: setup
	$(PY) tools/eval_kinds.py --kinds $(KINDS)

# Rewrite tests/golden/*.json from the current output (review `git diff tests/golden` after).
golden: setup
	KHSYT_UPDATE_GOLDEN=1 $(PY) -m pytest -q tests/test_golden.py

bench: setup
	$(PY) bench/bench_ocr.py --pages 12

lint: setup
	.venv/bin/ruff check .

clean:
	rm -rf out .dagster_home data/curated/*/ .cache
