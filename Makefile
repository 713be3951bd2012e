# v2a-kit developer and learner commands. Each target sets itself up from a fresh clone:
# it creates .venv if missing, installs the kit with the pinned versions CI uses, and registers
# the Jupyter kernel. Re-running is cheap: the install re-runs only when pyproject.toml or the
# constraints change. PyTorch is sized for the machine (tools/install_torch.py): without a CUDA
# device, the CPU build from PyTorch's CPU wheel index, or the default wheels when that index
# does not answer; `make setup TORCH=cpu` or `TORCH=default` decides instead.
#
#   make tutorial    trust the kit's notebooks and start JupyterLab on notebooks/ (the tutorial)
#   make test        run the whole test suite (unit tests + every notebook under nbval, FAST)
#   make notebooks   execute every notebook headless in full mode, save its outputs, time it
#   make lint        ruff + a check that notebooks carry no metadata
#   make benchmark   print the speed ratios of benchmarks/
#   make browser-deps  Playwright's Python package, for the browser test (tests/test_browser.py)

PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.v2a-installed
CONSTR   := requirements/ci-constraints.txt
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
JUPYTER_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
TORCH    ?= auto
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
PYTEST_ARGS ?=
OFFLINE  := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# Committed notebooks keep their outputs, counts and saved widget state, and no other metadata
# (tools/notebook_outputs.py NBSTRIPOUT_ARGS says the same; a test checks they agree).
NBSTRIP  := --keep-output --keep-count --keep-metadata-keys metadata.widgets
# The folder `make tutorial` trusts and serves (the browser test points it at a copy).
TUTORIAL_DIR ?= notebooks

.PHONY: setup git-filter tutorial test test-unit test-notebooks notebooks lint benchmark clean-venv \
	browser-deps

setup: $(STAMP) git-filter

$(STAMP): pyproject.toml $(CONSTR)
	@echo "[setup 1/4] creating the virtual environment $(VENV)/ (once)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "[setup 2/4] installing PyTorch ($$(grep -E '^torch(vision)?==' $(CONSTR) | tr '\n' ' '); the CPU build where no CUDA device is present; the longest step, a few minutes)"
	@$(PY) tools/install_torch.py --constraints $(CONSTR) --build $(TORCH) --cpu-index $(TORCH_CPU_INDEX) --record $(VENV)/.v2a-torch.json
	@echo "[setup 3/4] installing the kit and its libraries (open_clip, transformers, diffusers, JupyterLab, ...)"
	@$(PY) -m pip install --quiet -c $(CONSTR) -e ".[dev]"
	@echo "[setup 4/4] registering the Jupyter kernel 'v2a-kit'"
	@# ipykernel stages the kernel spec in a temp folder it does not remove: give it one to drop
	@tmp=$$(mktemp -d) && TMPDIR=$$tmp $(PY) -m ipykernel install --sys-prefix --name v2a-kit --display-name "v2a-kit (.venv)" >/dev/null; status=$$?; rm -rf $$tmp; exit $$status
	@touch $(STAMP)
	@echo "[setup] done: $(VENV)/bin/v2a-kit, $(VENV)/bin/jupyter (activate with: source $(VENV)/bin/activate)"

# Commit notebooks with their outputs but without metadata. `nbstripout --install` records none of
# its options, and its default filter strips outputs: set the commit (clean) and diff filters to
# keep them. Outside a git checkout (an unpacked archive) there is nothing to set.
git-filter:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  $(VENV)/bin/nbstripout --install && \
	  git config filter.nbstripout.clean "'$(abspath $(PY))' -m nbstripout $(NBSTRIP)" && \
	  git config diff.ipynb.textconv "'$(abspath $(PY))' -m nbstripout -t $(NBSTRIP)"; \
	fi

# Jupyter shows a notebook's HTML, players and widgets as saved only once it is trusted (signed
# in your Jupyter data folder; README, "Trusted notebooks"): trust the kit's own numbered
# notebooks, then serve them.
tutorial: setup
	@echo "[tutorial] trusting the kit's notebooks, so their players and the explorer show before you run anything"
	@$(if $(wildcard $(TUTORIAL_DIR)/[0-9]*.ipynb),$(VENV)/bin/jupyter trust $(wildcard $(TUTORIAL_DIR)/[0-9]*.ipynb))
	$(VENV)/bin/jupyter lab --notebook-dir=$(TUTORIAL_DIR) $(ROOT_FLAG) $(JUPYTER_ARGS)

test: setup
	$(OFFLINE) V2A_FAST=1 $(PY) -m pytest tests $(NOTEBOOKS) --nbval-lax --nbval-current-env $(PYTEST_ARGS)

test-unit: setup
	$(OFFLINE) $(PY) -m pytest tests $(PYTEST_ARGS)

test-notebooks: setup
	$(OFFLINE) V2A_FAST=1 $(PY) -m pytest $(NOTEBOOKS) --nbval-lax --nbval-current-env $(PYTEST_ARGS)

notebooks: setup
	$(OFFLINE) $(PY) tools/measure_runtimes.py notebooks $(if $(filter 1,$(V2A_FAST)),--fast)

lint: setup
	$(VENV)/bin/ruff check v2a_kit tests benchmarks tools recipes
	$(if $(NOTEBOOKS),$(VENV)/bin/nbstripout $(NBSTRIP) --verify $(NOTEBOOKS))

benchmark: setup
	$(OFFLINE) $(PY) benchmarks/run_all.py

# The browser test drives Debian's Chromium (`apt-get install chromium`; Playwright's own browser
# download is not used) through Playwright's Python package, installed here.
browser-deps: setup
	@$(PY) -m pip install --quiet -c $(CONSTR) playwright
	@command -v chromium >/dev/null || echo "[browser-deps] no chromium on PATH: apt-get install chromium"

clean-venv:
	rm -rf $(VENV)
