"""Analysis on a Ray cluster against the local run, on a loopback cluster of this machine,
and what a million images would take on N GPU nodes. Every measured figure is from one run.

Measured here:
  local, cluster  ``AnalysisJob`` over the same images (no heatmaps), here and through a
                  one-node Ray cluster on 127.0.0.1 with this machine's cores: images/s, and
                  the time from the run's start to its first stored result
  D               read + SHA-256 check + decode + exact preprocessing (what a node does per
                  item, ``analyze_job.prepare``), one core, images/s
  F               the model's bare forward on this CPU, images/s
  W               the case's one writer: precomputed results with a 24x24 heatmap written
                  through ``AnalysisJob`` (same transactions and audit entries), results/s

On paper (nothing below is measured here): a node with C decode cores and one GPU does
min(G, C * D) images/s; N nodes min(N * that, storage bandwidth / mean file size, W).
G is a published figure for ViT-S/16 at 384 px (see GPU_RATE_NOTE); the storage bandwidth
is an assumption (10 GbE). Both are labelled as such in the output.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from opensight_desktop.benchmarks.detector_bench import bare_forward_rate
from opensight_desktop.benchmarks.loopback_ray import loopback_cluster
from opensight_desktop.benchmarks.sizes import Sizes
from opensight_desktop.benchmarks.synthetic import write_set
from opensight_desktop.benchmarks.triage_bench import make_case
from opensight_desktop.case.store import Case
from opensight_desktop.cluster_config import ClusterConfig
from opensight_desktop.detector.model import LoadedDetector, library_versions
from opensight_desktop.pipeline.analyze_job import (
    AnalysisJob,
    AnalysisSummary,
    Candidate,
    Computed,
    Producer,
    prepare,
)
from opensight_desktop.pipeline.cluster.source import ClusterSource
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.progress import CancelToken

# (12-megapixel camera JPEGs analysed both ways, results written by the writer benchmark)
SIZES: dict[Sizes, tuple[int, int]] = {
    "full": (24, 5000),
    "quick": (8, 1000),
    "tiny": (2, 64),
}
CAMERA = (4000, 3000)
WRITER_BATCHES = (8, 64)  # the cluster's default batch, and a large one
MILLION = 1_000_000
NODES = (1, 2, 4, 8, 16)
DECODE_CORES = 32  # per GPU node (assumed: a common 1-GPU server)
# Published, not measured here: DeiT-S (the ViT-S/16 architecture) runs 940 images/s at
# 224 px on one V100 and DeiT-B 292 at 224 px vs 85.9 at 384 px (Touvron et al. 2021,
# "Training data-efficient image transformers", table 1); the same 3.4x cost of 384 px
# on ViT-S/16 gives about 276 images/s. Newer GPUs are faster, which only moves the
# bottleneck further to decoding and storage.
GPU_RATE = 276.0
GPU_RATE_NOTE = (
    "G = 276 images/s per GPU: published V100 figures for DeiT-S/ViT-S/16 (940/s at 224 px) "
    "scaled by the published 224->384 px cost of DeiT-B (3.4x); NOT measured here"
)
STORAGE_BYTES_S = 1.25e9
STORAGE_NOTE = "storage: 1.25 GB/s (one 10 GbE link to the evidence store), assumed"


def decode_rate_one_core(detector: LoadedDetector, paths: list[Path]) -> float:
    """``prepare`` (read, SHA-256 check, decode, preprocess) on one thread, images/s."""
    shas = [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        started = time.perf_counter()
        for index, (path, sha) in enumerate(zip(paths, shas, strict=True)):
            outcome = prepare(index, sha, [os.fsencode(path)], detector.preprocessing)
            if outcome.error:
                raise RuntimeError(f"benchmark image {path}: {outcome.error}")
        return len(paths) / (time.perf_counter() - started)
    finally:
        torch.set_num_threads(threads)


def _analysed_case(path: Path, folder: Path) -> Case:
    case = Case.create(path, number="bench", title="cluster benchmark", examiner="bench")
    ImportJob(case, [str(folder)]).run()
    return case


def _run_figures(summary: AnalysisSummary, seconds: float, batch_size: int) -> dict[str, Any]:
    first = summary.first_result_s or 0.0
    # after the first batch landed: the rate once the cluster's start is paid
    steady_items = summary.analyzed - min(batch_size, summary.analyzed)
    steady = steady_items / (seconds - first) if steady_items and seconds > first else None
    return {
        "images": summary.analyzed,
        "errors": summary.errors,
        "seconds": round(seconds, 2),
        "img_s": round(summary.analyzed / seconds, 3),
        "first_result_s": round(first, 2),
        "after_first_result_img_s": round(steady, 3) if steady else None,
    }


def _timed(job: AnalysisJob) -> tuple[AnalysisSummary, float]:
    started = time.perf_counter()
    summary = job.run()
    return summary, time.perf_counter() - started


class _Precomputed:
    """A ResultSource that hands the writer results computed before the clock starts."""

    def __init__(self, count: int, batch_size: int) -> None:
        rng = np.random.default_rng(16)
        producer = Producer("bench-node", "cuda:0", {**library_versions(), "node": "bench-node"})
        self.batch_size = batch_size
        self.results = {
            item_id: Computed(
                item_id,
                float(rng.normal()),
                rng.random((24, 24), dtype=np.float32),
                None,
                producer=producer,
            )
            for item_id in range(1, count + 1)
        }

    @property
    def device(self) -> str:
        return "cluster"

    def settings(self) -> dict[str, Any]:
        return {"cluster": {"address": "benchmark (precomputed results)"}}

    def batches(self, todo: list[Candidate], cancel: CancelToken) -> Iterator[list[Computed]]:
        ready = [self.results[item_id] for item_id, _, _ in todo]
        for start in range(0, len(ready), self.batch_size):
            if cancel.cancelled:
                return
            yield ready[start : start + self.batch_size]


def writer_rate(detector: LoadedDetector, work: Path, count: int, batch_size: int) -> float:
    """Results/s that the case's one writer stores, results arriving ``batch_size`` at once."""
    path = work / f"writer-{count}-{batch_size}.osc"
    for stale in work.glob(f"{path.name}*"):
        stale.unlink()
    make_case(path, count, np.random.default_rng(batch_size))
    with Case.open(path) as case:
        source = _Precomputed(count, batch_size)
        job = AnalysisJob(case, detector, batch_size=batch_size, heatmaps=True, source=source)
        summary, seconds = _timed(job)
    if summary.analyzed != count:
        raise RuntimeError(f"the writer benchmark stored {summary.analyzed} of {count}")
    return count / seconds


def estimate(
    decode_img_s_core: float,
    mean_file_bytes: float,
    writer_img_s: float,
    *,
    cores: int = DECODE_CORES,
    gpu_img_s: float = GPU_RATE,
    storage_bytes_s: float = STORAGE_BYTES_S,
) -> list[dict[str, Any]]:
    """Images/s, hours for a million images and the limiting stage, for N GPU nodes."""
    rows = []
    for nodes in NODES:
        limits = {
            "GPU": nodes * gpu_img_s,
            "decode": nodes * cores * decode_img_s_core,
            "storage": storage_bytes_s / mean_file_bytes,
            "writer": writer_img_s,
        }
        stage = min(limits, key=lambda name: limits[name])
        rate = limits[stage]
        rows.append(
            {
                "nodes": nodes,
                "img_s": round(rate, 1),
                "hours_per_million": round(MILLION / rate / 3600, 2),
                "bottleneck": stage,
                "limits_img_s": {name: round(value, 1) for name, value in limits.items()},
            }
        )
    return rows


def run(detector: LoadedDetector, work: Path, sizes: Sizes, batch_size: int) -> dict[str, Any]:
    images, written = SIZES[sizes]
    cores = os.cpu_count() or 1
    paths = write_set(work / "camera12mp", images, CAMERA, "JPEG", "camera12mp")
    folder = paths[0].parent
    mean_bytes = statistics.fmean(path.stat().st_size for path in paths)
    decode = decode_rate_one_core(detector, paths[: max(2, min(4, len(paths)))])
    forward = bare_forward_rate(detector, batch_size, batches=2)
    cases = work / f"cluster-cases-{time.time_ns()}"
    cases.mkdir(parents=True)
    with _analysed_case(cases / "local.osc", folder) as case:
        local, seconds = _timed(AnalysisJob(case, detector, batch_size=batch_size, heatmaps=False))
        local_figures = _run_figures(local, seconds, batch_size)
    started = time.perf_counter()
    with loopback_cluster(cpus=cores) as cluster:
        cluster_start_s = time.perf_counter() - started
        config = ClusterConfig(cluster.address, cpus_per_actor=cores)
        source = ClusterSource(config, detector, heatmaps=False, batch_size=batch_size)
        with _analysed_case(cases / "cluster.osc", folder) as case:
            job = AnalysisJob(case, detector, batch_size=batch_size, heatmaps=False, source=source)
            remote, seconds = _timed(job)
            cluster_figures = _run_figures(remote, seconds, batch_size)
    writers = {
        f"batch_{size}": round(writer_rate(detector, cases, written, size), 1)
        for size in WRITER_BATCHES
    }
    # the writer's rate at the run's batch size, else at the cluster's default
    writer = writers.get(f"batch_{batch_size}") or writers[f"batch_{WRITER_BATCHES[0]}"]
    return {
        "cores": cores,
        "images": images,
        "image": f"{CAMERA[0]}x{CAMERA[1]} camera JPEG, mean {mean_bytes / 1e6:.2f} MB",
        "batch_size": batch_size,
        "D_prepare_one_core_img_s": round(decode, 3),
        "F_forward_cpu_img_s": round(forward, 3),
        "model_s_per_image_cpu": round(1 / forward, 3),
        "local": local_figures,
        "loopback_cluster_start_s": round(cluster_start_s, 2),
        "cluster": cluster_figures,
        "cluster_over_local_throughput": round(
            cluster_figures["img_s"] / local_figures["img_s"], 3
        ),
        "writer_results": written,
        "writer_results_per_s": writers,
        "estimate": {
            "decode_cores_per_node": DECODE_CORES,
            "gpu_note": GPU_RATE_NOTE,
            "storage_note": STORAGE_NOTE,
            "rows": estimate(decode, mean_bytes, writer),
        },
    }


def format_report(result: dict[str, Any]) -> str:
    local, cluster = result["local"], result["cluster"]
    lines = [
        f"  images: {result['images']} x {result['image']}, batch {result['batch_size']}, "
        f"{result['cores']} cores, no heatmaps",
        f"  per image, one core: read+check+decode+preprocess (D) "
        f"{result['D_prepare_one_core_img_s']} img/s; model forward on this CPU "
        f"{result['F_forward_cpu_img_s']} img/s ({result['model_s_per_image_cpu']} s/img)",
        f"  local:   {local['img_s']} img/s, first result after {local['first_result_s']} s",
        f"  cluster: {cluster['img_s']} img/s, first result after {cluster['first_result_s']} s "
        f"(loopback head started in {result['loopback_cluster_start_s']} s before the run); "
        f"after the first result {cluster['after_first_result_img_s']} img/s",
        f"  cluster / local throughput: {result['cluster_over_local_throughput']} (one run)",
        "  the one writer: "
        + ", ".join(
            f"{rate} results/s at {name.replace('_', ' ')}"
            for name, rate in result["writer_results_per_s"].items()
        )
        + f" ({result['writer_results']} results with heatmaps)",
        f"  On paper, 1,000,000 images, {result['estimate']['decode_cores_per_node']} decode "
        "cores and one GPU per node:",
        f"    {result['estimate']['gpu_note']}",
        f"    {result['estimate']['storage_note']}",
    ]
    for row in result["estimate"]["rows"]:
        lines.append(
            f"    {row['nodes']:>2} node(s): {row['img_s']} img/s, "
            f"{row['hours_per_million']} h; limited by {row['bottleneck']} "
            f"(limits {row['limits_img_s']})"
        )
    return "\n".join(lines)
