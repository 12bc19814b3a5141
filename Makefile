# Every target sets up what it needs in .venv; a fresh clone needs only Python 3.10+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-long bench lint fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all]"
	$(VENV)/bin/logloss warmup  # compile the numba kernels into the cache once, at set-up
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/logloss demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadgroup

test-long: $(STAMP)
	HYPOTHESIS_PROFILE=long $(PY) -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	$(PY) -m pip install --quiet torch==2.13.0 -e ".[bench]" || echo "some peers could not be installed: their rows say so"
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks fuzz
	$(VENV)/bin/ruff format --check src tests benchmarks fuzz

FUZZ_SECONDS ?= 120

fuzz: $(STAMP)
	$(PY) -m pip install --quiet atheris || echo "atheris could not be installed: the harnesses run as a plain mutation loop"
	mkdir -p build/fuzz
	$(PY) fuzz/fuzz_model_file.py -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/ -print_final_stats=1 build/fuzz/corpus-model
	$(PY) fuzz/fuzz_table.py -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/ -print_final_stats=1 build/fuzz/corpus-table

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache logloss-demo
