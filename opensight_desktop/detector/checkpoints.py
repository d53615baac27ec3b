"""Reading checkpoints of the detector in every published layout, strictly and safely.

Layouts (docs/CONTRACTS.md section 1): the authors' hub folder (``config.json`` of
PyTorchModelHubMixin kwargs + ``model.safetensors``, ``vit.``-prefixed keys); the authors'
training checkpoint (torch pickle with ``model``/``optimizer``/... keys); a timm folder
(``config.json`` with ``architecture`` and ``pretrained_cfg``); a transformers folder
(``ViTForImageClassification`` + ``preprocessor_config.json``). Bare safetensors or
state-dict files are accepted too, recognised by their keys.

Pickles are untrusted: only ``torch.load(weights_only=True)``, which refuses code.
Loading is strict: a missing, unexpected or wrongly shaped tensor, a tensor holding NaN or
infinity, and two tensors under one name (in the file, or after renaming to timm names)
are errors naming them. No configuration value is used as a path: the only files read are
the fixed names below, each through :class:`ModelFiles` (inside the model's folder, regular,
bounded, hashed as read).
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import torch

from opensight_desktop.detector.model_files import (
    ModelFile,
    ModelFiles,
    confinement_root,
    identity_digest,
)
from opensight_desktop.detector.network import INPUT_SIDE, expected_shapes
from opensight_desktop.detector.pickle_keys import duplicate_keys_in_checkpoint
from opensight_desktop.detector.preprocess import (
    AUTHORS,
    Preprocessing,
    from_timm_config,
    from_transformers_config,
)
from opensight_desktop.errors import ModelError

FORMAT_HUB = "authors-hub"
FORMAT_TRAINING = "authors-training-checkpoint"
FORMAT_TIMM = "timm"
FORMAT_TRANSFORMERS = "transformers"
FORMAT_STATE_DICT = "state-dict"

WEIGHT_NAMES = ("model.safetensors", "pytorch_model.bin", "model.bin", "model.pt", "model.pth")
CONFIG_LIMIT_BYTES = 1 << 20
# ViT-S/16 is 22M parameters (88 MB in fp32; a training checkpoint with Adam state about
# 3x that): far below this, which only stops an endless or absurd file.
WEIGHTS_LIMIT_BYTES = 4 << 30
# Preprocessing sizes a configuration may ask for (pixels on a side)
MAX_RESIZE = 16384


@dataclass
class Checkpoint:
    """What a checkpoint holds, before any network is built."""

    format: str
    weights_file: Path
    state_dict: dict[str, torch.Tensor]
    preprocessing: Preprocessing
    # other files that belong to it (configs), copied along into the model store
    companions: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_dtype: str = "float32"
    # every file read (weights and configs), by name in its folder, with the bytes' digest
    files: dict[str, ModelFile] = field(default_factory=dict)
    # the folder those files had to stay inside
    root: Path = Path()

    @property
    def identity(self) -> str:
        """One SHA-256 over every file that affects a score (see ``model_files``)."""
        return identity_digest({name: d.sha256 for name, d in self.files.items()})


def read_checkpoint(
    path: str | Path, *, root: Path | None = None, expected: Mapping[str, str] | None = None
) -> Checkpoint:
    """Identify the layout, read the weights and map them to timm names. Raises ModelError.

    Every file read must resolve inside ``root``: by default the folder given (or, for a
    Hugging Face cache snapshot, its repository's cache folder); for a single file, no
    more than the file itself. ``expected`` (name -> SHA-256) makes any other content, or
    any other file, an error (``model_files.ModelFileChanged``) before it is parsed.
    """
    path = Path(path)
    if not os.path.lexists(path):
        raise ModelError(f"no such file or folder: {path}")
    if path.is_dir():
        files = ModelFiles(path, root or confinement_root(path), expected)
    else:
        files = ModelFiles(path.parent, root or path.resolve().parent, expected)
    try:
        checkpoint = _read_folder(path, files) if path.is_dir() else _read_file(path, files)
    except SameWeightTwice as exc:
        raise ModelError(f"refused {path}: {exc}") from exc
    except ModelError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError, TypeError, EOFError) as exc:
        raise ModelError(f"cannot read checkpoint {path}: {_short(exc)}") from exc
    checkpoint.files, checkpoint.root = dict(files.files), files.root
    checkpoint.state_dict, checkpoint.source_dtype = _as_float32(checkpoint.state_dict)
    check_tensors(checkpoint.state_dict, str(path))
    return checkpoint


# -- layouts -------------------------------------------------------------------------------


def _present(path: Path) -> bool:
    """There is an entry of this name (a broken link or a special file included: those
    are refused when read, never silently skipped)."""
    return os.path.lexists(path)


def _read_folder(folder: Path, files: ModelFiles) -> Checkpoint:
    config_path = folder / "config.json"
    weights = next((folder / n for n in WEIGHT_NAMES if _present(folder / n)), None)
    if weights is None:
        found = sorted(
            p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".pt", ".pth")
        )
        if len(found) != 1:
            raise ModelError(
                f"no weights file in {folder} (expected one of {', '.join(WEIGHT_NAMES)})"
            )
        weights = folder / found[0]
    if not _present(config_path):
        return _read_file(weights, files)
    config = _read_json(config_path, files)
    companions = [config_path]
    if _is_transformers(config):
        labels = config.get("num_labels") or len(config.get("id2label") or {"0": ""})
        if labels != 1:
            raise ModelError(
                f"{config_path}: a transformers classifier with {labels} labels; "
                "this detector has exactly one output"
            )
        pre_path = folder / "preprocessor_config.json"
        if _present(pre_path):
            preprocessing = _preprocessing(
                from_transformers_config, _read_json(pre_path, files), pre_path
            )
            companions.append(pre_path)
            notes = []
        else:
            preprocessing = AUTHORS
            notes = ["no preprocessor_config.json: the authors' preprocessing is used"]
        state = map_transformers_keys(_load_weights(weights, files))
        return Checkpoint(FORMAT_TRANSFORMERS, weights, state, preprocessing, companions, notes)
    if "architecture" in config:
        arch = str(config["architecture"])
        if not arch.startswith("vit_small_patch16_384"):
            raise ModelError(f"{config_path}: architecture {arch!r} is not vit_small_patch16_384")
        if int(config.get("num_classes", 1)) != 1:
            raise ModelError(
                f"{config_path}: num_classes is {config.get('num_classes')}; the detector has one"
            )
        preprocessing = (
            _preprocessing(from_timm_config, config, config_path)
            if config.get("pretrained_cfg")
            else AUTHORS
        )
        state = normalise_keys(_load_weights(weights, files))
        return Checkpoint(FORMAT_TIMM, weights, state, preprocessing, companions)
    # PyTorchModelHubMixin: the constructor's keyword arguments
    for key, expected in (("input_size", 384), ("patch_size", 16)):
        if key in config and int(config[key]) != expected:
            raise ModelError(
                f"{config_path}: {key} is {config[key]}; this detector needs {expected}"
            )
    state = normalise_keys(_load_weights(weights, files))
    return Checkpoint(FORMAT_HUB, weights, state, AUTHORS, companions)


def _read_file(path: Path, files: ModelFiles) -> Checkpoint:
    raw = _load_weights(path, files)
    if "model" in raw and isinstance(raw["model"], dict):
        state = normalise_keys(raw["model"])
        return Checkpoint(
            FORMAT_TRAINING,
            path,
            state,
            AUTHORS,
            notes=[
                f"training checkpoint; other entries ignored: "
                f"{', '.join(sorted(k for k in raw if k != 'model'))}"
            ],
        )
    if "state_dict" in raw and isinstance(raw["state_dict"], dict):
        raw = raw["state_dict"]
    if _looks_transformers(raw):
        return Checkpoint(
            FORMAT_TRANSFORMERS,
            path,
            map_transformers_keys(raw),
            AUTHORS,
            notes=["bare transformers weights: the authors' preprocessing is used"],
        )
    return Checkpoint(FORMAT_STATE_DICT, path, normalise_keys(raw), AUTHORS)


def _load_weights(path: Path, files: ModelFiles) -> dict[str, Any]:
    """Tensors from a safetensors file or a pickle (weights only: code is refused)."""
    data = files.read(path, WEIGHTS_LIMIT_BYTES, "weights file")
    if path.suffix == ".safetensors" or _looks_like_safetensors(data):
        return _load_safetensors(path, data)
    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelError(
            f"refused {path}: the safe weights-only loader rejected it "
            f"({_unpickler_reason(exc)}). Pickled checkpoints "
            "may carry code, which is never run; a genuine checkpoint holds only tensors"
        ) from exc
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, TypeError) as exc:
        raise ModelError(f"{path} is not a readable PyTorch checkpoint ({_short(exc)})") from exc
    if not isinstance(loaded, dict):
        raise ModelError(f"{path} holds a {type(loaded).__name__}, not a dictionary of weights")
    try:
        duplicates = duplicate_keys_in_checkpoint(data)
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: its structure could not be checked ({_short(exc)})") from exc
    if duplicates:
        raise ModelError(_duplicates_message(path, duplicates))
    return loaded


def _load_safetensors(path: Path, data: bytes) -> dict[str, Any]:
    from safetensors import SafetensorError
    from safetensors.torch import load

    # The header is JSON; the library keeps the last of two entries with one name.
    length = int.from_bytes(data[:8], "little") if len(data) >= 8 else 0
    if not 2 <= length <= len(data) - 8:
        raise ModelError(f"{path} is not a valid safetensors file (bad header length)")
    try:
        json.loads(data[8 : 8 + length], object_pairs_hook=_unique_pairs)
    except _DuplicateKeys as exc:
        raise ModelError(_duplicates_message(path, exc.keys)) from exc
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{path} is not a valid safetensors file ({_short(exc)})") from exc
    try:
        return dict(load(data))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{path} is not a valid safetensors file ({_short(exc)})") from exc


class _DuplicateKeys(ValueError):
    def __init__(self, keys: list[str]) -> None:
        super().__init__(f"duplicate keys: {', '.join(keys)}")
        self.keys = keys


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object_pairs_hook: an object naming a key twice is refused, not last-one-wins."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKeys(sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1))
    return result


def _duplicates_message(path: Path, keys: list[str]) -> str:
    return (
        f"refused {path}: it names {len(keys)} entr{'y' if len(keys) == 1 else 'ies'} twice "
        f"({_few(sorted(keys))}); which of the two would be used is ambiguous"
    )


def _unpickler_reason(exc: BaseException) -> str:
    """torch's message wraps the reason in advice meant for developers; keep the reason."""
    text = str(exc)
    for pattern in (
        r"WeightsUnpickler error:\s*([^\n]+)",
        r"(Trying to load unsupported[^\n]+)",
        r"(Unsupported [^\n]+)",
    ):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    return _short(exc)


def _looks_like_safetensors(data: bytes) -> bool:
    if len(data) < 9:
        return False
    header_len = int.from_bytes(data[:8], "little")
    return 2 <= header_len <= 100 << 20 and data[8:9] == b"{"


def _not_a_number(text: str) -> NoReturn:
    raise ValueError(f"{text} is not a usable number")


def _read_json(path: Path, files: ModelFiles) -> dict[str, Any]:
    raw = files.read(path, CONFIG_LIMIT_BYTES, "configuration file")
    try:
        data = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_unique_pairs, parse_constant=_not_a_number
        )
    except _DuplicateKeys as exc:
        raise ModelError(f"{path} names a setting twice ({', '.join(exc.keys)})") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"{path} is not valid JSON ({_short(exc)})") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} is not a JSON object")
    return data


def _preprocessing(
    reader: Callable[[dict[str, Any]], Preprocessing], config: dict[str, Any], path: Path
) -> Preprocessing:
    try:
        spec = reader(config)
        _check_preprocessing(spec)
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise ModelError(f"{path}: unusable preprocessing settings ({_short(exc)})") from exc
    return spec


def _check_preprocessing(spec: Preprocessing) -> None:
    """Settings this network can run with: a 384x384 input, sizes that can hold the crop,
    finite normalisation with a non-zero spread (else every input becomes NaN/Inf)."""
    side = INPUT_SIDE
    if spec.input_size != (side, side):
        raise ValueError(f"the input would be {spec.input_size}, the network takes {side}x{side}")
    if spec.resize_shorter is not None and not side <= spec.resize_shorter <= MAX_RESIZE:
        raise ValueError(f"resize to {spec.resize_shorter} px is outside {side}..{MAX_RESIZE}")
    if spec.resize_to is not None and not all(side <= v <= MAX_RESIZE for v in spec.resize_to):
        raise ValueError(f"resize to {spec.resize_to} is outside {side}..{MAX_RESIZE}")
    if not all(math.isfinite(v) for v in (*spec.mean, *spec.std)):
        raise ValueError("mean and std must be finite numbers")
    if not all(v > 0 for v in spec.std):
        raise ValueError(f"std {spec.std} must be above zero")


def _is_transformers(config: dict[str, Any]) -> bool:
    archs = config.get("architectures") or []
    return "ViTForImageClassification" in archs or config.get("model_type") == "vit"


# -- key names -----------------------------------------------------------------------------

_PREFIXES = ("module.", "_orig_mod.")


def _strip_wrappers(state: dict[str, Any]) -> dict[str, Any]:
    """Remove DataParallel/DDP (``module.``) and torch.compile (``_orig_mod.``) prefixes."""
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            # ``module.x`` beside ``x``: two tensors for one weight, whichever way it is read
            doubled = sorted(k for k in state if k.startswith(prefix) and k[len(prefix) :] in state)
            if doubled:
                raise SameWeightTwice([(k, k[len(prefix) :]) for k in doubled])
            if state and all(k.startswith(prefix) for k in state):
                state = {k[len(prefix) :]: v for k, v in state.items()}
                changed = True
    return state


class SameWeightTwice(ModelError):
    """Two tensors of a checkpoint map to one weight of the network."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        shown = _few([f"{a} and {b}" for a, b in pairs])
        super().__init__(
            f"{len(pairs)} pair(s) of tensors would be the same weight ({shown}); "
            "which one the detector should use is ambiguous"
        )


def _looks_transformers(state: dict[str, Any]) -> bool:
    keys = _strip_wrappers(state)
    return any(k.startswith(("vit.embeddings.", "vit.encoder.", "vit.layers.")) for k in keys)


def normalise_keys(state: dict[str, Any]) -> dict[str, Any]:
    """Authors' ``vit.``-prefixed names (and wrapper prefixes) -> plain timm names."""
    state = _strip_wrappers(state)
    if _looks_transformers(state):
        return map_transformers_keys(state)
    if state and all(k.startswith("vit.") for k in state):
        state = {k[4:]: v for k, v in state.items()}  # one prefix off every name: no collision
    return state


_HF_LAYER = re.compile(r"^vit\.(?:encoder\.layer|layers)\.(\d+)\.(.+)$")
_HF_LAYER_PARTS = {
    "layernorm_before": "norm1",
    "layernorm_after": "norm2",
    "attention.output.dense": "attn.proj",
    "attention.o_proj": "attn.proj",
    "intermediate.dense": "mlp.fc1",
    "output.dense": "mlp.fc2",
    "mlp.fc1": "mlp.fc1",
    "mlp.fc2": "mlp.fc2",
}
_HF_QKV = {
    "attention.attention.query": "q",
    "attention.attention.key": "k",
    "attention.attention.value": "v",
    "attention.q_proj": "q",
    "attention.k_proj": "k",
    "attention.v_proj": "v",
}
_HF_TOP = {
    "vit.embeddings.cls_token": "cls_token",
    "vit.embeddings.position_embeddings": "pos_embed",
    "vit.embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "vit.embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "vit.layernorm.weight": "norm.weight",
    "vit.layernorm.bias": "norm.bias",
    "classifier.weight": "head.weight",
    "classifier.bias": "head.bias",
}


def map_transformers_keys(state: dict[str, Any]) -> dict[str, Any]:
    """transformers ViT names (v4 and v5) -> timm, concatenating q, k, v into qkv."""
    state = _strip_wrappers(state)
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}  # timm name -> the source name it came from
    clashes: list[tuple[str, str]] = []

    def put(name: str, value: Any, source: str) -> None:
        if name in origin:  # v4 and v5 names of one weight, or a timm name beside its parts
            clashes.append((origin[name], source))
            return
        out[name], origin[name] = value, source

    qkv: dict[tuple[int, str], dict[str, tuple[str, Any]]] = {}
    unknown = []
    for key, value in state.items():
        if key in _HF_TOP:
            put(_HF_TOP[key], value, key)
            continue
        match = _HF_LAYER.match(key)
        if match is None:
            unknown.append(key)
            continue
        index, rest = int(match.group(1)), match.group(2)
        part, _, kind = rest.rpartition(".")
        if part in _HF_QKV:
            parts = qkv.setdefault((index, kind), {})
            letter = _HF_QKV[part]
            if letter in parts:
                clashes.append((parts[letter][0], key))
            parts[letter] = (key, value)
        elif part in _HF_LAYER_PARTS:
            put(f"blocks.{index}.{_HF_LAYER_PARTS[part]}.{kind}", value, key)
        else:
            unknown.append(key)
    for (index, kind), parts in qkv.items():
        if set(parts) != {"q", "k", "v"}:
            missing = sorted({"q", "k", "v"} - set(parts))
            raise ModelError(f"layer {index}: attention {kind} lacks {', '.join(missing)}")
        fused = torch.cat([parts[letter][1] for letter in "qkv"])
        put(f"blocks.{index}.attn.qkv.{kind}", fused, f"{parts['q'][0]} (with k and v)")
    for key in unknown:
        put(key, state[key], key)  # reported by the strict check as unexpected
    if clashes:
        raise SameWeightTwice(clashes)
    return out


# -- strict check --------------------------------------------------------------------------


def check_tensors(state: dict[str, Any], where: str) -> None:
    """Exactly the tensors of ViT-S/16-384 with a one-logit head, all finite, or a
    ModelError naming what differs."""
    expected = expected_shapes()
    non_tensors = sorted(k for k, v in state.items() if not isinstance(v, torch.Tensor))
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(
        f"{k} {list(state[k].shape)} (expected {list(expected[k])})"
        for k in set(expected) & set(state)
        if isinstance(state[k], torch.Tensor) and tuple(state[k].shape) != expected[k]
    )
    problems = []
    if non_tensors:
        problems.append(f"entries that are not tensors: {_few(non_tensors)}")
    if missing:
        problems.append(f"{len(missing)} missing: {_few(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected: {_few(unexpected)}")
    if wrong:
        problems.append(f"{len(wrong)} of the wrong shape: {_few(wrong)}")
    if problems:
        raise ModelError(
            f"{where} does not hold the Community Forensics ViT-S/16-384 detector "
            f"(timm vit_small_patch16_384 with a 1-logit head): " + "; ".join(problems)
        )
    # after the conversion to float32: a float64 value beyond its range is infinite there
    not_finite = sorted(k for k, v in state.items() if not bool(torch.isfinite(v).all()))
    if not_finite:
        raise ModelError(
            f"refused {where}: {len(not_finite)} tensor(s) hold NaN or infinite values "
            f"({_few(not_finite)}); such weights give no meaningful score"
        )


def _as_float32(state: dict[str, Any]) -> tuple[dict[str, Any], str]:
    dtypes = {
        str(v.dtype).replace("torch.", "") for v in state.values() if isinstance(v, torch.Tensor)
    }
    converted = {
        k: v.to(torch.float32) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
        for k, v in state.items()
    }
    return converted, ",".join(sorted(dtypes)) or "none"


def _few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
