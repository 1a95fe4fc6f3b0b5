"""OpenVINO backend, the default on CPU: it reads the TensorFlow ``.pb`` directly and is 3-4x
faster than cv2.dnn at f32 (bit-identical to TensorFlow). bf16 is about 2x faster again on CPUs
that support it but moves keypoints, so it is only an option.

The graph has dynamic N, H, W; a static shape compiles to a faster program, so each input shape
is compiled once and kept in a small LRU cache. Each compiled model hands out a pool of infer
requests, so several threads may call :meth:`OpenVinoBackend.infer` at once; OpenVINO releases
the GIL while it computes.

The first use of OpenVINO's numpy bindings is made in the constructing thread
(:func:`_init_numpy_bindings`): two threads making it at once can deadlock. Compiling is the
other exception: one compile at a time in a process (:data:`_COMPILE_LOCK`), and a
thread that needs a shape another thread is compiling waits for it. ``compile_model`` calls
running at once in the CPU plugin have had data races (openvinotoolkit/openvino PR 17164); two
pipeline threads asking for a new shape at once used to compile it twice side by side.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pose.backends.availability import Availability, resolve_device
from pose.backends.base import OUTPUT_CHANNELS, check_batch, check_concurrency, check_model_file, check_precision
from pose.backends.devices import AUTO, Device
from pose.errors import BackendUnavailableError, ModelLoadError


#: Default most input pixels of the compiled shapes kept (1 Mi: four 368x656 inputs, or one
#: input as large as the video pipeline allows by default, config.ResourceLimits).
MAX_CACHED_PIXELS = 1024 * 1024
#: Held while a model compiles: compiles never overlap in this process, whichever backend asks.
_COMPILE_LOCK = threading.Lock()
_GPU_REASON = "Pose Studio runs OpenVINO on the CPU only (use the onnxruntime backend for an NVIDIA GPU)"


def _pixels(shape: tuple[int, ...]) -> int:
    """Input pixels of an NHWC shape, all images of the batch."""
    return shape[0] * shape[1] * shape[2]


def _init_numpy_bindings(openvino: Any) -> None:
    """Make OpenVINO's Python module set up its numpy bindings here, in one thread.

    pybind11 sets them up on their first use, and two threads using them first at the same
    moment can deadlock for ever (seen here: 13 of 60 fresh processes hung whose two threads
    each called ``Type.to_dtype()``, which every ``InferRequest.infer`` on a numpy array calls;
    none hung after a first call in one thread). The pipeline's two inference threads were such
    a pair: a job stopped on its first frame now and then, in CI and here. Cheap; the thread
    that builds the backend makes the call."""
    openvino.Type.f32.to_dtype()
    _ = openvino.Tensor(np.zeros(1, np.float32)).data  # a numpy view of a tensor, as infer reads outputs


@dataclass
class _Compiled:
    model: Any  # openvino.CompiledModel
    idle_requests: list[Any] = field(default_factory=list)


class OpenVinoBackend:
    """Runs ``graph_opt.pb`` with OpenVINO on the CPU.

    precision: ``"f32"`` (default, exact) or ``"bf16"`` (faster, less exact; raises
        BackendUnavailableError when the CPU has no bf16 support).
    num_threads: inference threads; None (default) lets OpenVINO use every core, which is right
        when one inference runs at a time, as in the pipeline.
    max_cached_shapes: how many compiled input shapes to keep (default 8); the least recently
        used is dropped beyond that.
    max_cached_pixels: most input pixels (batch x height x width) of the compiled shapes kept
        together (default :data:`MAX_CACHED_PIXELS`); each holds working memory in proportion
        (about 0.2 KB a pixel per inference request), so the least recently used are dropped
        beyond that, down to the one just used, however large.
    parallel_requests: 1 (default) compiles for latency, one inference using every core; n > 1
        compiles n CPU streams (OpenVINO's THROUGHPUT hint) so that n threads calling
        :meth:`infer` at once run in parallel: more frames per second in a pipeline that keeps
        n frames in flight, because one thread per stream wastes no time synchronising cores
        that other stages (decode, drawing, encode) keep interrupting.
    """

    name = "openvino"
    device = "cpu"  # OpenVINO's CPU plugin; its GPU plugin (Intel GPUs) is not used here

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: Device = AUTO,
        precision: str = "f32",
        num_threads: int | None = None,
        max_cached_shapes: int = 8,
        max_cached_pixels: int | None = None,
        parallel_requests: int = 1,
    ) -> None:
        try:
            import openvino
        except ImportError as exc:
            raise BackendUnavailableError(f"the openvino package is not installed ({exc}); use --backend opencv") from None
        # A GPU is refused, never quietly the CPU.
        resolve_device(Availability(self.name, True, devices=("cpu",), gpu_reason=_GPU_REASON), device)
        path = check_model_file(model_path)
        self.precision = check_precision(precision)
        if precision == "fp16":
            raise BackendUnavailableError("the openvino backend runs f32 or bf16 on the CPU, not fp16 "
                                          "(fp16: --backend onnxruntime on a GPU with TensorRT)")
        self.parallel_requests = check_concurrency(num_threads, parallel_requests)
        if max_cached_shapes < 1:
            raise ValueError(f"max_cached_shapes must be >= 1, got {max_cached_shapes}")
        _init_numpy_bindings(openvino)
        self._core = openvino.Core()
        if precision == "bf16" and "BF16" not in self._core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise BackendUnavailableError("this CPU has no bf16 support; use --precision f32")
        try:
            self._model = self._core.read_model(str(path))
        except Exception as exc:  # OpenVINO raises plain RuntimeError for any parse failure
            reason = (str(exc).strip().splitlines() or ["unknown error"])[0][:200]
            raise ModelLoadError(f"OpenVINO could not read {path} as a TensorFlow graph: {reason}") from None
        if len(self._model.inputs) != 1 or len(self._model.outputs) < 1:
            raise ModelLoadError(f"{path} is not the OpenPose graph: expected one input, got {len(self._model.inputs)}")
        self._config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": self.precision,
            "PERFORMANCE_HINT": "LATENCY" if parallel_requests == 1 else "THROUGHPUT",
        }
        if parallel_requests > 1:
            self._config["NUM_STREAMS"] = self.parallel_requests
        if num_threads is not None:
            self._config["INFERENCE_NUM_THREADS"] = num_threads
        self._max_cached_shapes = max_cached_shapes
        self._max_cached_pixels = MAX_CACHED_PIXELS if max_cached_pixels is None else max_cached_pixels
        self._cache: OrderedDict[tuple[int, ...], _Compiled] = OrderedDict()
        self._lock = threading.Lock()
        self.compiles = 0  # shapes compiled so far (a shape dropped from the cache and used again counts twice)

    @classmethod
    def availability(cls) -> Availability:
        try:
            import openvino
        except ImportError as exc:
            return Availability(cls.name, False, reason=f"the openvino package is not installed ({exc})")
        bf16 = "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        return Availability(cls.name, True, devices=("cpu",), device_names={"cpu": "CPU (OpenVINO CPU plugin)"},
                            gpu_reason=_GPU_REASON, precisions={"cpu": ("f32", "bf16") if bf16 else ("f32",)})

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """float32 NHWC [N, H, W, 3] BGR 0..255 -> float32 NHWC [N, H/8, W/8, 57]."""
        batch = check_batch(batch)
        compiled, request = self._acquire(batch.shape)
        try:
            request.infer({0: batch}, share_inputs=True)
            out = np.array(request.get_output_tensor(0).data, dtype=np.float32, copy=True)
        finally:
            with self._lock:
                compiled.idle_requests.append(request)
        if out.shape[-1] != OUTPUT_CHANNELS:
            raise ModelLoadError(f"the graph returned shape {out.shape}; expected [N, H/8, W/8, 57] (wrong model?)")
        return out

    @property
    def cached_shapes(self) -> list[tuple[int, ...]]:
        """The compiled input shapes currently cached, least recently used first."""
        with self._lock:
            return list(self._cache)

    def _acquire(self, shape: tuple[int, ...]) -> tuple[_Compiled, Any]:
        found = self._cached(shape)
        if found is not None:
            return found
        # Compile outside self._lock (it takes ~0.5 s; threads running compiled shapes go on),
        # under the process's compile lock: a thread that waited for it finds the shape compiled.
        with _COMPILE_LOCK:
            found = self._cached(shape)
            if found is not None:
                return found
            with self._lock:  # make room first: the new shape's memory comes on top of the rest
                self._make_room(pixels=_pixels(shape), shapes=1, keep=0)
            compiled = _Compiled(self._compile(shape))
            with self._lock:
                self._cache[shape] = compiled
                self._make_room(pixels=0, shapes=0, keep=1)
                self.compiles += 1
                return compiled, compiled.model.create_infer_request()

    def _cached(self, shape: tuple[int, ...]) -> tuple[_Compiled, Any] | None:
        """The compiled ``shape`` (now the most recently used) and an infer request, or None."""
        with self._lock:
            compiled = self._cache.get(shape)
            if compiled is None:
                return None
            self._cache.move_to_end(shape)
            request = compiled.idle_requests.pop() if compiled.idle_requests else compiled.model.create_infer_request()
            return compiled, request

    def _make_room(self, *, pixels: int, shapes: int, keep: int) -> None:
        """Drop the least recently used shapes until ``shapes`` more of ``pixels`` more pixels
        fit the cache's bounds, keeping at least the ``keep`` most recent. Call with the lock."""
        while len(self._cache) > keep and (
                len(self._cache) + shapes > self._max_cached_shapes
                or sum(map(_pixels, self._cache)) + pixels > self._max_cached_pixels):
            self._cache.popitem(last=False)

    def _compile(self, shape: tuple[int, ...]) -> Any:
        model = self._model.clone()
        model.reshape({model.inputs[0]: list(shape)})
        return self._core.compile_model(model, "CPU", self._config)
