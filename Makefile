# Quick start: `make run` (set up, then start the web app and a worker) and `make test`
# (set up, then run the whole test suite). Both work on a fresh machine with nothing installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
BLAZEPOSE_STAMP := $(VENV)/.installed-blazepose
# BlazePose's lite and heavy landmark models, from the npm package that ships them (exact version).
BLAZEPOSE_MODELS_STAMP := $(VENV)/.installed-blazepose-models
BLAZEPOSE_NPM := @mediapipe/pose@0.5.1675469404
MODEL := models/graph_opt.pb
# The onnxruntime backend's model, converted once from $(MODEL) by `make onnx` in a virtual
# environment of its own (TensorFlow + tf2onnx, pinned in requirements-onnx.txt), never in $(VENV).
ONNX_VENV := .venv-onnx
ONNX_MODEL := models/graph_opt.onnx
CHROMIUM ?= /usr/bin/chromium
# The tool that writes requirements*.txt from pyproject.toml (`make requirements`).
UV_VERSION := 0.13.8
COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --quiet

# The torch backend (optional). CI machines of this kind have a CPU-only PyTorch wheel on disk:
# test-setup installs it (192 MB, no CUDA download) so the torch tests run; elsewhere they skip.
TORCH_CPU_WHEEL := $(firstword $(wildcard /opt/wheels/torch-*+cpu-*.whl))
TORCH_STAMP := $(VENV)/.installed-torch
# A lent GPU machine (Python 3.12, torch with CUDA, no PyAV/filterpy/pycocotools, no downloads):
# the wheels it lacks, and the data bench/device_check.sh needs (../shared does not travel).
DEVICE_WHEELS := av==18.1.0 filterpy==2.0.0 pycocotools==2.0.11
DEVICE_PLATFORMS := --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
SHARED_DATA ?= ../shared/data

.PHONY: setup setup-blazepose blazepose-models setup-torch test-setup run test bench clean requirements onnx device-wheels device-data

NPM := $(shell command -v npm)

# BlazePose lite and heavy come from npm; without npm, setup says so and the app runs without them
# (`posestudio models` lists them as not installed, with how to get them).
setup: $(STAMP) $(BLAZEPOSE_STAMP) $(if $(NPM),$(BLAZEPOSE_MODELS_STAMP)) $(MODEL)
	@$(if $(NPM),true,echo "note: npm not found, so blazepose-lite and blazepose-heavy are not installed (apt-get install npm, then make blazepose-models)")
setup-blazepose: $(BLAZEPOSE_STAMP) $(BLAZEPOSE_MODELS_STAMP)
blazepose-models: $(BLAZEPOSE_MODELS_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Exactly the pinned, hash-checked tree of requirements.txt, then the project itself on top.
$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e . --config-settings editable_mode=compat
	touch $(STAMP)

# The blazepose model: mediapipe 0.10.14 and only what its pose graph imports, hash-checked and
# WITHOUT its declared dependencies (jax, jaxlib, opencv-contrib-python, sounddevice: unused by
# the pose graph, and opencv-contrib would replace our cv2); see requirements-blazepose.in.
$(BLAZEPOSE_STAMP): requirements-blazepose.txt $(STAMP)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-blazepose.txt
	touch $(BLAZEPOSE_STAMP)

# blazepose-lite and blazepose-heavy: `npm pack` fetches the tarball by exact version into a
# temporary folder; tools/install_blazepose_models.py checks each file's size and sha256 and
# copies the two into mediapipe/modules/pose_landmark/, where mediapipe would download them.
$(BLAZEPOSE_MODELS_STAMP): tools/install_blazepose_models.py $(BLAZEPOSE_STAMP)
	@command -v npm >/dev/null || { echo "npm is needed to fetch $(BLAZEPOSE_NPM) (apt-get install npm)"; exit 1; }
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		(cd "$$tmp" && npm pack --silent $(BLAZEPOSE_NPM) >/dev/null) && \
		$(PY) tools/install_blazepose_models.py --tarball "$$tmp"/mediapipe-pose-*.tgz
	touch $(BLAZEPOSE_MODELS_STAMP)

# The tests' tools too (pytest, playwright, pycocotools, motmetrics, jsonschema ...): requirements-dev.txt.
$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $(DEV_STAMP)

# After changing the dependencies in pyproject.toml: pin the whole tree again (versions already
# pinned stay unless the new ranges exclude them; `rm requirements*.txt` first to take the newest).
requirements: | $(PY)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(COMPILE) -o requirements.txt
	$(COMPILE) --extra dev -o requirements-dev.txt
	$(VENV)/bin/uv pip compile requirements-blazepose.in --no-deps --python-version 3.11 --generate-hashes \
		--quiet -o requirements-blazepose.txt
	$(COMPILE) --extra gpu -o requirements-gpu.txt
	$(VENV)/bin/uv pip compile tools/requirements-onnx.in --python-version 3.11 --generate-hashes --quiet \
		-o requirements-onnx.txt

$(MODEL): | $(STAMP)
	$(VENV)/bin/posestudio fetch-model --dest $(MODEL)

# Convert the graph to ONNX (about 10 s; the converter's environment takes a minute or so to
# install, once). tools/convert_onnx.py writes the model and a sidecar with both files' sha256
# and the tool versions, which the backend checks on load. Pins or script changed: converted again.
onnx: $(ONNX_MODEL)

$(ONNX_VENV)/.installed: requirements-onnx.txt
	$(PYTHON) -m venv $(ONNX_VENV)
	$(ONNX_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements-onnx.txt
	touch $@

$(ONNX_MODEL): $(MODEL) tools/convert_onnx.py $(ONNX_VENV)/.installed
	$(ONNX_VENV)/bin/python tools/convert_onnx.py --graph $(MODEL) --out $(ONNX_MODEL)

# PyTorch for hosts without it (the CUDA build from PyPI on Linux: about 4 GB with its CUDA
# wheels; TORCH_INDEX=https://download.pytorch.org/whl/cpu for a CPU-only one).
setup-torch: $(STAMP)
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "torch>=2.4"

$(TORCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet "$(TORCH_CPU_WHEEL)"
	touch $(TORCH_STAMP)

device-wheels:
	mkdir -p .whl
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		$(DEVICE_PLATFORMS) -d .whl $(DEVICE_WHEELS)
	@du -ch .whl/*.whl | tail -1

device-data:
	mkdir -p .device-data/videos
	cp $(SHARED_DATA)/videos/vtest.avi $(SHARED_DATA)/videos/openpose_examples_media_video.avi .device-data/videos/
	rm -rf .device-data/coco && cp -r $(SHARED_DATA)/coco .device-data/coco && chmod -R u+w .device-data
	@du -sh .device-data

# The browser tests drive Debian's chromium (Playwright cannot download its own browser here);
# the export tests extract the OpenPose ZIP with Info-ZIP's unzip, as people do.
test-setup: setup $(DEV_STAMP) $(ONNX_MODEL) $(if $(TORCH_CPU_WHEEL),$(TORCH_STAMP))
	@command -v $(CHROMIUM) >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }
	@command -v unzip >/dev/null || { apt-get update -q && apt-get install -y -q unzip; }
	@command -v npm >/dev/null || { apt-get update -q && apt-get install -y -q npm; }
	@$(MAKE) --no-print-directory blazepose-models

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
	rm -rf $(VENV) $(ONNX_VENV) *.egg-info
