"""The model store: imported checkpoints, content-addressed by the SHA-256 of their weights.

``$OPENSIGHT_HOME/models/<sha256>/`` holds the files exactly as imported (so their hashes
can be checked against published ones at any time) and ``manifest.json`` with the name,
format, source, hashes and whether the weights match a published hash. The active model
is a setting. Only :meth:`ModelStore.download` may touch the network, and only when asked.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensight_desktop.errors import ModelError
from opensight_desktop.paths import data_dir, models_dir
from opensight_desktop.resources import model_profiles
from opensight_desktop.settings import load_settings, save_settings
from opensight_desktop.timeutil import iso_utc, utc_now

if TYPE_CHECKING:
    from opensight_desktop.detector.checkpoints import Checkpoint

# This module is imported by the GUI at start-up to list models; torch (via the checkpoint
# reader) is imported only when a model is imported or loaded.

MANIFEST = "manifest.json"

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
    folder: Path = Path()

    def manifest(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        return data


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def published_match(sha256: str) -> tuple[str | None, list[str]]:
    """The label of the published hash this matches, or a warning naming both hashes."""
    published = model_profiles()["published_hashes"]
    for entry in published:
        if entry["sha256"] == sha256:
            return entry["label"], []
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
        models = []
        if not self.root.is_dir():
            return models
        for folder in sorted(self.root.iterdir()):
            manifest = folder / MANIFEST
            if folder.is_dir() and manifest.is_file():
                try:
                    data = json.loads(manifest.read_text(encoding="utf-8"))
                    models.append(StoredModel(**data, folder=folder))
                except (ValueError, TypeError, OSError):
                    continue  # a damaged entry is skipped, never fatal
        return sorted(models, key=lambda m: m.imported_utc)

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
        active_id = load_settings().active_model
        models = self.list()
        for model in models:
            if model.id == active_id:
                return model
        return models[-1] if models else None

    def resolve(self, key: str | None) -> StoredModel:
        """The model to analyse with: the one named, else the active one."""
        if key:
            return self.find(key)
        model = self.active()
        if model is None:
            raise ModelError(NO_MODEL_HELP)
        return model

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
        weights_sha = sha256_file(checkpoint.weights_file)
        target = self.root / weights_sha
        if (target / MANIFEST).is_file():
            return self.find(weights_sha), False
        self.root.mkdir(parents=True, exist_ok=True)
        label, warnings = published_match(weights_sha)
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=self.root))
        try:
            files = {}
            for file in [checkpoint.weights_file, *checkpoint.companions]:
                shutil.copyfile(file, staging / file.name)
                files[file.name] = sha256_file(staging / file.name)
            if files[checkpoint.weights_file.name] != weights_sha:
                raise ModelError(f"{checkpoint.weights_file} changed while it was being copied")
            model = StoredModel(
                id=weights_sha,
                name=name or _default_name(path, checkpoint),
                format=checkpoint.format,
                source=source or str(path),
                imported_utc=iso_utc(utc_now()),
                weights_file=checkpoint.weights_file.name,
                files=files,
                published_match=label,
                warnings=warnings,
                notes=checkpoint.notes,
                preprocessing=checkpoint.preprocessing.as_record(),
                source_dtype=checkpoint.source_dtype,
                folder=target,
            )
            (staging / MANIFEST).write_text(json.dumps(model.manifest(), indent=2), "utf-8")
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        active_id = load_settings().active_model
        if active_id is None or not (self.root / active_id / MANIFEST).is_file():
            self.set_active(model)
        return model, True

    def remove(self, model: StoredModel) -> None:
        shutil.rmtree(model.folder)

    # -- loading -------------------------------------------------------------------------

    def read(self, model: StoredModel) -> Checkpoint:
        """The stored checkpoint, after checking its weights still hash to its id."""
        from opensight_desktop.detector.checkpoints import read_checkpoint

        weights = model.folder / model.weights_file
        if not weights.is_file():
            raise ModelError(f"model {model.name} is damaged: {weights} is missing")
        actual = sha256_file(weights)
        if actual != model.id:
            raise ModelError(
                f"model {model.name} is damaged: its weights now hash to {actual}, "
                f"not {model.id}; import it again"
            )
        return read_checkpoint(
            model.folder if model.files.keys() - {model.weights_file} else weights
        )

    def load(self, model: StoredModel, device: str = "auto"):  # type: ignore[no-untyped-def]
        from opensight_desktop.detector.model import LoadedDetector, ModelIdentity, resolve_device

        checkpoint = self.read(model)
        identity = ModelIdentity(
            model.id, model.name, model.format, model.source, model.published_match
        )
        return LoadedDetector(checkpoint, identity, resolve_device(device))

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


def _default_name(path: Path, checkpoint: Checkpoint) -> str:
    return path.name if path.is_dir() else path.stem
