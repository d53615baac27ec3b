"""``bench`` and the GUI benchmark run to their end (tiny sizes: the figures are not
asserted) and leave the user's data folder - model store, settings, signing key - exactly
as it was: a benchmark works in a data folder of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opensight_desktop.cli import main
from tests import checkpoint_factory as cf

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the runs below: generated images and random weights are made once."""
    return tmp_path_factory.mktemp("bench-work")


def user_state(home: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, bytes], str]:
    """Every file of the data folder but the log (the command's own log is written there)
    byte for byte, and what ``model list --full`` prints."""
    files = {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file() and path.relative_to(home).parts[0] != "logs"
    }
    capsys.readouterr()
    main(["model", "list", "--full"])
    return files, capsys.readouterr().out


def install_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Two models in the user's store, the older one active; returns its id."""
    for seed in (1, 2):
        folder = cf.save_hub(cf.random_state(seed), tmp_path / f"hub{seed}")
        assert main(["model", "import", str(folder), "--name", f"model {seed}"]) == 0
    assert main(["model", "use", "model 1"]) == 0  # random weights: active when chosen
    capsys.readouterr()
    settings = json.loads((Path(os.environ["OPENSIGHT_HOME"]) / "settings.json").read_text())
    return settings["active_model"]


def test_report_bench_leaves_an_empty_model_store_empty(work, tmp_path, opensight_home, capsys):
    """With no model installed, the benchmark measures with random weights; they used to be
    imported into the user's store and made active, so that a later ``analyze`` scored
    evidence with them."""
    before = user_state(opensight_home, capsys)
    out = tmp_path / "figures.json"
    args = ["bench", "--suite", "report", "--report-items", "2", "--device", "cpu"]
    assert main([*args, "--work", str(work), "--json", str(out)]) == 0
    assert "random weights" in capsys.readouterr().out
    assert user_state(opensight_home, capsys) == before
    assert not (opensight_home / "models").exists()
    assert json.loads(out.read_text())["report"]["items"] == 2


# The detector's figures take minutes even at tiny sizes on a CPU (a full-size network,
# fresh processes to time start-up and memory): those runs are marked slow.
@pytest.mark.parametrize(
    ("suite", "models", "options"),
    [
        ("import", False, []),
        # starts a loopback-only Ray cluster: about a minute and more on two cores
        pytest.param("cluster", False, [], marks=pytest.mark.slow),
        pytest.param("detector", False, ["--memory-run", "2"], marks=pytest.mark.slow),
        pytest.param(
            "all", True, ["--memory-run", "2", "--report-items", "2"], marks=pytest.mark.slow
        ),
    ],
)
def test_every_bench_suite_runs_to_its_end_and_leaves_the_user_store_alone(
    suite, models, options, work, tmp_path, opensight_home, capsys
):
    if suite == "cluster":
        pytest.importorskip("ray")
    active = install_models(tmp_path, capsys) if models else None
    before = user_state(opensight_home, capsys)
    out = tmp_path / "figures.json"
    args = ["bench", "--suite", suite, "--tiny", "--device", "cpu", "--batch-size", "2"]
    assert main([*args, *options, "--work", str(work), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert user_state(opensight_home, capsys) == before
    figures = json.loads(out.read_text())
    assert figures["sizes"] == "tiny"
    suites = ["import", "detector", "report"] if suite == "all" else [suite]
    assert [s for s in ("import", "detector", "report", "cluster") if s in figures] == suites
    if "import" in suites:
        assert figures["import"]["throughput"] and figures["import"]["memory"]
    if "detector" in suites:
        detector = figures["detector"]
        assert detector["memory"]["analyzed"] == 2
        assert detector["startup_to_first_result_s"] > 0
        assert all(row["images"] == 2 for row in detector["rows"])
    if "cluster" in suites:
        cluster = figures["cluster"]
        assert cluster["local"]["images"] == cluster["cluster"]["images"] == 2
        assert cluster["cluster"]["first_result_s"] > 0
        assert all(rate > 0 for rate in cluster["writer_results_per_s"].values())
        assert [row["nodes"] for row in cluster["estimate"]["rows"]] == [1, 2, 4, 8, 16]
    if models:  # measured with the user's active model (a copy of it)
        assert "Detector benchmark with model 1" in printed
        assert active is not None and figures["detector"]["model"]["sha256"] == active


@pytest.mark.slow
def test_bench_names_a_model_from_the_user_store(work, tmp_path, opensight_home, capsys):
    install_models(tmp_path, capsys)
    before = user_state(opensight_home, capsys)
    out = tmp_path / "figures.json"
    args = ["bench", "--suite", "report", "--report-items", "2", "--model", "model 2"]
    assert main([*args, "--work", str(tmp_path / "w"), "--json", str(out)]) == 0
    assert "Report benchmark with model 2" in capsys.readouterr().out
    assert user_state(opensight_home, capsys) == before


def test_bench_refuses_an_unknown_model_before_measuring(tmp_path, capsys):
    assert main(["bench", "--suite", "detector", "--model", "nope", "--work", str(tmp_path)]) == 2
    assert "no detector model is installed" in capsys.readouterr().err


@pytest.mark.slow
def test_gui_bench_runs_to_its_end_and_leaves_the_user_store_alone(
    work, tmp_path, opensight_home, capsys
):
    install_models(tmp_path, capsys)
    before = user_state(opensight_home, capsys)
    out = tmp_path / "gui.json"
    sizes = ["--images", "2", "--large", "12", "--launch-runs", "1", "--triage-items", "300"]
    files = ["--work", str(work), "--json", str(out)]
    process = subprocess.run(
        [sys.executable, "-m", "opensight_desktop.gui.bench", *sizes, *files],
        env={**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr
    assert user_state(opensight_home, capsys) == before
    figures = json.loads(out.read_text())
    assert figures["launch"]["runs"] == 1
    assert figures["responsiveness"]["analysis"]["status"].startswith("Analysis completed")
    assert figures["large_case"]["items"] == 12
    triage = figures["triage"]
    assert triage["items"] == 300 and triage["stacks"] > 0
    assert triage["shown_with_stacks_collapsed"] < 300
    assert {"open_s", "filter_p95_ms", "sort_p95_ms", "peak_mb"} <= triage.keys()


def test_triage_bench_runs_and_leaves_the_users_hash_sets_alone(
    work, tmp_path, opensight_home, capsys
):
    before = user_state(opensight_home, capsys)
    out = tmp_path / "figures.json"
    args = ["bench", "--suite", "triage", "--tiny", "--work", str(work), "--json", str(out)]
    assert main(args) == 0
    assert "entries/s" in capsys.readouterr().out
    assert user_state(opensight_home, capsys) == before
    assert not (opensight_home / "hashsets").exists()
    triage = json.loads(out.read_text())["triage"]
    assert triage["set_entries"] == 3000 and triage["items_with_hits"] == 100
    assert set(triage["filters"]) and triage["filter_p95_ms"] >= 0


def test_scale_bench_imports_every_file_and_reports_on_the_case(
    work, tmp_path, opensight_home, capsys
):
    before = user_state(opensight_home, capsys)
    out = tmp_path / "figures.json"
    args = ["bench", "--suite", "scale", "--tiny", "--work", str(work), "--json", str(out)]
    assert main(args) == 0
    assert "the hash tools" in capsys.readouterr().out
    assert user_state(opensight_home, capsys) == before
    scale = json.loads(out.read_text())["scale"]
    assert scale["files"] == scale["imported"] == 6 and scale["errors"] == 0
    assert scale["summary_report_pages"] >= 1 and scale["import_ratio"] > 0
