"""A randomly initialised detector saved in the authors' hub layout (for benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from opensight_desktop.detector.network import build_network


def random_checkpoint(folder: Path, seed: int = 0) -> Path:
    if (folder / "model.safetensors").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    state = build_network().state_dict()
    save_file(
        {f"vit.{k}": v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors")
    )
    (folder / "config.json").write_text(json.dumps({"input_size": 384, "patch_size": 16}))
    return folder
