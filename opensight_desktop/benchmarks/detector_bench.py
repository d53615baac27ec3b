"""Detector throughput on this machine, all figures from one run.

F  bare batched forward (random input), images/s
D  decode + exact preprocessing on one core, images/s
ideal = 1 / (1/F + 1/(n*D)) on the CPU (n cores shared perfectly); min(F, n*D) on a GPU
E2E  ``AnalysisJob`` without heatmaps (decode pool + model + case writes), images/s
heatmap cost = time with heatmaps / time without
naive  per image: PIL open, torchvision transforms, model at batch 1 (steady state)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from opensight_desktop.benchmarks.child_process import run_module
from opensight_desktop.benchmarks.sizes import Sizes
from opensight_desktop.benchmarks.synthetic import write_set
from opensight_desktop.case.store import Case
from opensight_desktop.detector.model import LoadedDetector
from opensight_desktop.detector.preprocess import to_model_input
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob

MEASURE_MEMORY = "opensight_desktop.benchmarks.measure_analysis_memory"
# images per set: 12-megapixel camera JPEGs, 1-megapixel PNGs
SET_COUNTS: dict[Sizes, tuple[int, int]] = {"full": (24, 32), "quick": (8, 8), "tiny": (2, 2)}


def bare_forward_rate(detector: LoadedDetector, batch_size: int, batches: int = 4) -> float:
    size = detector.preprocessing.input_size
    batch = torch.randn(batch_size, 3, size[1], size[0])
    detector.predict(batch, heatmaps=False)  # warm-up
    times = []
    for _ in range(batches):
        started = time.perf_counter()
        detector.predict(batch, heatmaps=False)
        if detector.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return batch_size / statistics.median(times)


def decode_rate_one_core(detector: LoadedDetector, paths: list[Path]) -> float:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        started = time.perf_counter()
        for path in paths:
            with Image.open(path) as image:
                to_model_input(image.convert("RGB"), detector.preprocessing)
        return len(paths) / (time.perf_counter() - started)
    finally:
        torch.set_num_threads(threads)


def naive_rate(detector: LoadedDetector, paths: list[Path]) -> float:
    """What a user would write: one image at a time, torchvision transforms, batch 1."""
    from torchvision import transforms

    spec = detector.preprocessing
    pipeline = transforms.Compose(
        [
            transforms.Resize(spec.resize_shorter or 440),
            transforms.CenterCrop(spec.input_size[0]),
            transforms.ToTensor(),
            transforms.Normalize(spec.mean, spec.std),
        ]
    )
    model = detector.network
    times = []
    with torch.inference_mode():
        for path in paths:
            started = time.perf_counter()
            x = pipeline(Image.open(path).convert("RGB"))[None].to(detector.device)
            torch.sigmoid(model(x)).item()
            times.append(time.perf_counter() - started)
    steady = times[1:] or times
    return len(steady) / sum(steady)


def e2e(
    detector: LoadedDetector, folder: Path, batch_size: int, heatmaps: bool
) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        Case.create(
            Path(tmp) / "bench.osc", number="bench", title="bench", examiner="bench"
        ) as case,
    ):
        ImportJob(case, [str(folder)]).run()
        started = time.perf_counter()
        summary = AnalysisJob(case, detector, batch_size=batch_size, heatmaps=heatmaps).run()
        elapsed = time.perf_counter() - started
    return {
        "images": summary.analyzed,
        "seconds": elapsed,
        "rate": summary.analyzed / elapsed,
        "first_result_s": summary.first_result_s or 0.0,
    }


def startup_to_first_result(model_id: str, image: Path, device: str) -> float:
    """Process start to first stored result: a fresh process analysing one image."""
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "one.osc"
        env = dict(os.environ)
        base = [sys.executable, "-m", "opensight_desktop"]
        subprocess.run(
            [*base, "case", "new", str(case), "--number", "s", "--title", "s", "--examiner", "s"],
            check=True,
            capture_output=True,
            env=env,
        )
        subprocess.run(
            [*base, "import", str(case), str(image)], check=True, capture_output=True, env=env
        )
        started = time.perf_counter()
        subprocess.run(
            [*base, "analyze", str(case), "--model", model_id, "--device", device, "--no-heatmap"],
            check=True,
            capture_output=True,
            env=env,
        )
        return time.perf_counter() - started


def run(
    detector: LoadedDetector, work: Path, batch_size: int, sizes: Sizes, model_id: str
) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    cameras, pngs = SET_COUNTS[sizes]
    sets = [
        (
            "12-megapixel camera JPEGs",
            write_set(work / "camera12mp", cameras, (4000, 3000), "JPEG", "camera12mp"),
        ),
        ("1-megapixel PNGs", write_set(work / "png1mp", pngs, (1000, 1000), "PNG", "png1mp")),
    ]
    forward = bare_forward_rate(detector, batch_size)
    rows = []
    for label, paths in sets:
        folder = paths[0].parent
        decode = decode_rate_one_core(detector, paths[: max(4, len(paths) // 3)])
        if detector.device.type == "cuda":
            ideal = min(forward, cores * decode)
        else:
            ideal = 1 / (1 / forward + 1 / (cores * decode))
        plain = e2e(detector, folder, batch_size, heatmaps=False)
        with_maps = e2e(detector, folder, batch_size, heatmaps=True)
        naive = naive_rate(detector, paths[: max(4, len(paths) // 2)])
        rows.append(
            {
                "set": label,
                "images": len(paths),
                "F_forward_img_s": round(forward, 2),
                "D_decode_preprocess_one_core_img_s": round(decode, 2),
                "ideal_img_s": round(ideal, 2),
                "e2e_no_heatmap_img_s": round(plain["rate"], 2),
                "e2e_vs_ideal": round(plain["rate"] / ideal, 3),
                "e2e_heatmap_img_s": round(with_maps["rate"], 2),
                "heatmap_time_ratio": round(
                    with_maps["seconds"]
                    * plain["images"]
                    / (plain["seconds"] * with_maps["images"]),
                    3,
                ),
                "naive_img_s": round(naive, 2),
                "speedup_vs_naive": round(plain["rate"] / naive, 3),
            }
        )
    startup = startup_to_first_result(model_id, sets[0][1][0], detector.device_label)
    return {
        "device": detector.record()["device_description"],
        "cores": cores,
        "torch_threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "rows": rows,
        "startup_to_first_result_s": round(startup, 2),
    }


def format_report(result: dict[str, Any]) -> str:
    lines = [
        f"Detector on {result['device']}, {result['cores']} cores, batch {result['batch_size']}:"
    ]
    for row in result["rows"]:
        lines.append(
            f"  {row['set']} ({row['images']} images): F {row['F_forward_img_s']} img/s, "
            f"D {row['D_decode_preprocess_one_core_img_s']} img/s/core, ideal "
            f"{row['ideal_img_s']}; analyze {row['e2e_no_heatmap_img_s']} img/s = "
            f"{row['e2e_vs_ideal']}x ideal; heatmaps cost {row['heatmap_time_ratio']}x time; "
            f"naive loop {row['naive_img_s']} img/s -> {row['speedup_vs_naive']}x faster"
        )
    lines.append(
        f"  start-up (new process to first stored result, one 12-MP image): "
        f"{result['startup_to_first_result_s']} s"
    )
    return "\n".join(lines)


def memory_run(model_id: str, device: str, work: Path, count: int) -> dict[str, Any]:
    """Peak RSS while analysing ``count`` images, sampled as the run goes (a child process,
    so that only the analysis is measured)."""
    folder = work / f"memory-{count}"
    write_set(folder, count, (640, 480), "JPEG", "mem")
    return run_module(MEASURE_MEMORY, model_id, device, str(folder))
