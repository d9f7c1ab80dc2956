# Two commands for a new user: `make demo` (install, then run the agent on the demo competition)
# and `make test` (install, then run the test suite). Both create .venv on first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
BUDGET ?= 120

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# dev: tests, LLM providers, ray; text: torch and sentence embeddings; constraints.txt pins the CPU torch
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,text]'
	touch $@

demo: install
	$(BIN)/agent compete data/demo/titanic --time-budget $(BUDGET) --no-submit

test: install
	# A worker per core, a file's tests on one: the end-to-end tests spend much of their time waiting on child processes.
	$(BIN)/python -m pytest -q -n auto --dist loadfile

bench: install
	$(BIN)/python benchmarks/run_practice.py

clean:
	rm -rf $(VENV) .pytest_cache
