"""The model store: imported checkpoints, content-addressed by the SHA-256 of their weights.

``$OPENSIGHT_HOME/models/<sha256>/`` holds the files exactly as imported (so their hashes
can be checked against published ones at any time) and ``manifest.json`` with the name,
format, source, hashes and whether the weights match a published hash. The active model
is a setting: weights that match a published release become active when no model is;
any others only when chosen (`model use`, the model manager). Only
:meth:`ModelStore.download` may touch the network, and only when asked.

Identity. The weights' SHA-256 is the model's id (``model_sha256`` in results and exports).
Configuration files change scores too (a ``config.json`` edited after import changed every
score while the weights hash stayed the same), so the manifest lists every file that
affects a score - name -> SHA-256 (``files``) and size (``file_sizes``) - and one identity
digest over them (``identity_sha256``, see ``model_files``). Loading re-hashes each file as
it is read and refuses, naming the file, one that changed, is missing, or was added to the
folder; results record the identity digest. The store holds one set of files per weights
hash: importing the same weights with other configuration files is refused.

Stores made before identities existed already list each file's SHA-256 as imported
(``files``), only without sizes and the digest: they are checked the same way and their
identity is computed from those recorded hashes, so their state at import is known.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensight_desktop.detector.model_files import (
    ModelFileChanged,
    identity_digest,
    read_confined,
)
from opensight_desktop.errors import ModelError
from opensight_desktop.paths import data_dir, models_dir
from opensight_desktop.resources import model_profiles
from opensight_desktop.settings import load_settings, save_settings
from opensight_desktop.timeutil import iso_utc, utc_now

if TYPE_CHECKING:
    from opensight_desktop.detector.checkpoints import Checkpoint
    from opensight_desktop.detector.model import LoadedDetector

# This module is imported by the GUI at start-up to list models; torch (via the checkpoint
# reader) is imported only when a model is imported or loaded.

MANIFEST = "manifest.json"
MANIFEST_LIMIT_BYTES = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

NO_MODEL_HELP = (
    "no detector model is installed. Install the Community Forensics weights with\n"
    "  opensight-desktop model import PATH      (a model.safetensors file or a downloaded "
    "model folder, e.g. OwensLab/commfor-model-384)\n"
    "or, on a machine with internet access,\n"
    "  opensight-desktop model download"
)


@dataclass
class StoredModel:
    id: str
    name: str
    format: str
    source: str
    imported_utc: str
    weights_file: str
    files: dict[str, str]  # file name -> SHA-256
    published_match: str | None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    source_dtype: str = "float32"
    file_sizes: dict[str, int] = field(default_factory=dict)  # absent before identities
    identity_sha256: str | None = None  # absent before identities: see `identity`
    folder: Path = Path()

    def manifest(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        return data

    @property
    def identity(self) -> str:
        """The digest over every file that affects a score (recorded, or for a store made
        before it was recorded, computed from the per-file hashes recorded at import)."""
        return self.identity_sha256 or identity_digest(self.files)

    def problem(self) -> str | None:
        """Why this manifest cannot describe a model in its folder, or None."""
        if not (_SHA256.match(self.id) and self.folder.name == self.id):
            return f"its id {self.id!r} is not the SHA-256 its folder is named after"
        names = list(self.files)
        if not names or any(not _plain_name(n) for n in names):
            return "its list of files is empty or names a file outside its folder"
        if self.files.get(self.weights_file) != self.id:
            return f"its weights file {self.weights_file!r} is not listed with the model's id"
        if not all(isinstance(v, str) and _SHA256.match(v) for v in self.files.values()):
            return "a file's recorded SHA-256 is not a SHA-256"
        if self.identity_sha256 is not None and self.identity_sha256 != identity_digest(self.files):
            return "its identity digest does not match its list of files"
        return None


def _plain_name(name: object) -> bool:
    """A file directly in the model's folder (no path, no hidden or special name)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..", MANIFEST)
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def published_release(sha256: str | None) -> str | None:
    """The published Community Forensics release whose weights have this SHA-256 (its
    label), or None. Always computed from the hash, never taken from a manifest or a case
    (either can be edited)."""
    if not sha256:
        return None
    for entry in model_profiles()["published_hashes"]:
        if entry["sha256"] == sha256:
            return str(entry["label"])
    return None


def published_match(sha256: str) -> tuple[str | None, list[str]]:
    """The label of the published hash this matches, or a warning naming both hashes (the
    manifest's record; people are told through present.py)."""
    label = published_release(sha256)
    if label is not None:
        return label, []
    published = model_profiles()["published_hashes"]
    listed = "; ".join(f"{e['label']}: {e['sha256']}" for e in published)
    return None, [
        f"weights SHA-256 {sha256} matches none of the published hashes ({listed}). "
        "The model was imported; results will name this hash."
    ]


class ModelStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or models_dir()

    # -- listing -------------------------------------------------------------------------

    def list(self) -> list[StoredModel]:
        models: list[StoredModel] = []
        if not self.root.is_dir():
            return models
        for folder in sorted(self.root.iterdir()):
            model = self._entry(folder)
            if model is not None:
                models.append(model)
        return sorted(models, key=lambda m: m.imported_utc)

    def _entry(self, folder: Path) -> StoredModel | None:
        """The model a store folder holds; None for anything else (a damaged entry is
        skipped, never fatal)."""
        manifest = folder / MANIFEST
        if not (folder.is_dir() and os.path.lexists(manifest)):
            return None
        try:
            data = json.loads(read_confined(manifest, folder.resolve(), MANIFEST_LIMIT_BYTES))
            model = StoredModel(**data, folder=folder)
            return None if model.problem() else model
        except (ValueError, TypeError, OSError, ModelError, AttributeError, RecursionError):
            return None

    def find(self, key: str) -> StoredModel:
        """By full id, unique id prefix (8+ characters) or exact name."""
        models = self.list()
        exact = [m for m in models if m.id == key or m.name == key]
        if len(exact) == 1:
            return exact[0]
        prefixed = [m for m in models if len(key) >= 8 and m.id.startswith(key.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        if not models:
            raise ModelError(NO_MODEL_HELP)
        if len(exact) + len(prefixed) > 1:
            raise ModelError(f"{key!r} matches several models; give more of the id")
        raise ModelError(f"no model {key!r} in the store (see `opensight-desktop model list`)")

    def active(self) -> StoredModel | None:
        """The model chosen as active; without a usable choice, the newest one whose
        weights are a published release. Weights that match no published release are
        active only when chosen (``set_active``: `model use`, the model manager)."""
        active_id = load_settings().active_model
        models = self.list()
        for model in models:
            if model.id == active_id:
                return model
        published = [m for m in models if published_release(m.id) is not None]
        return published[-1] if published else None

    def resolve(self, key: str | None) -> StoredModel:
        """The model to analyse with: the one named, else the active one."""
        if key:
            return self.find(key)
        model = self.active()
        if model is not None:
            return model
        installed = self.list()
        if not installed:
            raise ModelError(NO_MODEL_HELP)
        raise ModelError(_no_active_help(installed))

    def set_active(self, model: StoredModel) -> None:
        settings = load_settings()
        settings.active_model = model.id
        save_settings(settings)

    # -- importing -----------------------------------------------------------------------

    def import_path(
        self, path: str | Path, name: str | None = None, source: str | None = None
    ) -> tuple[StoredModel, bool]:
        """Validate, copy in, record. Returns the model and whether it was new."""
        from opensight_desktop.detector.checkpoints import read_checkpoint

        path = Path(path).absolute()
        checkpoint = read_checkpoint(path)  # strict: nothing is copied if this fails
        weights_name = checkpoint.weights_file.name
        weights_sha = checkpoint.files[weights_name].sha256
        target = self.root / weights_sha
        existing = self._entry(target)
        if existing is not None:
            if existing.identity != checkpoint.identity:
                raise ModelError(_other_files_message(existing, checkpoint))
            try:
                self.read(existing)
                return existing, False
            except ModelError:
                pass  # damaged: replaced below by a fresh copy of the very same files
        self.root.mkdir(parents=True, exist_ok=True)
        label, warnings = published_match(weights_sha)
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=self.root))
        try:
            for file_name, file in checkpoint.files.items():
                data = read_confined(file.path, checkpoint.root, file.size)
                if hashlib.sha256(data).hexdigest() != file.sha256:
                    raise ModelError(f"{file.path} changed while it was being imported")
                (staging / file_name).write_bytes(data)
            model = StoredModel(
                id=weights_sha,
                name=name or _default_name(path, checkpoint),
                format=checkpoint.format,
                source=source or str(path),
                imported_utc=iso_utc(utc_now()),
                weights_file=weights_name,
                files={n: f.sha256 for n, f in checkpoint.files.items()},
                published_match=label,
                warnings=warnings,
                notes=checkpoint.notes,
                preprocessing=checkpoint.preprocessing.as_record(),
                source_dtype=checkpoint.source_dtype,
                file_sizes={n: f.size for n, f in checkpoint.files.items()},
                identity_sha256=checkpoint.identity,
                folder=target,
            )
            (staging / MANIFEST).write_text(json.dumps(model.manifest(), indent=2), "utf-8")
            if os.path.lexists(target):  # a damaged copy (or a folder without a manifest)
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        # Published weights become active when none is; others only when chosen.
        active_id = load_settings().active_model
        unset = active_id is None or not (self.root / active_id / MANIFEST).is_file()
        if unset and published_release(model.id) is not None:
            self.set_active(model)
        return model, True

    def remove(self, model: StoredModel) -> None:
        shutil.rmtree(model.folder)

    # -- loading -------------------------------------------------------------------------

    def read(self, model: StoredModel) -> Checkpoint:
        """The stored checkpoint, each file checked against the manifest as it is read
        (what is parsed is what was hashed)."""
        from opensight_desktop.detector.checkpoints import read_checkpoint

        self._check_folder(model)
        single = len(model.files) == 1
        try:
            checkpoint = read_checkpoint(
                model.folder / model.weights_file if single else model.folder,
                root=model.folder.resolve(),
                expected=model.files,
            )
        except ModelFileChanged as exc:
            raise _damaged(model, str(exc)) from exc
        unused = sorted(set(model.files) - set(checkpoint.files))
        if unused:
            raise _damaged(model, f"{', '.join(unused)} no longer take(s) part in reading it")
        return checkpoint

    def _check_folder(self, model: StoredModel) -> None:
        problem = model.problem()
        if problem:
            raise _damaged(model, f"its manifest is not usable: {problem}")
        try:
            present = {entry.name for entry in model.folder.iterdir()} - {MANIFEST}
        except OSError as exc:
            raise _damaged(model, f"its folder cannot be read ({exc.strerror})") from exc
        missing = sorted(set(model.files) - present)
        if missing:
            raise _damaged(model, f"{', '.join(missing)} is missing")
        extra = sorted(present - set(model.files))
        if extra:
            raise _damaged(model, f"{', '.join(extra)} was added to its folder after import")

    def load(self, model: StoredModel, device: str = "auto") -> LoadedDetector:
        from opensight_desktop.detector.model import detector_of

        return detector_of(
            self.read(model),
            model.id,
            model.name,
            model.format,
            model.source,
            model.published_match,
            device,
        )

    # -- downloading ---------------------------------------------------------------------

    def download(
        self, repo: str | None = None, revision: str | None = None, cache_dir: Path | None = None
    ) -> tuple[StoredModel, bool]:
        """Fetch from the Hugging Face Hub (needs internet, or a filled local cache)."""
        downloads = model_profiles()["downloads"]
        repo = repo or downloads["default_repo"]
        spec = downloads["repos"].get(repo, {})
        revision = revision or spec.get("revision", "main")
        patterns = spec.get("files") or ["*.json", "*.safetensors"]
        try:
            from huggingface_hub import snapshot_download
            from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ModelError("huggingface_hub is not installed") from exc
        try:
            folder = snapshot_download(
                repo_id=repo,
                revision=revision,
                allow_patterns=patterns,
                cache_dir=str(cache_dir or data_dir() / "hf-cache"),
            )
        except LocalEntryNotFoundError as exc:
            raise ModelError(
                f"cannot download {repo}@{revision}: no internet connection (or offline mode) "
                "and no local copy. Download the files on a connected machine and use "
                "`opensight-desktop model import FOLDER`"
            ) from exc
        except (HfHubHTTPError, OSError, ValueError) as exc:
            raise ModelError(f"download of {repo}@{revision} failed: {exc}") from exc
        commit = Path(folder).name
        return self.import_path(
            folder,
            name=repo,
            source=f"https://huggingface.co/{repo} (revision {revision}, commit {commit})",
        )


def _no_active_help(installed: list[StoredModel]) -> str:
    return (
        f"no detector model is active: the {len(installed)} installed model(s) match no "
        "published Community Forensics release, so none was made active. Choose one with "
        "`opensight-desktop model use ID` (ids: `opensight-desktop model list`), or name it "
        "for this run with --model ID"
    )


def _default_name(path: Path, checkpoint: Checkpoint) -> str:
    return path.name if path.is_dir() else path.stem


def _damaged(model: StoredModel, what: str) -> ModelError:
    return ModelError(
        f"model {model.name} ({model.id[:16]}...) is damaged: {what}. Its scores could "
        f"differ from those at import; import the original files again (the folder is "
        f"{model.folder})"
    )


def _other_files_message(existing: StoredModel, checkpoint: Checkpoint) -> str:
    new = {n: f.sha256 for n, f in checkpoint.files.items()}
    differ = sorted(
        n for n in set(new) | set(existing.files) if new.get(n) != existing.files.get(n)
    )
    return (
        f"the model store already holds these weights ({existing.id[:16]}..., "
        f"{existing.name!r}) with other files that affect scores (differing: "
        f"{', '.join(differ)}). One weights file has one set of configuration files here, "
        f"so that its SHA-256 names one model; to replace it, delete {existing.folder} "
        "and import again"
    )
