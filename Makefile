# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Python 3.12 (Mesa 3.5 needs >= 3.12): a working python3.12 on PATH, else pyenv's
PYTHON312 := $(shell for c in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do \
	$$c -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo $$c; break; }; done)

.PHONY: run test lint bench clean setup
SUITE_LOCK := $(shell command -v flock >/dev/null 2>&1 && echo flock /tmp/culturedrift-test-suite.lock)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found (install it, e.g. pyenv install 3.12)"; exit 1; }
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/culturedrift compare scenarios/baseline.yaml scenarios/big_bang.yaml scenarios/phased.yaml \
		scenarios/phased_with_vigilance.yaml scenarios/phased_vigilance_withdrawn.yaml \
		--seeds 30 --workers 2 --reference baseline --out results/default

test: $(STAMP)
	$(VENV)/bin/ruff check culturedrift model experiments tests benchmarks
	@# one suite at a time per machine where flock exists (Linux): concurrent suites starve each other's timed tests
	$(SUITE_LOCK) $(PY) -m pytest -n 2 -q

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py $(ARGS)

clean:
	rm -rf $(VENV) results/default
