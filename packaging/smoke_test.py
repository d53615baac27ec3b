"""Smoke test of a built bundle: it starts, prints its version, and runs a headless
import + analyse + report on generated images with a random-weight checkpoint.
Run by packaging/build.sh with the build environment's Python (for Pillow and torch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

bundle = Path(sys.argv[1]).resolve()
cli = bundle / ("opensight-desktop-cli.exe" if os.name == "nt" else "opensight-desktop-cli")
gui = bundle / ("opensight-desktop.exe" if os.name == "nt" else "opensight-desktop")


def run(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run([str(cli), *args], capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(args)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    env = {**os.environ, "OPENSIGHT_HOME": str(root / "home"), "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    version = run("--version", env=env).strip()
    version_s = time.perf_counter() - started
    print(f"version: {version} ({version_s:.2f} s)")
    started = time.perf_counter()
    shown = subprocess.run(
        [str(gui)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "OPENSIGHT_EXIT_AFTER_SHOWN": "1"},
    )
    gui_s = time.perf_counter() - started
    assert "window shown" in shown.stdout, shown.stdout + shown.stderr
    print(f"GUI start to window shown and closed: {gui_s:.2f} s")

    from PIL import Image  # the build environment's, only to make test images

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from opensight_desktop.benchmarks.random_model import random_checkpoint
    from opensight_desktop.benchmarks.synthetic import write_set

    images = root / "images"
    write_set(images, 4, (800, 600), "JPEG", "smoke")
    Image.new("RGB", (500, 400), "orange").save(images / "flat.png")
    model = random_checkpoint(root / "model")
    case = root / "smoke.osc"
    run(
        "case",
        "new",
        str(case),
        "--number",
        "SMOKE-1",
        "--title",
        "Bundle smoke test",
        "--examiner",
        "Zoë",
        env=env,
    )
    print(run("import", str(case), str(images), env=env).splitlines()[0])
    print(run("model", "import", str(model), env=env).splitlines()[0])
    run("model", "use", "model", env=env)  # random weights: active only when chosen
    started = time.perf_counter()
    out = run("analyze", str(case), "--device", "cpu", env=env)
    print(out.splitlines()[-6], f"({time.perf_counter() - started:.1f} s)")
    out = run("report", str(case), "-o", str(root / "report.pdf"), env=env)
    assert (root / "report.pdf").read_bytes().startswith(b"%PDF")
    print(out.splitlines()[0])
    run("export", str(case), "--format", "json", "-o", str(root / "case.json"), env=env)
    items = json.loads((root / "case.json").read_text())["items"]
    assert len(items) == 5 and all(i["status"] == "analyzed" for i in items), items
    print(run("verify", str(case), env=env).splitlines()[-1])
print("SMOKE TEST PASSED")
