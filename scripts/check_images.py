"""Build check of every katib-nas image without Docker: install for real, start the entrypoint.

    python scripts/check_images.py [--gpu] [DOCKERFILE ...]

For each Dockerfile (default: all of them, GPU images only with ``--gpu`` since their CUDA
wheels are gigabytes), the build context is laid out as the image's file system, the
``pip install`` steps run in a fresh virtual environment (no system site packages), and then
the entrypoint starts there: a suggestion service must answer the gRPC health check with
SERVING, a trial must print its ``--help``. Prints one line per image with the packages
installed and the seconds taken; exits 1 if any image fails. ``make test`` runs the cheaper part
of this (resolution of every image, the DARTS service installed and started).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.k8s.image_build import replay
from tests.k8s.images import IMAGES, check_service, check_trial_help


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dockerfiles", nargs="*", help="only these (paths as in the repository)")
    parser.add_argument("--gpu", action="store_true", help="also install the GPU images")
    args = parser.parse_args(argv)

    chosen = [i for i in IMAGES if not args.dockerfiles or i.dockerfile in args.dockerfiles]
    failures = 0
    for image in chosen:
        if image.gpu and not args.gpu:
            print(f"{image.dockerfile:40s} skipped (GPU image; pass --gpu)")
            continue
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="check-image-") as folder:
            workspace = Path(folder)
            packages = 0
            try:
                result = replay(image.path, workspace, dry_run=False)
                packages = len(result.installed)
                if image.kind == "service":
                    outcome = f"health {check_service(result, workspace)}"
                    ok = outcome.endswith("SERVING")
                else:
                    check_trial_help(result, workspace)
                    outcome, ok = "--help ok", True
            except (AssertionError, FileNotFoundError, OSError) as error:
                outcome, ok = f"FAILED: {error}", False
        seconds = time.monotonic() - started
        failures += not ok
        print(f"{image.dockerfile:40s} {outcome}; {packages} packages; {seconds:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
