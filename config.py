"""Configuration lives here and nowhere else; libraries receive it as explicit arguments.

Paths default to folders in the repository. The web app and the workers read their settings
from environment variables through :meth:`Settings.from_env` (each documented in docs/configuration.md);
nothing else in the project reads the environment.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = ROOT / "models" / "graph_opt.pb"
DEFAULT_OUTPUTS_DIR = ROOT / "outputs"
DEFAULT_UPLOADS_DIR = ROOT / "uploads"
DEFAULT_INSTANCE_DIR = ROOT / "instance"


#: Most frames in one inference batch (INFERENCE_BATCH; pipeline.execution checks it too).
MAX_INFERENCE_BATCH = 256


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int | None = None,
         maximum: int | None = None) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"environment variable {name} must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"environment variable {name} must be at most {maximum}, got {number}")
    return number


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if value == "":
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"environment variable {name} must be true or false (1/0), got {env[name]!r}")


def _workers(env: Mapping[str, str], name: str, default: str) -> str:
    """``auto`` or a whole number >= 0, as text."""
    value = (env.get(name) or default).strip().lower()
    if value != "auto" and not (value.isdigit() and int(value) <= 256):
        raise ValueError(f"environment variable {name} must be auto or a whole number from 0 to 256, got {env[name]!r}")
    return value


def _limit(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    """A limit from the environment: a whole number >= 0, where 0 means no limit."""
    if env.get(name) in (None, ""):
        return default
    value = _int(env, name, 0)
    if value < 0:
        raise ValueError(f"environment variable {name} must be 0 (no limit) or more, got {value}")
    return value or None


_DEVICE = re.compile(r"^(auto|cpu|gpu)(?::(\d+))?$")


def device_text(text: str, *, name: str = "device") -> str:
    """``text`` as a device name: ``auto``, ``cpu``, ``gpu`` or ``gpu:N`` (N >= 0), lower case.

    Raises ValueError naming ``name`` (the flag or variable) for anything else."""
    value = str(text).strip().lower()
    match = _DEVICE.match(value)
    if not match or (match.group(2) is not None and match.group(1) != "gpu"):
        raise ValueError(f"{name} must be auto, cpu, gpu or gpu:N (N = 0, 1, ...), got {text!r}")
    return value


def parse_device(text: str, *, name: str = "device"):  # -> pose.Device (imported here only: config stays light)
    """The :class:`pose.backends.devices.Device` that ``text`` names (see :func:`device_text`)."""
    from pose.backends.devices import Device

    kind, _, index = device_text(text, name=name).partition(":")
    return Device(kind, int(index) if index else None)


@dataclass(frozen=True)
class ResourceLimits:
    """What one job may ask of a worker, so that its memory and time stay bounded whatever is
    uploaded (checked when a job is submitted, enforced again by the pipeline; see
    ``pipeline.limits``). None means no limit. Each is set by the environment variable of its
    name in capitals (``MAX_FRAME_PIXELS``), 0 = no limit; ``MAX_IN_FLIGHT_MB`` in MiB, >= 1.

    max_frame_pixels: width x height of the video's frames (default 4096 x 2160, DCI 4K).
    max_network_pixels: network input width x height (inference memory grows with it;
        default 1024 x 1024, e.g. net_height 512 on the widest aspect ratio, 4:1).
    max_heatmap_pixels: network input width x height x upsample^2 (the upsampled heatmaps grow
        with it; default 64 Mi, e.g. upsample 16 at the default net_height on 16:9 video).
    max_frames: frames one job processes, after start_s, end_s and frame_stride (default
        36,000: 20 minutes at 30 fps).
    max_screenshots: periodic screenshots of one job (default 1,000).
    max_in_flight_bytes: frames decoded and not yet encoded, in bytes (their images, network
        input and output; default 256 MiB); the pipeline keeps as many frames in flight as fit,
        at least one, at most ``pipeline.limits.MAX_FRAMES_IN_FLIGHT``.
    max_images: photos in one image job, also inside a ZIP (default 500).
    max_image_pixels: width x height a photo declares, checked from its header before it is
        decoded (default 50 M, e.g. 8660 x 5773; a 30000 x 30000 "bomb" is refused).
    """

    max_frame_pixels: int | None = 4096 * 2160
    max_network_pixels: int | None = 1024 * 1024
    max_heatmap_pixels: int | None = 64 * 1024**2
    max_frames: int | None = 36_000
    max_screenshots: int | None = 1_000
    max_in_flight_bytes: int = 256 * 1024**2
    max_images: int | None = 500
    max_image_pixels: int | None = 50_000_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None,
                 defaults: "ResourceLimits | None" = None) -> "ResourceLimits":
        """The limits the environment sets, ``defaults`` (default: this class's) for the rest."""
        env = os.environ if env is None else env
        base = defaults or cls()
        in_flight = base.max_in_flight_bytes
        if env.get("MAX_IN_FLIGHT_MB") not in (None, ""):
            in_flight = _int(env, "MAX_IN_FLIGHT_MB", 0) * 1024**2
            if in_flight <= 0:
                raise ValueError(f"environment variable MAX_IN_FLIGHT_MB must be at least 1, "
                                 f"got {env['MAX_IN_FLIGHT_MB']!r}")
        return cls(
            max_frame_pixels=_limit(env, "MAX_FRAME_PIXELS", base.max_frame_pixels),
            max_network_pixels=_limit(env, "MAX_NETWORK_PIXELS", base.max_network_pixels),
            max_heatmap_pixels=_limit(env, "MAX_HEATMAP_PIXELS", base.max_heatmap_pixels),
            max_frames=_limit(env, "MAX_FRAMES", base.max_frames),
            max_screenshots=_limit(env, "MAX_SCREENSHOTS", base.max_screenshots),
            max_in_flight_bytes=in_flight,
            max_images=_limit(env, "MAX_IMAGES", base.max_images),
            max_image_pixels=_limit(env, "MAX_IMAGE_PIXELS", base.max_image_pixels),
        )


#: ``posestudio process``'s defaults: a person's own long video is theirs to process, so no
#: frame or screenshot limits; the memory limits stay (the environment can change any of them).
CLI_LIMITS = ResourceLimits(max_frames=None, max_screenshots=None)


def _default_live_threads() -> int:
    """Half the cores (at least one): the other half stays with the video jobs."""
    return max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class LiveSettings:
    """The live server's settings, each from the environment variable named in capitals.

    url (LIVE_URL): where the live server listens, ``http://127.0.0.1:5055`` by default; the web
        app sends frames there and ``posestudio serve`` starts the server on its host and port.
    sessions (LIVE_SESSIONS): live sessions served at once (default 2); one more is refused with
        a 503 that says so. 0 turns live pose off (serve starts no live server).
    models (LIVE_MODELS): the models the server loads once at start, comma-separated (default
        ``openpose,blazepose``; one whose package is not installed is left out, saying so); each
        session picks one of them.
    max_frame_bytes (LIVE_MAX_FRAME_KB, in KiB): the largest JPEG frame accepted (default 512 KiB;
        over it: 413). The page sends ~20-60 KiB frames, 480 px high.
    max_frame_pixels (LIVE_MAX_FRAME_PIXELS): the largest frame width x height (default 1280 x 720;
        over it: 413).
    idle_timeout_s (LIVE_IDLE_TIMEOUT_S): a session that sent no frame for this long is closed
        and its slot freed (default 5 s): a browser that vanished without saying goodbye.
    threads (LIVE_THREADS): CPU threads the live server's inference uses (default half the cores,
        at least 1); inferences run one at a time, so live pose never takes more than this from
        the video jobs, however many sessions there are.
    net_height (LIVE_NET_HEIGHT): the network input height for live frames (default 256: about
        twice the frames per second of 368 on a CPU).
    """

    url: str = "http://127.0.0.1:5055"
    sessions: int = 2
    models: tuple[str, ...] = ("openpose", "blazepose")
    max_frame_bytes: int = 512 * 1024
    max_frame_pixels: int = 1280 * 720
    idle_timeout_s: float = 5.0
    threads: int = field(default_factory=_default_live_threads)
    net_height: int = 256

    @property
    def enabled(self) -> bool:
        return self.sessions > 0

    @property
    def host_port(self) -> tuple[str, int]:
        """LIVE_URL's host and port (port 80 when it names none)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "LiveSettings":
        env = os.environ if env is None else env
        d = cls()
        url = (env.get("LIVE_URL") or d.url).rstrip("/")
        if not url.startswith("http://"):
            raise ValueError(f"environment variable LIVE_URL must be an http:// URL, got {url!r}")
        models = tuple(m.strip() for m in (env.get("LIVE_MODELS") or ",".join(d.models)).split(",") if m.strip())
        idle = env.get("LIVE_IDLE_TIMEOUT_S")
        try:
            idle_s = float(idle) if idle not in (None, "") else d.idle_timeout_s
        except ValueError:
            raise ValueError(f"environment variable LIVE_IDLE_TIMEOUT_S must be a number, got {idle!r}") from None
        if not idle_s > 0:
            raise ValueError(f"environment variable LIVE_IDLE_TIMEOUT_S must be above 0, got {idle!r}")
        return cls(
            url=url,
            sessions=_int(env, "LIVE_SESSIONS", d.sessions, minimum=0),
            models=models or d.models,
            max_frame_bytes=_int(env, "LIVE_MAX_FRAME_KB", d.max_frame_bytes // 1024, minimum=1) * 1024,
            max_frame_pixels=_int(env, "LIVE_MAX_FRAME_PIXELS", d.max_frame_pixels, minimum=64 * 64),
            idle_timeout_s=idle_s,
            threads=_int(env, "LIVE_THREADS", d.threads, minimum=1),
            net_height=_int(env, "LIVE_NET_HEIGHT", d.net_height, minimum=64),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the web app and the workers need to know about their surroundings."""

    instance_dir: Path = DEFAULT_INSTANCE_DIR
    uploads_dir: Path = DEFAULT_UPLOADS_DIR
    outputs_dir: Path = DEFAULT_OUTPUTS_DIR
    model_path: Path = DEFAULT_MODEL_PATH
    # SQLite file under the instance folder unless DATABASE_URL names another database.
    database_url: str | None = None
    # Redis (or any Celery broker) when set; otherwise kombu's filesystem transport under instance/.
    broker_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    max_upload_bytes: int = 2 * 1024**3
    # Uploads (bodies over 64 KiB) one web process receives at once; more get a 503 at once, so
    # threads stay free for pages (posestudio serve: 8 threads per process).
    upload_slots: int = 4
    # Each 64 KiB of an upload must arrive within this many seconds, or the client is cut off (408).
    upload_read_timeout_s: int = 30
    # Videos one upload form may send (more: 400, nothing is queued), and jobs one browser session
    # may have queued or running at once (more: 429; callers without a session cookie share one).
    max_files_per_upload: int = 10
    max_jobs_per_session: int = 20
    worker_concurrency: int = 1
    job_soft_time_limit_s: int = 6 * 3600
    job_hard_time_limit_s: int = 6 * 3600 + 300
    # A running job whose worker gave no sign of life for this long is requeued or failed.
    job_stale_after_s: int = 60
    inference_backend: str = "openvino"
    # Where the worker's backend runs: auto (a GPU when the backend can use one), cpu, gpu, gpu:N.
    inference_device: str = "auto"
    # Frames per inference call in pass 1 (pipeline.execution): 1 on a CPU, 8 to 64 on a GPU.
    inference_batch: int = 1
    # Processes for pass 1's post-processing: "auto" (one per core but one beside a GPU, none
    # on a CPU), or a number (0 = in the pipeline's thread).
    postprocess_workers: str = "auto"
    # CUDA_VISIBLE_DEVICES as the worker was started with (posestudio worker --gpus sets it for
    # each GPU's worker); None when unset. Reported with the worker's device.
    visible_gpus: str | None = None
    port: int = 5000
    # Admin pages: open to loopback clients only, unless ADMIN_PASSWORD is set (then HTTP Basic).
    admin_password: str | None = None
    # What one job may ask of a worker (frame size, network size, frames, screenshots, memory).
    limits: ResourceLimits = ResourceLimits()
    # A finished job (record, upload, outputs) is deleted this many days after it finished;
    # 0 keeps jobs until someone deletes them (see jobs.retention).
    retention_days: int = 30
    # Keep a job's uploaded video after the job succeeded (by default it is deleted then).
    keep_uploads: bool = False
    # /metrics without the admin credentials (for a Prometheus that scrapes without them).
    metrics_public: bool = False
    # The host names the web app answers to (ALLOWED_HOSTS; see web.hosts): a request whose Host
    # header names another gets a 400 before anything runs (DNS rebinding). Empty: any host
    # (`posestudio serve` on a loopback address sets loopback names when ALLOWED_HOSTS is unset).
    allowed_hosts: tuple[str, ...] = ()
    # Live pose from the webcam (see live/ and docs/live.md): where the live server listens (the
    # web app talks to it there; `posestudio serve` starts it there), how many sessions it
    # serves at once (0: no live server), the models it loads, the largest frame it accepts,
    # how long a silent session keeps its slot, and the CPU threads its inference may use.
    live: LiveSettings = field(default_factory=lambda: LiveSettings())

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'posestudio.sqlite3'}"

    @property
    def uses_embedded_broker(self) -> bool:
        return not self.broker_url

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        defaults = cls()
        instance_dir = Path(env.get("POSESTUDIO_INSTANCE_DIR") or defaults.instance_dir)
        secret_key = env.get("SECRET_KEY") or _persistent_secret(instance_dir)
        return cls(
            instance_dir=instance_dir,
            uploads_dir=Path(env.get("POSESTUDIO_UPLOADS_DIR") or defaults.uploads_dir),
            outputs_dir=Path(env.get("POSESTUDIO_OUTPUTS_DIR") or defaults.outputs_dir),
            model_path=Path(env.get("POSESTUDIO_MODEL_PATH") or defaults.model_path),
            database_url=env.get("DATABASE_URL") or None,
            broker_url=env.get("CELERY_BROKER_URL") or env.get("REDIS_URL") or None,
            secret_key=secret_key,
            max_upload_bytes=_int(env, "MAX_UPLOAD_MB", defaults.max_upload_bytes // 1024**2) * 1024**2,
            upload_slots=_int(env, "UPLOAD_SLOTS", defaults.upload_slots, minimum=1),
            upload_read_timeout_s=_int(env, "UPLOAD_READ_TIMEOUT_S", defaults.upload_read_timeout_s, minimum=1),
            max_files_per_upload=_int(env, "MAX_FILES_PER_UPLOAD", defaults.max_files_per_upload, minimum=1),
            max_jobs_per_session=_int(env, "MAX_JOBS_PER_SESSION", defaults.max_jobs_per_session, minimum=1),
            worker_concurrency=_int(env, "WORKER_CONCURRENCY", defaults.worker_concurrency),
            job_soft_time_limit_s=_int(env, "JOB_SOFT_TIME_LIMIT_S", defaults.job_soft_time_limit_s),
            job_hard_time_limit_s=_int(env, "JOB_HARD_TIME_LIMIT_S", defaults.job_hard_time_limit_s),
            job_stale_after_s=_int(env, "JOB_STALE_AFTER_S", defaults.job_stale_after_s),
            inference_backend=(env.get("INFERENCE_BACKEND") or defaults.inference_backend).strip().lower(),
            inference_device=device_text(env.get("INFERENCE_DEVICE") or defaults.inference_device,
                                         name="environment variable INFERENCE_DEVICE"),
            inference_batch=_int(env, "INFERENCE_BATCH", defaults.inference_batch, minimum=1,
                                 maximum=MAX_INFERENCE_BATCH),
            postprocess_workers=_workers(env, "POSTPROCESS_WORKERS", defaults.postprocess_workers),
            visible_gpus=env.get("CUDA_VISIBLE_DEVICES"),
            port=_int(env, "PORT", defaults.port),
            admin_password=env.get("ADMIN_PASSWORD") or None,
            limits=ResourceLimits.from_env(env),
            retention_days=_int(env, "RETENTION_DAYS", defaults.retention_days, minimum=0),
            keep_uploads=_bool(env, "KEEP_UPLOADS", defaults.keep_uploads),
            metrics_public=_bool(env, "METRICS_PUBLIC", defaults.metrics_public),
            allowed_hosts=allowed_hosts(env.get("ALLOWED_HOSTS") or ""),
            live=LiveSettings.from_env(env),
        )


def allowed_hosts(text: str) -> tuple[str, ...]:
    """ALLOWED_HOSTS as a tuple of lower-case names: comma- or space-separated host names or IP
    addresses, without ports (``studio.example.org, 192.0.2.7, [::1]``); ``.example.org`` also
    allows every name under it. Empty or ``*``: any host."""
    names = tuple(dict.fromkeys(n.strip().lower().rstrip(".") for n in text.replace(",", " ").split()))
    if "*" in names:
        return ()
    for name in names:
        bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
        if not bare.strip(".") or any(c in bare for c in "/@?#") or (":" in bare and not name.startswith("[")
                                                                    and bare.count(":") < 2):
            raise ValueError(f"environment variable ALLOWED_HOSTS must list host names without ports or "
                             f"schemes (e.g. studio.example.org,127.0.0.1), got {name[:100]!r}")
    return names


def _persistent_secret(instance_dir: Path) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts without config."""
    path = instance_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process (web or worker) created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key
