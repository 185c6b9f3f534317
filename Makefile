# EcomLab — everything runs from a local virtualenv (.venv) built from requirements.lock.
# On a fresh machine you need only python3 (3.11), make and git:
#   make course   execute every lesson into build/notebooks/, render every report template
#                 into build/reports/ and build the site build/site/
#   make test     ruff, unit + property tests, notebook execution, truth recovery, nbval
#   make lab      JupyterLab on your own copy of the student edition (my-course/)
#   make lab-solutions  JupyterLab on the solution notebooks (trainers)
# Nothing is installed or registered outside .venv (the kernel is .venv's python3).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp
# parallel workers for the test suite (pytest-xdist); `make test PYTEST_ARGS=` for serial
PYTEST_ARGS ?= -n 2
PIP_FLAGS   ?= --disable-pip-version-check --no-input

# headless, quiet, reproducible runs
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export JUPYTER_PLATFORM_DIRS := 1
export PYTHONHASHSEED := 0

NOTEBOOKS := $(shell find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null)

.PHONY: help venv course reports test lint unit nbval lab lab-solutions notebooks site browser student lock clean distclean

help:
	@echo "make venv       create .venv from requirements.lock (re-runs when lock/pyproject change)"
	@echo "make course     execute every notebook into build/notebooks/, render the report"
	@echo "                templates into build/reports/, then build build/site/"
	@echo "make reports    render every report template on the bundled data (build/reports/)"
	@echo "make test       the whole suite: ruff, tests/ (incl. notebook execution), then nbval"
	@echo "make lab        JupyterLab on your copy of the student edition (my-course/)"
	@echo "make lab-solutions  JupyterLab on the solution notebooks (trainers)"
	@echo "make notebooks  re-execute the committed notebooks in place (fresh stored outputs)"
	@echo "make site       build build/site/ from build/notebooks/"
	@echo "make browser    the site's headless-Chromium tests (installs Debian chromium if missing)"
	@echo "make student    the student edition (solutions stripped) in build/student/"
	@echo "make lock       regenerate requirements.lock and environment.yml from requirements.in"
	@echo "make clean      remove build/ and caches (distclean also removes .venv)"

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -q -r requirements.lock
	$(PY) -m pip install $(PIP_FLAGS) -q --no-deps --no-build-isolation -e .
	@touch $@

TEMPLATES := $(basename $(notdir $(wildcard notebooks/templates/*.ipynb)))

course: venv
	$(BIN)/ecomlab run --out build/notebooks
	@for t in $(TEMPLATES); do \
	  $(BIN)/ecomlab report $$t --out build/reports/$$t.html || exit 1; done
	$(BIN)/ecomlab site --src build/notebooks --out build/site

# each report template rendered on the bundled data, as an analyst would get it
reports: venv
	@for t in $(TEMPLATES); do \
	  $(BIN)/ecomlab report $$t --out build/reports/$$t.html || exit 1; done

test: lint unit nbval

# ruff on the package, tests, benchmarks and the notebooks' code cells (rules in pyproject.toml)
lint: venv
	$(BIN)/ruff check .

unit: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# nbval re-runs the committed notebooks and compares the cells marked
# `# NBVAL_CHECK_OUTPUT` with their stored outputs. Skipped while notebooks/ is empty
# (pytest would exit 5, "no tests collected").
nbval: venv
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "nbval: no notebooks under notebooks/ yet, skipped"
else
	$(PY) -m pytest $(PYTEST_ARGS) --dist loadfile -p no:cacheprovider --nbval-lax \
		--nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/
endif

# Students work in their own copy of the student edition (solutions stripped). New lessons
# are added to it; a notebook already there is never overwritten (cp -n), so work is kept.
STUDENT_DIR ?= my-course
JUPYTER     ?= $(BIN)/jupyter

lab: venv
	@rm -rf build/student-fresh
	$(BIN)/ecomlab student --src notebooks --out build/student-fresh
	@mkdir -p $(STUDENT_DIR) && cp -rn build/student-fresh/. $(STUDENT_DIR)/
	@echo "Student edition in $(STUDENT_DIR)/ — your work there is never overwritten."
	$(JUPYTER) lab $(STUDENT_DIR)/

lab-solutions: venv
	$(JUPYTER) lab notebooks/

notebooks: venv
	$(BIN)/ecomlab run --in-place

site: venv
	$(BIN)/ecomlab site --src build/notebooks --out build/site

# headless Chromium on the site built from the committed notebooks; screenshots go to
# build/test-artifacts/site/ (apt needs root; .ci/run installs chromium the same way)
browser: venv
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }
	$(PY) -m pytest -n 0 -p no:cacheprovider tests/test_site_browser.py

student: venv
	$(BIN)/ecomlab student --src notebooks --out build/student

lock:
	rm -rf build/lockvenv
	$(PYTHON) -m venv build/lockvenv
	build/lockvenv/bin/pip install $(PIP_FLAGS) -q -r requirements.in
	{ sed -n '1,/^# ---- pins/p' requirements.lock; \
	  build/lockvenv/bin/pip freeze --exclude ecomlab; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	{ sed -n '1,/^  - pip:/p' environment.yml; \
	  grep -E '^[A-Za-z0-9]' requirements.lock | sed 's/^/      - /'; \
	  echo '      - -e .'; } > environment.yml.new
	mv environment.yml.new environment.yml
	rm -rf build/lockvenv

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
