"""Install BlazePose's lite and heavy landmark models where mediapipe looks for them.

mediapipe 0.10.14's wheel ships only ``pose_landmark_full.tflite`` and downloads the other two
at run time (impossible offline). The npm package ``@mediapipe/pose`` 0.5.1675469404 ships all
three; ``make setup`` fetches its tarball with ``npm pack`` (the npm registry's own client) and
this script checks each file's size and sha256 before copying it into
``mediapipe/modules/pose_landmark/``. A file that does not match is never installed.

    python tools/install_blazepose_models.py --tarball mediapipe-pose-0.5.1675469404.tgz
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tarfile
from pathlib import Path

NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
#: name -> (bytes, sha256): the two models the wheel lacks, as the npm package ships them.
MODELS = {
    "pose_landmark_lite.tflite": (2_819_824, "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
    "pose_landmark_heavy.tflite": (27_709_200, "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
}


def mediapipe_model_dir() -> Path:
    """``mediapipe/modules/pose_landmark/`` of the mediapipe this Python imports."""
    import mediapipe  # noqa: PLC0415

    return Path(mediapipe.__file__).parent / "modules" / "pose_landmark"


def install(tarball: Path, dest: Path) -> list[Path]:
    """Check and copy MODELS from the npm ``tarball`` into ``dest``. Raises ValueError naming the
    file that is missing or does not match; nothing is written for a bad tarball."""
    checked: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for name, (size, sha256) in MODELS.items():
            try:
                member = archive.extractfile(f"package/{name}")
            except KeyError:
                member = None
            if member is None:
                raise ValueError(f"{tarball} has no package/{name}: is it {NPM_PACKAGE}?")
            data = member.read()
            digest = hashlib.sha256(data).hexdigest()
            if len(data) != size or digest != sha256:
                raise ValueError(f"{name} in {tarball} is {len(data)} bytes with sha256 {digest}; "
                                 f"expected {size} bytes with sha256 {sha256}")
            checked[name] = data
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in checked.items():
        tmp = dest / f".{name}.part"
        tmp.write_bytes(data)
        os.replace(tmp, dest / name)
        written.append(dest / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tarball", type=Path, required=True, help=f"`npm pack {NPM_PACKAGE}`'s .tgz")
    parser.add_argument("--dest", type=Path, help="where to install (default: the installed mediapipe's "
                                                  "modules/pose_landmark/)")
    args = parser.parse_args(argv)
    try:
        dest = args.dest or mediapipe_model_dir()
        for path in install(args.tarball, dest):
            print(f"installed {path}")
    except ImportError:
        print("error: mediapipe is not installed here: run `make setup-blazepose` first", file=sys.stderr)
        return 1
    except (OSError, ValueError, tarfile.TarError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
