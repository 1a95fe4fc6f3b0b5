# Quick start: `make run` (set up, then start the web app and a worker) and `make test`
# (set up, then run the whole test suite). Both work on a fresh machine with nothing installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL := models/graph_opt.pb
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup test-setup run test bench clean

setup: $(STAMP) $(MODEL)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e ".[dev]" --config-settings editable_mode=compat
	touch $(STAMP)

$(MODEL): | $(STAMP)
	$(VENV)/bin/posestudio fetch-model --dest $(MODEL)

# The browser tests drive Debian's chromium (Playwright cannot download its own browser here);
# the export tests extract the OpenPose ZIP with Info-ZIP's unzip, as people do.
test-setup: setup
	@command -v $(CHROMIUM) >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }
	@command -v unzip >/dev/null || { apt-get update -q && apt-get install -y -q unzip; }

run: setup
	$(VENV)/bin/posestudio serve

test: test-setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/infer.py
	$(PY) bench/coco_eval.py
	$(PY) bench/mot_eval.py
	$(PY) bench/pipeline.py
	$(PY) bench/web.py
	$(PY) bench/abuse.py

clean:
	rm -rf $(VENV) *.egg-info
