"""Headless command line (contract: docs/CONTRACTS.md section 2).

Exit status: 0 success; 1 completed but some items failed (the summary says which);
2 usage error or unusable input (one line on stderr, never a traceback); 130 interrupted
(Ctrl-C) or cancelled. An internal error (a bug) is logged with its traceback and reported
in one line that says where the log is (exit 2).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from opensight_desktop import APP_NAME, __version__
from opensight_desktop.errors import Cancelled, OpenSightError, UsageError
from opensight_desktop.logs import setup_logging
from opensight_desktop.progress import CancelToken, Progress
from opensight_desktop.textsafe import visible

if TYPE_CHECKING:
    from opensight_desktop.benchmarks.scratch_home import BenchModel, ScratchHome
    from opensight_desktop.benchmarks.sizes import Sizes
    from opensight_desktop.case.store import Case
    from opensight_desktop.detector.store import StoredModel

log = logging.getLogger("opensight_desktop.cli")
T = TypeVar("T")

EXIT_OK, EXIT_ITEMS_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise OpenSightError(message)


def _out(text: str = "") -> None:
    print(text, flush=True)


def _safe(text: str) -> str:
    """Paths may hold newlines, control, bidirectional or zero-width characters: print
    each as ⟨U+XXXX⟩ (textsafe.visible), so the terminal shows the name as it is."""
    return visible(text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return value


def _human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


class _ProgressLine:
    """A self-overwriting progress line on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._width = 0

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        total = f"/{progress.total}" if progress.total else ""
        eta = f", about {progress.eta_s:.0f} s left" if progress.eta_s else ""
        line = f"{progress.job}: {progress.done}{total} ({progress.rate:.1f}/s{eta})"
        self._width = max(self._width, len(line))
        sys.stderr.write("\r" + line.ljust(self._width))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()


def _open_case(path: str, must_write: str | None = None) -> Case:
    """Open a case; warn on stderr when it is read-only and why; refuse ``must_write``."""
    from opensight_desktop.case.store import Case

    case = Case.open(path)
    try:
        if must_write is not None:
            case.require_writable(must_write)
    except BaseException:
        case.close()
        raise
    for line in case.notices():
        print(f"{APP_NAME}: warning: {_safe(line)}", file=sys.stderr)
    return case


# -- commands ----------------------------------------------------------------------------


def cmd_case_new(args: argparse.Namespace) -> int:
    from opensight_desktop.case.store import Case

    offset = None
    if args.utc_offset is not None:
        offset = _parse_offset(args.utc_offset)
    with Case.create(
        args.case,
        number=args.number,
        title=args.title,
        examiner=args.examiner,
        agency=args.agency,
        description=args.description,
        tz_name=args.timezone,
        tz_offset_minutes=offset,
    ) as case:
        _out(f"Created case {case.summary().number} in {_safe(str(case.path))}")
    return EXIT_OK


def _parse_offset(text: str) -> int:
    import re

    match = re.fullmatch(r"(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?", text.strip())
    if not match:
        raise OpenSightError(f"--utc-offset must look like +02:00 or -05:30, not {text!r}")
    sign = 1 if match.group(1) == "+" else -1
    minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
    if minutes > 14 * 60:
        raise OpenSightError(f"--utc-offset out of range: {text}")
    return sign * minutes


def cmd_case_info(args: argparse.Namespace) -> int:
    from opensight_desktop.case.store import Case
    from opensight_desktop.timeutil import fixed_zone, format_offset, iso_seconds

    with Case.open(args.case) as case:
        s = case.summary()
        if case.upgraded:
            _out(
                f"(case file upgraded from schema {case.upgraded.from_revision} to "
                f"{case.upgraded.to_revision}; backup copy: {case.upgraded.backup})"
            )
        local = s.created_utc.astimezone(fixed_zone(s.tz_offset_minutes))
        rows = [
            ("Case number", s.number),
            ("Title", s.title),
            ("Examiner", s.examiner),
            ("Agency", s.agency or "-"),
            ("Description", s.description or "-"),
            (
                "Created",
                f"{iso_seconds(local)} ({s.tz_name}, {format_offset(s.tz_offset_minutes)})",
            ),
            ("Case file", str(s.path)),
            ("Schema version", s.schema_revision),
            (
                "Schema check",
                f"{len(case.schema_differences)} object(s) not as OpenSight creates them "
                f"(`{APP_NAME} case repair CASE` removes them after a backup copy)"
                if case.schema_differences
                else "as OpenSight creates it",
            ),
            *[("  " + d.kind, d.describe()) for d in case.schema_differences],
            (
                "Access",
                f"read-only: {case.read_only_reason}" if case.read_only else "read and write",
            ),
            ("Evidence items", str(s.items)),
            *[(f"  {status}", str(count)) for status, count in sorted(s.items_by_status.items())],
            ("Evidence files", f"{s.files} (including exact duplicates)"),
            ("Import sessions", str(s.import_sessions)),
            ("Detector results", str(s.detection_results)),
            ("Audit log entries", str(s.audit_entries)),
        ]
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            _out(f"{label.ljust(width)}  {_safe(value)}")
    return EXIT_OK


def cmd_case_repair(args: argparse.Namespace) -> int:
    from opensight_desktop.case.store import Case

    result = Case.repair(args.case)
    if not result.changed:
        _out(f"Nothing to repair: the schema of {_safe(str(result.path))} is OpenSight's own.")
        return EXIT_OK
    _out(f"Repaired the schema of {_safe(str(result.path))}")
    _out(f"  backup copy made first: {_safe(str(result.backup))}")
    for difference in result.removed:
        _out(f"  removed: {_safe(difference.describe())}")
    for difference in result.restored:
        _out(f"  restored as OpenSight creates it: {difference.type} {_safe(difference.name)}")
    if result.upgraded_from:
        _out(f"  upgraded from schema {result.upgraded_from}")
    _out("Recorded in the case's audit log, with the SQL of every object removed.")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from opensight_desktop.pipeline.import_job import ImportJob

    line = _ProgressLine()
    with _open_case(args.case, must_write="import into it") as case:
        number = case.summary().number
        job = ImportJob(
            case, args.paths, recursive=not args.no_recursive, workers=args.workers, progress=line
        )
        try:
            summary = job.run()
        finally:
            line.close()
    _out(
        f"Import into case {_safe(number)}: {summary.state} in {summary.elapsed_s:.1f} s "
        f"(session {summary.session_id})"
    )
    rows = [
        ("files examined", summary.files_seen, f"{_human_bytes(summary.bytes_read)} hashed"),
        ("new items", summary.imported, "hashed (MD5, SHA-1, SHA-256), decoded, thumbnailed"),
        ("duplicates", summary.duplicates, "same SHA-256 as an item already in the case"),
        ("already in case", summary.already_present, "same path, size and time as before"),
        ("skipped", summary.skipped, ""),
        ("errors", summary.errors, "recorded as items with status 'error'"),
    ]
    for label, count, note in rows:
        _out(f"  {label:<16}{count:>7}   {note}".rstrip())
        if label == "skipped":
            for reason, n in summary.skip_reasons.most_common():
                _out(f"      {n:>6} x {_safe(reason)}")
        if label == "errors":
            for path, reason in summary.error_examples:
                _out(f"      {_safe(path)}: {_safe(reason)}")
            hidden = summary.errors - len(summary.error_examples)
            if hidden > 0:
                _out(f"      ... and {hidden} more (see `export` for all)")
    return EXIT_ITEMS_FAILED if summary.errors else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from opensight_desktop.report.export import export_case

    with _open_case(args.case) as case:
        count = export_case(case, args.format, args.output)
        recorded = not case.read_only
    _out(f"Exported {count} items as {args.format.upper()} to {_safe(str(Path(args.output)))}")
    if not recorded:
        _out("(not recorded in the case's audit log: the case is open read-only)")
    return EXIT_OK


def cmd_hashset_import(args: argparse.Namespace) -> int:
    from opensight_desktop.hashsets.store import import_set

    def progress(entries: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\rhash set: {entries:,} entries read")
            sys.stderr.flush()

    info = import_set(args.path, args.name, args.kind, args.format, progress)
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 40 + "\r")
    _out(
        f"Imported hash set {_safe(info.name)} ({info.kind}, {info.format}): "
        f"{info.entries:,} entries, {info.hashes:,} hashes"
    )
    _out(f"  source {_safe(info.source_name)}, SHA-256 {info.source_sha256}")
    _out("  cases are matched against it at import and by `match CASE`")
    return EXIT_OK


def cmd_hashset_list(args: argparse.Namespace) -> int:
    from opensight_desktop.hashsets.store import list_sets

    sets = list_sets()
    if not sets:
        _out("No hash sets (add one with `hashset import PATH --name NAME --kind known|alert`).")
        return EXIT_OK
    for info in sets:
        _out(
            f"{_safe(info.name)}  {info.kind}  {info.format}  {info.entries:,} entries  "
            f"imported {info.imported_utc}  source SHA-256 {info.source_sha256}"
        )
    return EXIT_OK


def cmd_hashset_remove(args: argparse.Namespace) -> int:
    from opensight_desktop.hashsets.store import remove_set

    info = remove_set(args.name)
    _out(
        f"Removed hash set {_safe(info.name)} ({info.kind}, {info.entries:,} entries). Cases "
        "keep the hits they recorded until `match CASE`."
    )
    return EXIT_OK


def cmd_match(args: argparse.Namespace) -> int:
    from opensight_desktop.pipeline.match_job import MatchJob

    line = _ProgressLine()
    with _open_case(args.case, must_write="match it against hash sets") as case:
        try:
            summary = MatchJob(case, progress=line).run()
        finally:
            line.close()
    if summary.phash_added or summary.phash_failed:
        _out(
            f"Perceptual hashes: {summary.phash_added} computed from the originals "
            f"(hash-checked), {summary.phash_failed} could not be"
        )
        for item_id, reason in summary.failures:
            _out(f"  item {item_id}: {_safe(reason)}")
    if summary.cancelled:
        _out("Stopped before matching; what was done is saved.")
        return EXIT_INTERRUPTED
    names = ", ".join(f"{_safe(s.name)} ({s.kind}, {s.entries:,} entries)" for s in summary.sets)
    _out(f"Matched {summary.items} items against {len(summary.sets)} hash sets: {names or 'none'}")
    _out(
        f"  {summary.items_with_hits} items in a set; {summary.changed} items' hits changed "
        f"({summary.seconds:.1f} s)"
    )
    return EXIT_ITEMS_FAILED if summary.phash_failed else EXIT_OK


def cmd_vics_import(args: argparse.Namespace) -> int:
    from opensight_desktop.case.vics_import import import_vics

    with _open_case(args.case, must_write="import VICS categories into it") as case:
        summary = import_vics(case, args.file)
    _out(
        f"VICS file {_safe(str(args.file))} (SHA-256 {summary.sha256}): {summary.records} "
        f"records, {summary.matched_records} matched items of the case by MD5 or SHA-1, "
        f"{summary.unmatched_records} did not"
    )
    _out(f"  {summary.items} items matched; {summary.changed} got a new category or tags")
    for category, count in sorted(summary.categories.items()):
        _out(f"  category {category}: {count} items")
    if summary.bad_categories:
        _out(f"  {summary.bad_categories} records had a category that is not 0-99 (ignored)")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from opensight_desktop.case.integrity import describe, verify_case

    line = _ProgressLine()
    with _open_case(args.case) as case:
        try:
            report = verify_case(case, progress=line)
        finally:
            line.close()
    for text in describe(report):
        _out(_safe(text))
    return EXIT_OK if report.ok else EXIT_ITEMS_FAILED


def cmd_key(args: argparse.Namespace) -> int:
    from opensight_desktop.case import audit, signing

    signer = signing.local_signer()
    _out(f"Signing key of {_safe(audit.current_user())} on {_safe(audit.current_host())}:")
    _out(f"  fingerprint {signer.fingerprint}")
    _out(f"  public key  {signer.public_key}")
    _out(f"  file        {_safe(str(signer.path))} (keep it private; anyone with it can sign)")
    return EXIT_OK


def _model_line(model: StoredModel) -> str:
    from opensight_desktop import present

    return f"{model.name} [{model.format}] sha256 {model.id} ({present.release_text(model.id)})"


def _warn_if_unpublished(model: StoredModel) -> None:
    """The one warning for weights that are no published release (stderr)."""
    from opensight_desktop import present

    if present.is_unpublished(model.id):
        print(f"{APP_NAME}: warning: {present.UNPUBLISHED_WEIGHTS}", file=sys.stderr)


def _report_model_import(model: StoredModel, created: bool) -> int:
    from opensight_desktop import present
    from opensight_desktop.detector.store import ModelStore

    _out(
        ("Imported model " if created else "Already in the model store: ")
        + _safe(_model_line(model))
    )
    _warn_if_unpublished(model)
    for note in model.notes:
        _out(f"  note: {note}")
    active = ModelStore().active()
    if active is not None and active.id == model.id:
        _out("  it is the active model")
    elif present.is_unpublished(model.id):
        _out(
            "  not made the active model (its weights are no published release); "
            f"`{APP_NAME} model use {model.id[:16]}` makes it so"
        )
    else:
        _out(f"  not the active model; `{APP_NAME} model use {model.id[:16]}` makes it so")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
    from opensight_desktop.timeutil import parse_iso, utc_now

    try:
        generated = parse_iso(args.generated_at) if args.generated_at else utc_now()
    except ValueError as exc:
        raise OpenSightError(f"--generated-at must be an ISO 8601 time: {exc}") from exc
    items = None
    if args.items is not None:
        try:
            items = [int(part) for part in args.items.replace(" ", "").split(",") if part]
        except ValueError as exc:
            raise OpenSightError("--items takes item ids separated by commas") from exc
        if not items:
            raise OpenSightError("--items needs at least one item id, e.g. --items 3,7,12")
    states = None
    if args.review_state is not None:
        states = [part for part in args.review_state.replace(" ", "").split(",") if part]
    # --items alone: the selection (as before); with another scope it narrows that scope
    scope = "selected" if items and args.scope == "all" else args.scope
    options = ReportOptions(
        scope=scope,
        item_ids=items,
        audit_appendix=not args.no_audit_log,
        generated_at=generated,
        review_states=states,
    )
    cancel = CancelToken()
    line = _ProgressLine()
    with _open_case(args.case) as case:
        builder = ReportBuilder(case, options, progress=line, cancel=cancel)
        try:
            result = _run_in_background(lambda: builder.write(args.output), cancel, "report")
        finally:
            line.close()
        recorded = not case.read_only
    _out(f"Report written: {_safe(str(result.path))} ({result.pages} pages, {result.items} items)")
    _out(
        f"SHA-256 {result.sha256} "
        + (
            "(recorded in the case's audit log)"
            if recorded
            else "(not recorded in the case's audit log: the case is open read-only)"
        )
    )
    for finding in result.findings[:5]:
        print(f"{APP_NAME}: warning: {_safe(finding)}", file=sys.stderr)
    if len(result.findings) > 5:
        print(
            f"{APP_NAME}: warning: {len(result.findings) - 5} more findings; the report "
            "lists them all in its Integrity section",
            file=sys.stderr,
        )
    if not result.integrity_ok:
        print(
            f"{APP_NAME}: warning: the integrity check found problems; the report says which",
            file=sys.stderr,
        )
    return EXIT_ITEMS_FAILED if result.findings or not result.integrity_ok else EXIT_OK


def cmd_verify_report(args: argparse.Namespace) -> int:
    from opensight_desktop.report.verification import describe, verify_report

    with _open_case(args.case) as case:
        check = verify_report(case, args.report)
    for text in describe(check):
        _out(_safe(text))
    return EXIT_OK if check.ok else EXIT_ITEMS_FAILED


def cmd_model_import(args: argparse.Namespace) -> int:
    from opensight_desktop.detector.store import ModelStore

    model, created = ModelStore().import_path(args.path, name=args.name)
    return _report_model_import(model, created)


def cmd_model_download(args: argparse.Namespace) -> int:
    from opensight_desktop.detector.store import ModelStore

    _out("Downloading (this is the only command that uses the network)...")
    model, created = ModelStore().download(args.repo, args.revision)
    return _report_model_import(model, created)


def cmd_model_list(args: argparse.Namespace) -> int:
    from opensight_desktop import present
    from opensight_desktop.detector.store import ModelStore

    store = ModelStore()
    models = store.list()
    if not models:
        from opensight_desktop.detector.store import NO_MODEL_HELP

        _out(NO_MODEL_HELP[0].upper() + NO_MODEL_HELP[1:])
        return EXIT_OK
    active = store.active()
    for model in models:
        marker = "*" if active is not None and model.id == active.id else " "
        _out(
            f"{marker} {model.id[:16]}  {_safe(model.name)}  [{model.format}]  imported "
            f"{model.imported_utc[:19]}Z  {_safe(present.release_text(model.id))}"
        )
    if active is None:
        _out(f"(no active model: choose one with `{APP_NAME} model use ID`)")
    if any(present.is_unpublished(model.id) for model in models):
        _out(
            "(weights that match no published Community Forensics release: the published "
            "accuracy figures do not apply to them)"
        )
    _out("(* = active model; full ids with `model list --full`)" if not args.full else "")
    if args.full:
        for model in models:
            _out(f"{model.id}  {_safe(model.name)}  source: {_safe(model.source)}")
    return EXIT_OK


def cmd_model_use(args: argparse.Namespace) -> int:
    from opensight_desktop.detector.store import ModelStore

    store = ModelStore()
    model = store.find(args.model)
    store.set_active(model)
    _out("Active model: " + _safe(_model_line(model)))
    _warn_if_unpublished(model)
    return EXIT_OK


def _run_in_background(job_run: Callable[[], T], cancel: CancelToken, name: str) -> T:
    """Run a job on the engine's worker thread; Ctrl-C cancels it cleanly. A job that
    answers the cancel by raising Cancelled (a report) ends with that; one that keeps
    what it finished (an analysis) ends with the KeyboardInterrupt."""
    from opensight_desktop.worker import BackgroundJob

    worker = BackgroundJob(job_run, name=f"opensight-{name}").start()
    try:
        while not worker.join(0.2):
            pass
    except KeyboardInterrupt:
        cancel.cancel()
        worker.join()
        if isinstance(worker.error, Cancelled):
            raise worker.error from None
        raise
    return worker.outcome()


def _cluster_config(args: argparse.Namespace) -> Any:
    """The ClusterConfig that --cluster and --path-map ask for, or None (a local run)."""
    if not args.cluster:
        if args.path_map:
            raise UsageError("--path-map translates paths for --cluster: give both")
        return None
    from opensight_desktop.cluster_config import ClusterConfig, PathMap, require_ray

    require_ray()
    return ClusterConfig(args.cluster, PathMap.parse(args.path_map or []))


def cmd_analyze(args: argparse.Namespace) -> int:
    from opensight_desktop import present
    from opensight_desktop.detector.store import ModelStore
    from opensight_desktop.detector.verdict import VERDICTS
    from opensight_desktop.settings import load_settings

    cluster = _cluster_config(args)
    settings = load_settings()
    store = ModelStore()
    model = store.resolve(args.model)
    if args.batch_size is not None and not 1 <= args.batch_size <= 512:
        raise OpenSightError("--batch-size must be between 1 and 512")
    with _open_case(args.case, must_write="analyse it") as case:
        number = case.summary().number
        from opensight_desktop.pipeline.analyze_job import AnalysisJob, ResultSource

        # on a cluster the nodes score; here the detector only names and checks the model
        detector = store.load(model, "cpu" if cluster else args.device or settings.device)
        heatmaps = settings.heatmaps and not args.no_heatmap
        batch = args.batch_size or settings.batch_size
        record = detector.record()
        where = f"the Ray cluster at {cluster.address}" if cluster else record["device_description"]
        _out(
            f"Case {_safe(number)}: analysing with {_safe(model.name)} (sha256 {model.id[:16]}..., "
            f"{_safe(present.release_text(model.id))}) on {_safe(where)}, "
            f"batch {batch}, heatmaps {'on' if heatmaps else 'off'}"
        )
        source: ResultSource | None = None
        if cluster:
            from opensight_desktop.pipeline.cluster.source import ClusterSource

            source = ClusterSource(cluster, detector, heatmaps=heatmaps, batch_size=batch)
        _warn_if_unpublished(model)
        cancel = CancelToken()
        line = _ProgressLine()
        job = AnalysisJob(
            case,
            detector,
            bands=settings.bands(),
            batch_size=batch,
            heatmaps=heatmaps,
            progress=line,
            cancel=cancel,
            source=source,
        )
        try:
            summary = _run_in_background(job.run, cancel, "analysis")
        finally:
            line.close()
    if summary.total == 0:
        _out("Nothing to analyse: every importable item already has a result from this model.")
        return EXIT_OK
    rate = summary.analyzed / summary.elapsed_s if summary.elapsed_s else 0.0
    _out(
        f"Analysis {summary.state} in {summary.elapsed_s:.1f} s ({rate:.2f} images/s): "
        f"{summary.analyzed} analysed, {summary.errors} errors, of {summary.total}"
    )
    for verdict in VERDICTS:
        _out(f"  {present.verdict_label(verdict):<18}{summary.verdicts.get(verdict, 0):>7}")
    if summary.errors:
        _out("  errors:")
        for item_id, reason in summary.error_examples:
            _out(f"    item {item_id}: {_safe(reason)}")
    if summary.stopped:
        print(f"{APP_NAME}: the analysis stopped: {summary.stopped}", file=sys.stderr)
    _out(
        "Scores are the detector's probability that an image is AI-generated: an indication "
        "to weigh with other evidence, not proof."
    )
    return EXIT_ITEMS_FAILED if summary.errors else EXIT_OK


def cmd_tile_scan(args: argparse.Namespace) -> int:
    from opensight_desktop import present
    from opensight_desktop.detector.store import ModelStore
    from opensight_desktop.pipeline.tile_scan_job import TileScanJob
    from opensight_desktop.settings import load_settings

    settings = load_settings()
    store = ModelStore()
    model = store.resolve(args.model)
    with _open_case(args.case, must_write="record a tile scan in it") as case:
        detector = store.load(model, args.device or settings.device)
        cancel = CancelToken()
        line = _ProgressLine()
        job = TileScanJob(
            case, detector, args.item, stride=args.stride, progress=line, cancel=cancel
        )
        try:
            result = _run_in_background(job.run, cancel, "tile-scan")
        finally:
            line.close()
    _out(
        f"Tile scan of item {args.item}: {len(result.tiles)} tiles of {result.tile_size} px, "
        f"stride {result.stride}; highest P(generated) "
        f"{present.probability_text(result.highest)}, "
        f"lowest {present.probability_text(result.lowest)}"
    )
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    import json
    import tempfile

    from opensight_desktop.benchmarks.scratch_home import scratch_home

    work = Path(args.work) if args.work else Path(tempfile.gettempdir()) / "opensight-bench"
    sizes: Sizes = "tiny" if args.tiny else "quick" if args.quick else "full"
    results: dict[str, object] = {"sizes": sizes}
    # The user's settings and model are read here; all else happens in a data folder of
    # the benchmark's own (their model store, settings and signing key stay as they are).
    with scratch_home(work, args.model) as home:
        if args.suite in ("import", "all"):
            from opensight_desktop.benchmarks import import_bench

            _out(f"Import benchmark (generated images are cached in {work})...")
            report = import_bench.run(work, sizes)
            results["import"] = report
            _out(import_bench.format_report(report))
        if args.suite in ("detector", "all"):
            results["detector"] = _bench_detector(args, work, sizes, home)
        if args.suite in ("report", "all"):
            results["report"] = _bench_report(args, work, home)
        if args.suite in ("triage", "all"):
            from opensight_desktop.benchmarks import triage_bench

            _out("Triage benchmark (hash-set import and match, grouping, filters)...")
            results["triage"] = triage_bench.run(work, sizes)
            _out(triage_bench.format_report(results["triage"]))  # type: ignore[arg-type]
        if args.suite == "scale":  # not in "all": the full run writes and imports 100,000 files
            from opensight_desktop.benchmarks import scale_bench

            _out(f"Scale benchmark (generated images are cached in {work})...")
            scale = scale_bench.run(work, sizes)
            results["scale"] = scale
            _out(scale_bench.format_report(scale))
        if args.suite == "cluster":  # not in "all": it needs the cluster extra (Ray)
            results["cluster"] = _bench_cluster(args, work, sizes, home)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return EXIT_OK


def _bench_model(home: ScratchHome) -> BenchModel:
    """The model to measure with: the one named, the user's active one, else random weights
    (throughput does not depend on the weights' values: random ones measure the same)."""
    bench = home.model()
    if bench.random:
        _out("No model installed: measuring with random weights (same cost as real ones).")
    return bench


def _bench_report(args: argparse.Namespace, work: Path, home: ScratchHome) -> dict[str, object]:
    from opensight_desktop.benchmarks import report_bench
    from opensight_desktop.settings import load_settings

    bench = _bench_model(home)
    _out(
        f"Report benchmark with {_safe(bench.model.name)}: {args.report_items} analysed items "
        f"(made once, cached in {work})..."
    )
    result = report_bench.run(
        work, args.report_items, bench.model.id, args.device or load_settings().device
    )
    _out(
        f"  {result['items']}-item report: {result['seconds']} s, {result['pages']} pages, "
        f"{result['bytes'] / 1e6:.1f} MB, peak RSS {result['peak_rss_mb']} MB"
    )
    return {**result, "model": bench.record()}


def _bench_detector(
    args: argparse.Namespace, work: Path, sizes: Sizes, home: ScratchHome
) -> dict[str, object]:
    from opensight_desktop.benchmarks import detector_bench
    from opensight_desktop.settings import load_settings

    bench = _bench_model(home)
    model = bench.model
    detector = bench.store.load(model, args.device or load_settings().device)
    batch = args.batch_size or load_settings().batch_size
    _out(
        f"Detector benchmark with {_safe(model.name)} on "
        f"{detector.record()['device_description']}..."
    )
    result = detector_bench.run(
        detector, Path(args.images) if args.images else work, batch, sizes, model.id
    )
    result["model"] = bench.record()
    _out(detector_bench.format_report(result))
    if args.memory_run:
        _out(f"Memory over a {args.memory_run}-image analysis (640x480 JPEGs, heatmaps on)...")
        memory = detector_bench.memory_run(model.id, detector.device_label, work, args.memory_run)
        result["memory"] = memory
        _out(
            f"  peak RSS {memory['peak_rss_mb']} MB; RSS (MB) by images done: "
            + ", ".join(f"{done}: {mb}" for done, mb in memory["samples"])
        )
    return result


def _bench_cluster(
    args: argparse.Namespace, work: Path, sizes: Sizes, home: ScratchHome
) -> dict[str, object]:
    from opensight_desktop.benchmarks import cluster_bench
    from opensight_desktop.cluster_config import require_ray

    require_ray()
    bench = _bench_model(home)
    detector = bench.store.load(bench.model, "cpu")  # the loopback cluster has no GPU
    batch = args.batch_size or 8
    _out(
        f"Cluster benchmark with {_safe(bench.model.name)}: local run vs a one-node Ray "
        "cluster on 127.0.0.1, the writer's rate, and the million-image estimate..."
    )
    result = cluster_bench.run(detector, work, sizes, batch)
    result["model"] = bench.record()
    _out(cluster_bench.format_report(result))
    return result


# -- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from opensight_desktop.case.states import REVIEW_STATES

    parser = _Parser(
        prog=APP_NAME,
        description="OpenSight Desktop: image-forensics case tool. "
        "Run with no arguments (or `gui [CASE]`) for the desktop application.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    case = commands.add_parser("case", help="create a case or show what it holds")
    case_commands = case.add_subparsers(dest="case_command", metavar="ACTION", parser_class=_Parser)
    new = case_commands.add_parser("new", help="create a new case file")
    new.add_argument("case", metavar="CASE", help="path of the case file to create")
    new.add_argument("--number", required=True, help="case number")
    new.add_argument("--title", required=True)
    new.add_argument("--examiner", required=True)
    new.add_argument("--agency", default="")
    new.add_argument("--description", default="")
    new.add_argument("--timezone", help="examiner's time-zone name (default: this machine's)")
    new.add_argument(
        "--utc-offset", help="examiner's UTC offset, e.g. +01:00 (default: this machine's)"
    )
    new.set_defaults(handler=cmd_case_new)
    info = case_commands.add_parser("info", help="show the case and its counts")
    info.add_argument("case", metavar="CASE")
    info.set_defaults(handler=cmd_case_info)
    repair = case_commands.add_parser(
        "repair",
        help="remove schema objects (triggers, views, ...) OpenSight did not create, "
        "after a backup copy; audit-logged",
    )
    repair.add_argument("case", metavar="CASE")
    repair.set_defaults(handler=cmd_case_repair)

    imp = commands.add_parser("import", help="import image files and folders as evidence")
    imp.add_argument("case", metavar="CASE")
    imp.add_argument("paths", metavar="PATH", nargs="+")
    imp.add_argument(
        "--no-recursive",
        action="store_true",
        help="only the files directly inside the given folders",
    )
    imp.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    imp.set_defaults(handler=cmd_import)

    rep = commands.add_parser("report", help="write the PDF case report")
    rep.add_argument("case", metavar="CASE")
    rep.add_argument("-o", "--output", required=True, metavar="REPORT.pdf")
    rep.add_argument(
        "--scope",
        choices=["all", "flagged", "reviewed", "summary"],
        default="all",
        help="all items (default), only items with metadata flags, only items the examiner "
        "reviewed, or a summary without item pages (its table lists every item)",
    )
    rep.add_argument(
        "--items", metavar="IDS", help="only these items, e.g. 3,7,12 (with --scope: of them)"
    )
    rep.add_argument(
        "--review-state",
        metavar="STATE[,STATE]",
        help="only items in these review states: " + ", ".join(REVIEW_STATES),
    )
    rep.add_argument("--no-audit-log", action="store_true", help="leave out the audit appendix")
    rep.add_argument(
        "--generated-at",
        metavar="TIME",
        help="generation time (ISO 8601; "
        "default now). The same case, options and time give identical bytes",
    )
    rep.set_defaults(handler=cmd_report)

    vrep = commands.add_parser(
        "verify-report",
        help="is this PDF, byte for byte, a report recorded in the case's intact, signed "
        "audit log? (exit 0: yes; 1: no, and why)",
    )
    vrep.add_argument("case", metavar="CASE")
    vrep.add_argument("report", metavar="REPORT.pdf")
    vrep.set_defaults(handler=cmd_verify_report)

    exp = commands.add_parser(
        "export",
        help="export the case as JSON or CSV, as VICS JSON 2.0 (Project VIC), or its "
        "located items as KML or GeoJSON",
    )
    exp.add_argument("case", metavar="CASE")
    exp.add_argument("--format", required=True, choices=["json", "csv", "vics", "kml", "geojson"])
    exp.add_argument("-o", "--output", required=True, metavar="OUT")
    exp.set_defaults(handler=cmd_export)

    hs = commands.add_parser("hashset", help="hash sets shared by all cases (NSRL, VICS, lists)")
    hs_commands = hs.add_subparsers(dest="hashset_command", metavar="ACTION", parser_class=_Parser)
    hsi = hs_commands.add_parser("import", help="add a hash set to the data directory")
    hsi.add_argument("path", metavar="PATH")
    hsi.add_argument("--name", required=True)
    hsi.add_argument(
        "--kind",
        required=True,
        choices=["known", "alert"],
        help="known: files to set aside (e.g. NSRL); alert: files that matter",
    )
    hsi.add_argument("--format", default="auto", choices=["auto", "nsrl", "vics", "list", "csv"])
    hsi.set_defaults(handler=cmd_hashset_import)
    hsl = hs_commands.add_parser("list", help="the hash sets and their sources")
    hsl.set_defaults(handler=cmd_hashset_list)
    hsr = hs_commands.add_parser("remove", help="remove a hash set from the data directory")
    hsr.add_argument("name", metavar="NAME")
    hsr.set_defaults(handler=cmd_hashset_remove)

    mat = commands.add_parser(
        "match",
        help="(re)match every item against every hash set; perceptual hashes for items "
        "imported before them",
    )
    mat.add_argument("case", metavar="CASE")
    mat.set_defaults(handler=cmd_match)

    vim = commands.add_parser(
        "vics-import",
        help="set categories and tags on items from a VICS JSON file (matched by MD5/SHA-1)",
    )
    vim.add_argument("case", metavar="CASE")
    vim.add_argument("file", metavar="FILE")
    vim.set_defaults(handler=cmd_vics_import)

    ver = commands.add_parser(
        "verify", help="re-hash evidence, check the signed audit chain, replay it against the case"
    )
    ver.add_argument("case", metavar="CASE")
    ver.set_defaults(handler=cmd_verify)

    key = commands.add_parser(
        "key", help="show this examiner's signing key (made on first use) to confirm fingerprints"
    )
    key.set_defaults(handler=cmd_key)

    ana = commands.add_parser("analyze", help="run the detector over the case's images")
    ana.add_argument("case", metavar="CASE")
    ana.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default=None,
        help="default: the setting (auto = CUDA when present)",
    )
    ana.add_argument("--batch-size", type=int, default=None)
    ana.add_argument("--no-heatmap", action="store_true", help="scores only, no heatmaps")
    ana.add_argument(
        "--model", metavar="ID", help="model id, id prefix or name (default: the active model)"
    )
    ana.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="analyse on the Ray cluster whose head is at ADDRESS (HOST:PORT); results are "
        "written here. Needs opensight-desktop[cluster]",
    )
    ana.add_argument(
        "--path-map",
        metavar="LOCAL=REMOTE",
        action="append",
        help="with --cluster: evidence under the folder LOCAL here is under REMOTE on the "
        "nodes (repeatable; the longest matching LOCAL applies)",
    )
    ana.set_defaults(handler=cmd_analyze)

    tile = commands.add_parser(
        "tile-scan", help="score 384-px tiles across one image at full resolution"
    )
    tile.add_argument("case", metavar="CASE")
    tile.add_argument("item", metavar="ITEM", type=int, help="item id (see export)")
    tile.add_argument(
        "--stride", type=int, default=None, help="pixels between tiles (default: 384, no overlap)"
    )
    tile.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    tile.add_argument("--model", metavar="ID")
    tile.set_defaults(handler=cmd_tile_scan)

    mod = commands.add_parser("model", help="install and choose detector weights")
    model_commands = mod.add_subparsers(
        dest="model_command", metavar="ACTION", parser_class=_Parser
    )
    mimp = model_commands.add_parser("import", help="copy a checkpoint into the model store")
    mimp.add_argument("path", metavar="PATH", help="weights file or model folder")
    mimp.add_argument("--name")
    mimp.set_defaults(handler=cmd_model_import)
    mdl = model_commands.add_parser(
        "download", help="fetch weights from the Hugging Face Hub (needs internet; only when asked)"
    )
    mdl.add_argument("--repo", help="default: OwensLab/commfor-model-384 (the authors')")
    mdl.add_argument("--revision", help="branch, tag or commit (default: pinned in the app)")
    mdl.set_defaults(handler=cmd_model_download)
    mls = model_commands.add_parser("list", help="installed models; * marks the active one")
    mls.add_argument("--full", action="store_true", help="full ids and sources")
    mls.set_defaults(handler=cmd_model_list)
    muse = model_commands.add_parser("use", help="make a model the active one")
    muse.add_argument("model", metavar="ID")
    muse.set_defaults(handler=cmd_model_use)

    bench = commands.add_parser("bench", help="measure throughput and memory on this machine")
    bench.add_argument(
        "--suite",
        choices=["import", "detector", "report", "triage", "scale", "cluster", "all"],
        default="all",
        help="all: every suite but scale (100,000 files) and cluster (which needs "
        "opensight-desktop[cluster] and starts a Ray cluster on 127.0.0.1)",
    )
    bench.add_argument(
        "--report-items",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="size of the analysed case the report benchmark uses",
    )
    bench.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    bench.add_argument(
        "--images",
        metavar="DIR",
        help="detector sets from this folder "
        "(camera12mp/ and png1mp/ subfolders are made there if missing)",
    )
    bench.add_argument("--batch-size", type=int, default=None)
    bench.add_argument(
        "--model",
        metavar="ID",
        help="default: the active model, else random weights (either way measured on a "
        "copy in a temporary model store; yours is not changed)",
    )
    bench.add_argument(
        "--memory-run",
        type=_positive_int,
        metavar="N",
        help="detector: also measure peak memory over an N-image analysis",
    )
    bench.add_argument("--work", metavar="DIR", help="where generated images are cached")
    bench.add_argument("--quick", action="store_true", help="small sets (a smoke run)")
    # the fewest files that take every step: for the tests (its figures mean nothing)
    bench.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    bench.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    bench.set_defaults(handler=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    log_file = setup_logging()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(args_list)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return handler(args)
    except Cancelled as exc:  # the user stopped it: no error
        print(f"{APP_NAME}: {_safe(str(exc))}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OpenSightError as exc:
        print(f"{APP_NAME}: error: {_safe(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            f"{APP_NAME}: interrupted; what was finished is saved, run the command again "
            "to continue",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        log.exception("unexpected error running %s", args_list)
        where = f" Details are in {log_file}." if log_file else ""
        print(
            f"{APP_NAME}: internal error: {type(exc).__name__}: {_safe(str(exc))}.{where}",
            file=sys.stderr,
        )
        return EXIT_USAGE
