"""A data folder of its own for a benchmark run, so that nothing it does reaches the user's.

A benchmark imports models (random weights when none is installed), creates cases (which
makes a signing key on first use), opens them in the window (recent cases) and starts
processes that do the same. All of that happens in a temporary data folder: for the run,
``OPENSIGHT_HOME`` points there, in this process and in every process it starts. The
user's data folder is only read: their settings (device, batch size, heatmaps, so that the
figures are those of their set-up) and the model to measure, which is copied into the
temporary store (its files re-hashed on the way: the copy must be the same model). The
folder is deleted at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from opensight_desktop.detector.store import ModelStore, StoredModel
from opensight_desktop.errors import ModelError
from opensight_desktop.paths import ENV_HOME
from opensight_desktop.settings import Settings, load_settings, save_settings

RANDOM_MODEL_NAME = "random weights (benchmark only)"


@dataclasses.dataclass(frozen=True)
class BenchModel:
    store: ModelStore  # the temporary store, which holds the model as its active one
    model: StoredModel
    random: bool  # no model was named or installed: random weights (same cost as real ones)

    def record(self) -> dict[str, object]:
        """Which model the figures were measured with."""
        return {"name": self.model.name, "sha256": self.model.id, "random_weights": self.random}


class ScratchHome:
    def __init__(
        self, path: Path, work: Path, user_store: ModelStore, user_model: StoredModel | None
    ) -> None:
        self.path = path
        self._work = work
        self._user_store = user_store  # read only
        self._user_model = user_model
        self._model: BenchModel | None = None

    def model(self) -> BenchModel:
        """The model to measure with, in the temporary store (made on first use)."""
        if self._model is None:
            store = ModelStore()
            if self._user_model is None:
                from opensight_desktop.benchmarks.random_model import random_checkpoint

                folder = random_checkpoint(self._work / "random-model")
                model, _ = store.import_path(folder, name=RANDOM_MODEL_NAME)
            else:
                model = _copy_into(store, self._user_store, self._user_model)
            store.set_active(model)
            self._model = BenchModel(store, model, self._user_model is None)
        return self._model


@contextlib.contextmanager
def scratch_home(work: Path, model_key: str | None = None) -> Iterator[ScratchHome]:
    """A temporary data folder under ``work``, in use until the block ends. ``model_key``:
    the user's model to measure with (default: their active one, else random weights)."""
    settings = load_settings()
    user_store = ModelStore()
    user_model = user_store.find(model_key) if model_key else user_store.active()
    work.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="scratch-home-", dir=work))
    previous = os.environ.get(ENV_HOME)
    os.environ[ENV_HOME] = str(path)
    try:
        save_settings(_bench_settings(settings))
        yield ScratchHome(path, work, user_store, user_model)
    finally:
        if previous is None:
            os.environ.pop(ENV_HOME, None)
        else:
            os.environ[ENV_HOME] = previous
        shutil.rmtree(path, ignore_errors=True)


def _bench_settings(user: Settings) -> Settings:
    # what the measured work depends on is the user's; what names their things is not
    return dataclasses.replace(user, active_model=None, recent_cases=None)


def _copy_into(store: ModelStore, user_store: ModelStore, model: StoredModel) -> StoredModel:
    single = len(model.files) == 1
    source = model.folder / model.weights_file if single else model.folder
    copy, _ = store.import_path(source, name=model.name, source=model.source)
    if copy.identity != model.identity:
        user_store.read(model)  # raises, naming the file that changed since its import
        raise ModelError(
            f"model {model.name} ({model.id[:16]}...) does not read as the files recorded "
            "at its import"
        )
    return copy
