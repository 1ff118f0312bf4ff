PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test run bench migration clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	# bytecode now: where PYTHONDONTWRITEBYTECODE is set, every start would compile the sources again
	$(BIN)/python -m compileall -q bot watchers > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vendorwatch demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

run: $(STAMP)
	$(BIN)/vendorwatch run

bench: $(STAMP)
	$(BIN)/python -m benchmarks

migration: $(STAMP)
	$(BIN)/python -m watchers.storage.regen_migration

clean:
	rm -rf $(VENV) build dist *.egg-info
