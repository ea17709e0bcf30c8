# khsyt: one command to set up and run the main job, one to set up and run the tests.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
export DAGSTER_HOME := $(CURDIR)
export PYTHONPATH := $(CURDIR)
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie tesseract-ocr-script-viet npm chromium poppler-utils

.PHONY: setup system-deps run test fuzz ui eval bench lint clean golden

# System packages (Tesseract with its Vietnamese models, npm to fetch the default OCR model,
# Chromium for the UI test) and the default OCR model vie_best_int; skipped when present.
# npm is needed only when the model is missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  if [ $$p = npm ] && command -v npm >/dev/null; then continue; fi; \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@tools/install_ocr_model.sh

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

# The reliability suite at full strength: 2,000 random fuzz examples per parser entry point
# (make test runs 60, derandomised) and every kill point of every publication scenario.
fuzz: setup
	KHSYT_FUZZ_EXAMPLES=2000 KHSYT_FUZZ_PLAN_EXAMPLES=2000 KHSYT_FUZZ_RANDOM=1 KHSYT_KILL_EVERY=1 $(PY) -m pytest -q -s tests/reliability

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

# OCR speed/quality next to plain tesseract on the same pages in one run; updates bench/RESULTS.md
bench: setup
	OMP_THREAD_LIMIT=1 $(PY) bench/bench_ocr.py --pages 12 --results bench/RESULTS.md

lint: setup
	.venv/bin/ruff check .

clean:
	rm -rf out .dagster_home data/curated/*/ .cache
