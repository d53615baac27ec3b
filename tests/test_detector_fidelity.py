"""The app's scores equal the authors' pipeline (torchvision transforms + timm forward) for
a random checkpoint saved in each published layout, on awkward images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sqlalchemy import select
from torchvision import transforms
from torchvision.transforms import functional as TF

from opensight_desktop.benchmarks.synthetic import synthetic_photo
from opensight_desktop.case.models import DetectionResult, EvidenceFile
from opensight_desktop.detector.network import build_network
from opensight_desktop.detector.preprocess import AUTHORS, to_model_input
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob
from tests import checkpoint_factory as cf

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def awkward_images(folder):
    folder.mkdir()
    photo = synthetic_photo(4000, 3000, seed=3)
    paths = {}

    def save(name, image, **kw):
        paths[name] = folder / name
        image.save(paths[name], **kw)

    save("tiny.png", synthetic_photo(5, 3, seed=1))
    save("camera_4000x3000.jpg", photo, quality=90)
    save("portrait_295x901.jpg", synthetic_photo(295, 901, seed=4), quality=92)
    save("panorama_3001x400.png", synthetic_photo(3001, 400, seed=5))
    save("grey.jpg", synthetic_photo(641, 481, seed=6).convert("L"), quality=90)
    rgba = synthetic_photo(500, 400, seed=7).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((500, 400)))
    save("rgba.png", rgba)
    deep = np.asarray(synthetic_photo(600, 450, seed=8).convert("L"), dtype=np.uint16) * 257
    save("sixteen_bit.png", Image.fromarray(deep.astype(np.uint16)))
    save("cmyk.jpg", synthetic_photo(700, 500, seed=9).convert("CMYK"), quality=90)
    save("palette.gif", synthetic_photo(333, 222, seed=10).convert("P"))
    return paths


def reference_probabilities(state, paths, crop_rounding="round"):
    """The authors' torchvision pipeline, written out independently of the app's code."""
    model = build_network()
    model.load_state_dict(state)
    tensors = []
    for path in paths.values():
        image = Image.open(path).convert("RGB")
        image = transforms.Resize(440)(image)
        if crop_rounding == "round":
            image = transforms.CenterCrop(384)(image)
        else:  # transformers' center_crop floors the offset
            width, height = image.size
            image = TF.crop(image, (height - 384) // 2, (width - 384) // 2, 384, 384)
        tensors.append(transforms.Normalize(MEAN, STD)(transforms.ToTensor()(image)))
    with torch.no_grad():
        logits = model(torch.stack(tensors)).reshape(-1)
    return dict(zip(paths, torch.sigmoid(logits).tolist(), strict=True))


def calibrated_state(paths):
    """Random weights whose head spreads these images' scores over (0, 1).

    A random network maps all images to similar features; a head along their main axis of
    variation makes the scores differ, so that a preprocessing error cannot hide in a
    saturated 0.9999 or 0.0001.
    """
    state = cf.random_state(seed=11)
    model = build_network()
    model.load_state_dict(state)
    tensors = [to_model_input(Image.open(p).convert("RGB"), AUTHORS)[0] for p in paths.values()]
    with torch.no_grad():
        features = model.forward_head(model.forward_features(torch.stack(tensors)), pre_logits=True)
    centred = features - features.mean(0)
    direction = torch.linalg.svd(centred, full_matrices=False).Vh[0]
    projected = centred @ direction
    scale = 2.5 / projected.std()
    state["head.weight"] = (direction * scale)[None, :].contiguous()
    state["head.bias"] = torch.tensor([float(-(features.mean(0) @ direction) * scale)])
    return state


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    root = tmp_path_factory.mktemp("fidelity")
    paths = awkward_images(root / "images")
    state = calibrated_state(paths)
    references = {
        rounding: reference_probabilities(state, paths, rounding) for rounding in ("round", "floor")
    }
    return state, paths, references


def test_a_one_pixel_crop_shift_is_visible_at_the_tolerance(setting):
    """295x901 resizes to 440x1343: torchvision crops at row 480, transformers at 479."""
    _state, _paths, references = setting
    shift = abs(
        references["round"]["portrait_295x901.jpg"] - references["floor"]["portrait_295x901.jpg"]
    )
    assert shift > 1e-3


def test_preprocessing_is_bit_identical_to_torchvision(setting):
    _state, paths, _references = setting
    reference = transforms.Compose(
        [
            transforms.Resize(440),
            transforms.CenterCrop(384),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ]
    )
    for name, path in paths.items():
        image = Image.open(path).convert("RGB")
        ours, geometry = to_model_input(image, AUTHORS)
        assert torch.equal(ours, reference(image)), name
        assert geometry.original == image.size


@pytest.mark.parametrize("layout", ["hub", "training", "timm", "transformers"])
def test_stored_probabilities_match_reference(setting, layout, tmp_path, case, monkeypatch):
    state, paths, references = setting
    source = {
        "hub": lambda: cf.save_hub(state, tmp_path / "hub"),
        "training": lambda: cf.save_training(
            state, tmp_path / "model_v11_ViT_384_base_ckpt.pt", prefix="module.vit."
        ),
        "timm": lambda: cf.save_timm(state, tmp_path / "timm"),
        "transformers": lambda: cf.save_transformers(state, tmp_path / "hf"),
    }[layout]()
    store = ModelStore()
    model, created = store.import_path(source)
    assert created
    detector = store.load(model, "cpu")
    ImportJob(case, [str(paths[n]) for n in paths]).run()
    # Heatmaps on for two layouts: the heatmap pass must give the very same scores.
    summary = AnalysisJob(
        case, detector, batch_size=4, heatmaps=layout in ("hub", "transformers")
    ).run()
    assert (summary.analyzed, summary.errors) == (len(paths), 0)
    expected = references["floor" if layout == "transformers" else "round"]
    with case.read() as session:
        by_name = {}
        for result in session.scalars(select(DetectionResult)):
            file = session.scalars(
                select(EvidenceFile).where(EvidenceFile.item_id == result.item_id)
            ).first()
            by_name[file.file_name] = result
    spread = []
    for name, p_ref in expected.items():
        result = by_name[name]
        assert abs(result.probability - p_ref) < 1e-4, (layout, name, result.probability, p_ref)
        assert result.preprocessing["crop"] == [384, 384]
        spread.append(p_ref)
    # The test has teeth only if scores are spread out, not saturated at 0 or 1.
    assert max(spread) - min(spread) > 0.3 and sum(0.05 < p < 0.95 for p in spread) >= 5


def test_extreme_aspect_ratio_is_bounded_and_recorded():
    """65535x1 would need a 28,835,400 x 440 intermediate image (38 GB) in the exact
    pipeline; only the cropped region is resized, within one level, and this is recorded."""
    import numpy as np

    from opensight_desktop.benchmarks.memory import rss_mb

    image = Image.fromarray(
        np.random.default_rng(0).integers(0, 256, (1, 65535, 3), dtype=np.uint8)
    )
    before = rss_mb()
    tensor, geometry = to_model_input(image, AUTHORS)
    assert tensor.shape == (3, 384, 384)
    assert geometry.region_resize and geometry.as_record()["region_resize"] is True
    assert rss_mb() - before < 500
    # the same shortcut on an ordinary image stays within one pixel level of exact
    normal = Image.fromarray(
        np.random.default_rng(1).integers(0, 256, (300, 900, 3), dtype=np.uint8)
    )
    import opensight_desktop.detector.preprocess as pre

    exact, _ = to_model_input(normal, AUTHORS)
    limit = pre.FULL_RESIZE_LIMIT
    pre.FULL_RESIZE_LIMIT = 0
    try:
        region, shape = to_model_input(normal, AUTHORS)
    finally:
        pre.FULL_RESIZE_LIMIT = limit
    std = torch.tensor(MEAN).new_tensor((0.229, 0.224, 0.225))[:, None, None]
    assert shape.region_resize
    assert float(((exact - region).abs() * std * 255).max()) <= 2.01
