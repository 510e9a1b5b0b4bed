"""What the benchmark scripts share: Django set-up on a fresh database, peak memory, and
where their figures are saved for `run_all.py`."""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup(*, prefix: str = "smartplex-bench-") -> None:
    """DATABASE_URL when set, else a fresh SQLite file in a temp folder; then migrate."""
    if not os.environ.get("DATABASE_URL"):
        os.environ["SMARTPLEX_DATA_DIR"] = tempfile.mkdtemp(prefix=prefix)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplex.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def results_save(name: str, vendor: str, figures: dict) -> None:
    """Latest figures in bench/results/<name>-<vendor>.json (git-ignored), for run_all."""
    out = ROOT / "bench" / "results" / f"{name}-{vendor}.json"
    out.parent.mkdir(exist_ok=True)
    figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"results written to {out.relative_to(ROOT)}")
