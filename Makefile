# Two commands for a fresh machine (see README.md):
#   make quickstart   set up, fetch MovieLens-100K and run the main job
#   make test         set up, lint, type-check and run the test suite (make test-all: with the extended Ray runs too)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
# CPU build of torch (lies on local disk on the project's machines); GPU users: see docs/sweeps-and-clusters.md.
TORCH ?= torch==2.13.0
# where make quickstart writes its records and report (results/quickstart holds the committed
# reference run; writing there would find its finished records and train nothing)
RUNS ?= runs

.PHONY: setup browser check quickstart test test-all bench bench-gpu clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test,tracking]"
	touch $@

quickstart: setup
	$(BIN)/python -m harness.data fetch movielens-100k
	$(BIN)/python -m harness.data describe movielens-100k
	$(BIN)/python -m harness.backbones fetch smollm2-135m
	$(BIN)/python -m harness.sweep search_spaces/quickstart.yaml --storage $(RUNS)
	$(BIN)/python -m harness.report $(RUNS)/quickstart --reference mos --open

# headless Chromium for the report page's browser test: Debian's package, installed where make runs
# as root with apt-get (as CI does). Without it that one test skips, except under CI=true, where it
# fails: CI must show the page laid out by a real browser
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report page's browser test"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	    echo "note: apt-get could not install chromium; the browser test skips (and fails under CI=true)"; \
	  else echo "note: no chromium here, so the browser test skips (Debian: apt-get install chromium)"; fi; }

# tests run in TEST_WORKERS processes (pytest-xdist; worksteal hands a finished worker the next
# test): the slow tests mostly wait on Ray starting, so two workers on two cores cut the suite's
# wall time by a third (docs/testing.md). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
PYTEST = $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

# what the maintainers' tools say before any test runs (pyproject.toml configures them): ruff's lint rules,
# its formatter's check and mypy over harness/ (strict where the types are pure)
check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# the suite CI runs; tests marked `extended` (more Ray end-to-end runs) are left to test-all
test: check browser
	$(PYTEST) -m "not extended"

# everything, the extended Ray runs included: run it before resolving an issue
test-all: check browser
	$(PYTEST)

# every CPU benchmark, figures written to results/benchmarks/ (about 85 minutes on 2 cores; see benchmarks/README.md)
bench: setup
	$(BIN)/python benchmarks/data_pipeline.py --out results/data/pipeline-benchmark.json
	$(BIN)/python benchmarks/train_step.py --out results/benchmarks/train_step.json
	$(BIN)/python benchmarks/optimisations.py --out results/benchmarks/optimisations.json \
		--profile results/benchmarks/profile_train_step.txt
	$(BIN)/python benchmarks/ray_overhead.py --train-samples 192 --eval-samples 100 \
		--out results/benchmarks/ray_overhead_quickstart.json
	$(BIN)/python benchmarks/ray_overhead.py --compare-reuse --compare-ray-defaults \
		--out results/benchmarks/ray_overhead_settings.json
	$(BIN)/python benchmarks/ray_overhead.py --scaling --out results/benchmarks/ray_overhead.json

# the GPU benchmarks (on a machine with a CUDA GPU and a CUDA build of torch), into results/benchmarks/gpu/
bench-gpu: setup
	mkdir -p results/benchmarks/gpu
	$(BIN)/python benchmarks/train_step.py --device cuda --models t5-small-shape t5-base-shape smollm2-135m-shape \
		--train-steps 30 --eval-steps 30 --warmup 5 --compare-syncs --out results/benchmarks/gpu/train_step_b8.json
	$(BIN)/python benchmarks/train_step.py --device cuda --models t5-small-shape t5-base-shape smollm2-135m-shape \
		--train-steps 30 --eval-steps 30 --warmup 5 --batch-size 32 --out results/benchmarks/gpu/train_step_b32.json
	$(BIN)/python benchmarks/gpu_sharing.py --model t5-base-shape --processes 1 2 4 \
		--out results/benchmarks/gpu/gpu_sharing_t5base.json

clean:
	rm -rf $(VENV) *.egg-info
