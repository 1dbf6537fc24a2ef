# The two commands of the README: `make demo` and `make test`. Both create .venv when it is missing,
# install the CPU torch build first (so no CUDA build is pulled), then facezoo with all its extras.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.facezoo-installed

.PHONY: demo test install bench eval clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[all]"
	# insightface asks for the non-headless opencv (needs libGL): take its code alone.
	$(BIN)/pip install -q --no-deps "insightface>=0.7.3" || echo "insightface not installed: its backend tests will skip"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m spaces.app

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

eval: $(STAMP)
	$(BIN)/python -m facezoo.eval all

clean:
	rm -rf $(VENV) build dist *.egg-info
