"""Heatmaps land where the evidence is, in original-image coordinates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from opensight_desktop.detector.forward import class_token_path_agrees, logits, logits_and_cams
from opensight_desktop.detector.geometry import Geometry, scoring_note_of
from opensight_desktop.detector.heatmap import (
    cam_on_original,
    decode_cam,
    encode_cam,
    overlay,
)
from opensight_desktop.detector.network import build_network
from opensight_desktop.detector.preprocess import AUTHORS, to_model_input

MEAN_RGB = (124, 116, 104)  # ImageNet mean in 8-bit: normalises to ~0


def rigged_network() -> torch.nn.Module:
    """A ViT whose score rises with the brightness of individual patches.

    Blocks 0-10 are identities (zero residual branches); the last block's attention is
    uniform (q = k = 0) and copies token features (v = proj = identity) into the class
    token; patch embedding channel 0 = patch brightness, channel 1 = its negative (so it
    survives LayerNorm); the head reads channel 0 minus channel 1. Only bright patches
    can raise the score, so the map's maximum must sit on them.
    """
    model = build_network()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        for block in model.blocks:
            block.norm1.weight.fill_(1.0)
            block.norm2.weight.fill_(1.0)
        model.norm.weight.fill_(1.0)
        model.patch_embed.proj.weight[0].fill_(1.0 / (3 * 16 * 16))
        model.patch_embed.proj.weight[1].fill_(-1.0 / (3 * 16 * 16))
        last = model.blocks[-1]
        last.attn.qkv.weight[2 * 384 :].copy_(torch.eye(384))
        last.attn.proj.weight.copy_(torch.eye(384))
        model.head.weight[0, 0] = 1.0
        model.head.weight[0, 1] = -1.0
    return model.eval()


@pytest.mark.parametrize("class_token_path", [False, True])
def test_map_maximum_is_on_the_bright_corner_in_original_coordinates(class_token_path):
    # A 4000x3000 photo: the model sees a central 2621x2618 region of it (Resize 440 ->
    # 586x440, centre crop 384), whose top-left corner is at (689.4, 190.9).
    width, height = 4000, 3000
    image = Image.new("RGB", (width, height), MEAN_RGB)
    _, geometry = to_model_input(image, AUTHORS)
    left, top, _right, _bottom = geometry.crop_in_original
    assert (round(left, 1), round(top, 1)) == (689.4, 190.9)
    # Bright texture only in the top-left corner of that region.
    x0, y0 = int(left) + 20, int(top) + 20
    corner = np.random.default_rng(0).integers(200, 256, (500, 500, 3), dtype=np.uint8)
    image.paste(Image.fromarray(corner), (x0, y0))
    tensor, geometry = to_model_input(image, AUTHORS)
    model = rigged_network()
    logits, cams = logits_and_cams(model, tensor[None], class_token_path)
    cam = cams[0].numpy()
    assert cam.shape == (24, 24) and cam.max() == 1.0
    values, box = cam_on_original(cam, geometry)
    y, x = np.unravel_index(np.argmax(values), values.shape)
    x_orig, y_orig = box[0] + x, box[1] + y
    assert x0 <= x_orig < x0 + 500 and y0 <= y_orig < y0 + 500
    # and the map is (near) zero far from it
    assert values[-1, -1] < 0.3
    # the same logit as a plain forward pass
    with torch.no_grad():
        plain = model(tensor[None]).reshape(-1)
    assert torch.allclose(plain, logits, atol=1e-5)


def test_cam_encoding_round_trip():
    cam = np.random.default_rng(1).random((24, 24)).astype(np.float32)
    restored = decode_cam(encode_cam(cam))
    assert restored.shape == (24, 24) and np.abs(restored - cam).max() < 1e-3
    assert len(encode_cam(cam)) == 24 * 24 * 2


def test_geometry_record_is_read_back_only_when_it_is_ours():
    """A stored geometry (case files may be crafted) is checked when read, not trusted:
    three numbers where two belong, text or fractions for pixel counts are refused."""
    geometry = Geometry((400, 300), (586, 440), (101, 28, 485, 412))
    assert Geometry.from_record(geometry.as_record()) == geometry
    ours = {"original": [400, 300], "resized": [586, 440], "crop_box": [101, 28, 485, 412]}
    for field, value, error in (
        ("original", [400, 300, 7], ValueError),
        ("crop_box", [101, 28, 485], ValueError),
        ("resized", "58", ValueError),
        ("resized", {"w": 586, "h": 440}, ValueError),
        ("original", ["400", 300], TypeError),
        ("original", [400.5, 300], TypeError),
        ("crop_box", [True, 28, 485, 412], TypeError),
    ):
        crafted = {**ours, field: value}
        with pytest.raises(error):
            Geometry.from_record(crafted)
        assert scoring_note_of(crafted) == (None, None)


def test_overlay_marks_outside_of_crop_as_not_examined():
    image = Image.new("RGB", (800, 400), (200, 200, 200))
    geometry = Geometry((800, 400), (880, 440), (248, 28, 632, 412))
    cam = np.zeros((24, 24), dtype=np.float32)
    cam[12, 12] = 1.0
    shown = np.asarray(overlay(image, cam, geometry, opacity=0.6))
    outside = shown[200, 10].astype(int)
    inside_cold = shown[100, 300].astype(int)  # map ~0 here: the image shows through
    assert outside.sum() < 3 * 200 * 0.7  # dimmed: not examined
    assert inside_cold.sum() > outside.sum()
    # the crop outline is drawn at the crop's left edge (x = 225 on the original)
    assert tuple(shown[200, 226]) == (0, 220, 255)


def test_class_token_forward_agrees_with_timm_and_refuses_what_it_cannot_restate():
    model = build_network()
    assert class_token_path_agrees(model, torch.device("cpu"))
    batch = torch.randn(2, 3, 384, 384)
    assert torch.allclose(logits(model, batch, True), logits(model, batch, False), atol=1e-5)
    model.blocks[-1].attn.gate = torch.nn.Linear(384, 384)  # a variant it does not model
    assert not class_token_path_agrees(model, torch.device("cpu"))
