"""Model store: content-addressed import, published-hash check, active model, download
from a local Hugging Face cache in offline mode (the real code path, no network)."""

from __future__ import annotations

import hashlib
import json

import pytest

from opensight_desktop.cli import main
from opensight_desktop.detector import store as store_module
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.errors import ModelError
from opensight_desktop.settings import load_settings
from tests import checkpoint_factory as cf
from tests import imagegen


@pytest.fixture(scope="module")
def state():
    return cf.random_state(seed=2)


def test_import_is_content_addressed_and_idempotent(state, tmp_path, opensight_home):
    folder = cf.save_hub(state, tmp_path / "hub")
    sha = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    store = ModelStore()
    model, created = store.import_path(folder, name="authors")
    assert created and model.id == sha
    assert model.folder == opensight_home / "models" / sha
    assert model.files["model.safetensors"] == sha and "config.json" in model.files
    assert model.published_match is None and sha in model.warnings[0]
    assert "b89f36275f3bf5e2" in model.warnings[0]  # names the published hash too
    again, created_again = store.import_path(folder, name="other name")
    assert not created_again and again.id == sha
    assert [m.id for m in store.list()] == [sha]
    # weights that match no published release are never made active without a choice
    assert load_settings().active_model is None and store.active() is None


def test_published_hash_is_recognised(state, tmp_path, monkeypatch):
    path = cf.save_training(state, tmp_path / "ckpt.pt")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    profiles = {
        "published_hashes": [{"sha256": sha, "file": "ckpt.pt", "label": "test label"}],
        "downloads": {},
    }
    monkeypatch.setattr(store_module, "model_profiles", lambda: profiles)
    model, _ = ModelStore().import_path(path)
    assert model.published_match == "test label" and model.warnings == []


def test_invalid_checkpoint_is_not_copied(tmp_path, opensight_home):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nonsense")
    with pytest.raises(ModelError):
        ModelStore().import_path(bad)
    assert (
        not list((opensight_home / "models").glob("*"))
        if (opensight_home / "models").exists()
        else True
    )


def test_find_by_prefix_name_and_damage_detection(state, tmp_path):
    store = ModelStore()
    model, _ = store.import_path(cf.save_timm(state, tmp_path / "timm"), name="mine")
    assert store.find(model.id[:10]).id == model.id
    assert store.find("mine").id == model.id
    with pytest.raises(ModelError, match="no model"):
        store.find("nonexistent")
    (model.folder / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(ModelError, match="damaged"):
        store.load(model, "cpu")


def test_no_model_message_says_how_to_install(case_path, capsys):
    main(["case", "new", str(case_path), "--number", "1", "--title", "t", "--examiner", "e"])
    capsys.readouterr()
    assert main(["analyze", str(case_path)]) == 2
    err = capsys.readouterr().err
    assert "model import" in err and "model download" in err


def _fake_hub_cache(root, repo, commit, files):
    """The Hugging Face cache layout: snapshot files are links to ../../blobs/<hash>."""
    base = root / f"models--{repo.replace('/', '--')}"
    snapshot = base / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (base / "blobs").mkdir()
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(commit)
    for name, data in files.items():
        blob = hashlib.sha256(data).hexdigest()
        (base / "blobs" / blob).write_bytes(data)
        (snapshot / name).symlink_to(f"../../blobs/{blob}")
    return snapshot


def test_download_from_local_hub_cache_offline(state, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    source = cf.save_hub(state, tmp_path / "hub")
    commit = "0123456789abcdef0123456789abcdef01234567"
    cache = tmp_path / "hf-cache"
    _fake_hub_cache(
        cache,
        "OwensLab/commfor-model-384",
        commit,
        {n: (source / n).read_bytes() for n in ("config.json", "model.safetensors")},
    )
    model, created = ModelStore().download(cache_dir=cache)
    assert created and model.name == "OwensLab/commfor-model-384"
    assert commit in model.source and model.format == "authors-hub"
    with pytest.raises(ModelError, match="no internet"):
        ModelStore().download(repo="someone/else", cache_dir=cache)


def test_model_cli_import_list(state, tmp_path, capsys):
    path = cf.save_training(state, tmp_path / "ckpt.pt")
    assert main(["model", "import", str(path), "--name", "authors ckpt"]) == 0
    out = capsys.readouterr()
    assert "authors ckpt" in out.out and "warning" in out.err.lower()
    assert main(["model", "list"]) == 0
    listing = capsys.readouterr().out
    assert "authors ckpt" in listing and "*" in listing and "authors-training-checkpoint" in listing
    assert main(["model", "import", str(tmp_path / "missing.pt")]) == 2


def test_manifest_records_provenance(state, tmp_path):
    model, _ = ModelStore().import_path(cf.save_transformers(state, tmp_path / "hf"))
    manifest = json.loads((model.folder / "manifest.json").read_text())
    assert manifest["format"] == "transformers"
    assert manifest["preprocessing"]["crop_rounding"] == "floor"
    assert set(manifest["files"]) == {
        "model.safetensors",
        "config.json",
        "preprocessor_config.json",
    }


# -- identity: every file that affects a score -----------------------------------------------


def _sha256sum_identity(folder, names):
    """The identity as documented: SHA-256 of `sha256sum`'s lines, sorted by name."""
    lines = "".join(
        f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in sorted(names)
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def test_manifest_records_every_file_and_one_identity(state, tmp_path):
    folder = cf.save_transformers(state, tmp_path / "hf")
    model, _ = ModelStore().import_path(folder)
    manifest = json.loads((model.folder / "manifest.json").read_text())
    names = {"model.safetensors", "config.json", "preprocessor_config.json"}
    assert manifest["file_sizes"] == {n: (folder / n).stat().st_size for n in names}
    assert manifest["identity_sha256"] == _sha256sum_identity(folder, names)
    detector = ModelStore().load(model, "cpu")
    assert detector.identity.identity_sha256 == manifest["identity_sha256"]
    assert detector.record()["files"] == manifest["files"]


def test_config_edited_after_import_is_refused(state, tmp_path):
    store = ModelStore()
    model, _ = store.import_path(cf.save_timm(state, tmp_path / "timm"))
    config_path = model.folder / "config.json"
    config = json.loads(config_path.read_text())
    config["pretrained_cfg"]["mean"] = [0.5, 0.5, 0.5]
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match=r"damaged: config\.json now has SHA-256"):
        store.load(model, "cpu")


def test_config_removed_from_the_store_is_refused(state, tmp_path):
    store = ModelStore()
    model, _ = store.import_path(cf.save_hub(state, tmp_path / "hub"))
    (model.folder / "config.json").unlink()
    with pytest.raises(ModelError, match=r"damaged: config\.json is missing"):
        store.load(model, "cpu")


def test_config_added_to_the_store_is_refused(state, tmp_path):
    folder = cf.save_transformers(state, tmp_path / "hf")
    preprocessor = (folder / "preprocessor_config.json").read_text()
    (folder / "preprocessor_config.json").unlink()
    store = ModelStore()
    model, _ = store.import_path(folder)  # the authors' preprocessing
    assert model.preprocessing["crop_rounding"] == "round"
    (model.folder / "preprocessor_config.json").write_text(preprocessor)
    with pytest.raises(ModelError, match=r"preprocessor_config\.json was added"):
        store.load(model, "cpu")


def test_link_out_of_the_store_is_refused_even_with_the_same_content(state, tmp_path):
    store = ModelStore()
    model, _ = store.import_path(cf.save_hub(state, tmp_path / "hub"))
    copy = tmp_path / "copy.json"
    copy.write_bytes((model.folder / "config.json").read_bytes())
    (model.folder / "config.json").unlink()
    (model.folder / "config.json").symlink_to(copy)
    with pytest.raises(ModelError, match="outside the model's folder"):
        store.load(model, "cpu")


def test_store_made_before_identities_is_checked_by_its_recorded_hashes(state, tmp_path):
    store = ModelStore()
    model, _ = store.import_path(cf.save_hub(state, tmp_path / "hub"))
    manifest_path = model.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    identity = manifest.pop("identity_sha256")
    del manifest["file_sizes"]
    manifest_path.write_text(json.dumps(manifest))  # as an older version wrote it
    (old,) = store.list()
    assert old.identity_sha256 is None and old.identity == identity
    assert store.load(old, "cpu").identity.identity_sha256 == identity
    (old.folder / "config.json").write_text('{"input_size": 384}')
    with pytest.raises(ModelError, match=r"damaged: config\.json now has SHA-256"):
        store.load(old, "cpu")


def test_same_weights_with_other_configs_are_refused(state, tmp_path):
    folder = cf.save_timm(state, tmp_path / "timm")
    store = ModelStore()
    model, _ = store.import_path(folder)
    config = json.loads((folder / "config.json").read_text())
    config["pretrained_cfg"]["interpolation"] = "bicubic"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match=r"already holds these weights.*differing: config\.json"):
        store.import_path(folder)
    assert store.load(model, "cpu").preprocessing.interpolation == "bilinear"


def test_damaged_copy_is_replaced_by_importing_the_same_files_again(state, tmp_path):
    folder = cf.save_hub(state, tmp_path / "hub")
    store = ModelStore()
    model, _ = store.import_path(folder)
    (model.folder / "config.json").write_text('{"input_size": 384}')
    with pytest.raises(ModelError, match="damaged"):
        store.load(model, "cpu")
    repaired, created = store.import_path(folder)
    assert created and repaired.identity == model.identity
    store.load(repaired, "cpu")


@pytest.mark.parametrize(
    "change",
    [
        {"weights_file": "../../escape.safetensors"},
        {"files": {"../x": "0" * 64}},
        {"id": "f" * 64},
        {"identity_sha256": "0" * 64},
    ],
)
def test_crafted_manifest_is_not_listed(state, tmp_path, change):
    store = ModelStore()
    model, _ = store.import_path(cf.save_hub(state, tmp_path / "hub"))
    manifest_path = model.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, **change}))
    assert store.list() == []


# -- provenance: weights that are no published release are never used unnoticed -------------


def _published_as(monkeypatch, sha: str, label: str) -> None:
    profiles = {
        "published_hashes": [{"sha256": sha, "file": "model.safetensors", "label": label}],
        "downloads": {},
    }
    monkeypatch.setattr(store_module, "model_profiles", lambda: profiles)


def test_unpublished_weights_are_active_only_when_chosen(state, tmp_path, case_path, capsys):
    """Before, random weights were imported silently, made active, and analysed with."""
    folder = cf.save_hub(state, tmp_path / "hub")
    sha = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    evidence = tmp_path / "ev"
    evidence.mkdir()
    imagegen.save(evidence / "a.png", "PNG", size=(64, 64))
    main(["case", "new", str(case_path), "--number", "1", "--title", "t", "--examiner", "e"])
    main(["import", str(case_path), str(evidence)])
    capsys.readouterr()
    assert main(["model", "import", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert (out + err).count(sha) == 1  # the SHA-256 once; the warning once
    assert err.count("warning") == 1 and "match no published Community Forensics" in err
    assert "do not apply" in err and "not made the active model" in out
    assert ModelStore().active() is None
    assert main(["model", "list"]) == 0
    listing = capsys.readouterr().out
    assert "matches no published Community Forensics release" in listing
    assert "no active model" in listing and "*" not in listing.splitlines()[0]
    assert main(["analyze", str(case_path), "--device", "cpu"]) == 2
    assert "model use" in capsys.readouterr().err
    assert main(["model", "use", sha[:12]]) == 0
    out, err = capsys.readouterr()
    assert "Active model" in out and "do not apply" in err
    assert main(["analyze", str(case_path), "--device", "cpu", "--no-heatmap"]) == 0
    out, err = capsys.readouterr()
    start = out.splitlines()[0]
    assert "analysing with hub" in start and "matches no published Community Forensics" in start
    assert "do not apply" in err


def test_published_weights_become_active_and_are_named(state, tmp_path, monkeypatch, capsys):
    folder = cf.save_hub(state, tmp_path / "hub")
    sha = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    _published_as(monkeypatch, sha, "the authors' test release")
    assert main(["model", "import", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "published Community Forensics release: the authors' test release" in out
    assert "it is the active model" in out and "warning" not in err
    assert main(["model", "list"]) == 0
    assert "* " + sha[:16] in capsys.readouterr().out


def test_a_manifest_cannot_make_weights_published(state, tmp_path):
    """Whether weights are a published release is decided from their hash, not from the
    label a manifest (a file anyone can edit) carries."""
    store = ModelStore()
    model, _ = store.import_path(cf.save_hub(state, tmp_path / "hub"))
    manifest = model.folder / "manifest.json"
    data = json.loads(manifest.read_text())
    data["published_match"] = "the authors' weights (claimed)"
    manifest.write_text(json.dumps(data))
    assert store.active() is None
    with pytest.raises(ModelError, match="model use"):
        store.resolve(None)
