# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench evaluate clean bytecode

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 2; }
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU build, so nothing later pulls a multi-GB CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	$(MAKE) --no-print-directory bytecode
	touch $(STAMP)

# Commands start from bytecode, as from a regular install: an editable install where
# PYTHONDONTWRITEBYTECODE is set would compile every module of monitor/ at each start.
bytecode:
	$(BIN)/python -m compileall -q monitor

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/monitor demo --output monitor-demo

# On every core: each test has its own ports, folders and PostgreSQL database; a module runs
# on one worker, and the modules that share a costly start (tests/conftest.py) share one.
test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n auto --dist loadscope --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check monitor tests scripts
	$(BIN)/mypy monitor

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench.py

evaluate: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/evaluate.py scripts/data/overlap_pairs.csv

clean:
	rm -rf $(VENV) monitor-demo
