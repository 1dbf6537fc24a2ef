"""Hub I/O without network: an HF cache the test fills itself, intercepted uploads, refused pickles."""

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

import facezoo
from facezoo import FaceFeatImageGenerator, FaceFeatPipeline
from facezoo.utils.hub import UnsafeCheckpointError, WeightsNotFoundError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fill_cache(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT) -> Path:
    """Lay `folder` out as huggingface_hub's cache does: blobs are plain files under snapshots/<commit>."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    return snapshot


@pytest.fixture
def saved(tiny_facefeat, tmp_path):
    folder = tmp_path / "saved"
    tiny_facefeat.save_pretrained(folder)
    return folder


def test_model_index_names_the_package(saved):
    index = json.loads((saved / "model_index.json").read_text())
    assert index["_class_name"] == "FaceFeatPipeline"
    assert index["image_generator"] == ["facezoo", "FaceFeatImageGenerator"]
    assert index["identity_encoder"] == ["facezoo", "IdentityNet"]


def test_load_repo_id_from_offline_cache(saved, tiny_facefeat, tmp_path, monkeypatch, face_batch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = tmp_path / "hf-cache"
    fill_cache(cache, "facezoo/tiny-facefeat", saved)
    for revision in (None, "main", COMMIT):
        pipe = facezoo.AutoFacePipeline.from_pretrained("facezoo/tiny-facefeat", cache_dir=cache, revision=revision)
        assert isinstance(pipe, FaceFeatPipeline)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    a = pipe(identity_image=face_batch, generator=g(), output_type="pt").images
    b = tiny_facefeat(identity_image=face_batch, generator=g(), output_type="pt").images
    assert torch.equal(a, b)
    # a single model loads from the same cache by repo id and subfolder
    gen = FaceFeatImageGenerator.from_pretrained("facezoo/tiny-facefeat", subfolder="image_generator", cache_dir=cache)
    assert torch.equal(gen.decoder.fc.weight, tiny_facefeat.image_generator.decoder.fc.weight)


def test_missing_repo_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError, match=r"Could not find Hub repo 'facezoo/nope'.*offline"):
        FaceFeatPipeline.from_pretrained("facezoo/nope", cache_dir=tmp_path)
    with pytest.raises(WeightsNotFoundError, match="not a folder of facezoo weights"):
        FaceFeatPipeline.from_pretrained(str(tmp_path / "does" / "not" / "exist"))


def test_local_files_only_without_env(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(WeightsNotFoundError, match="offline"):
        FaceFeatPipeline.from_pretrained("facezoo/nope", cache_dir=tmp_path, local_files_only=True)


def test_push_to_hub_uploads_saved_folder(tiny_facefeat, monkeypatch):
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoUrl

    sent = {}

    def fake_create_repo(self, repo_id, **kwargs):
        sent["created"] = repo_id
        return RepoUrl(f"https://huggingface.co/{repo_id}")

    def fake_upload_folder(self, repo_id, folder_path, **kwargs):
        sent["repo_id"] = repo_id
        sent["files"] = sorted(str(p.relative_to(folder_path)) for p in Path(folder_path).rglob("*") if p.is_file())
        sent["card"] = (Path(folder_path) / "README.md").read_text()
        return "https://huggingface.co/me/tiny/commit/abc"

    monkeypatch.setattr(HfApi, "create_repo", fake_create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", fake_upload_folder)
    tiny_facefeat.push_to_hub("me/tiny", card_info={"metrics": {"similarity": 0.5}})
    assert sent["created"] == sent["repo_id"] == "me/tiny"
    assert "model_index.json" in sent["files"] and "README.md" in sent["files"]
    assert "image_generator/diffusion_pytorch_model.safetensors" in sent["files"]
    assert not any(f.endswith((".bin", ".pt", ".ckpt")) for f in sent["files"])
    assert "library_name: facezoo" in sent["card"] and "similarity" in sent["card"]


@pytest.mark.parametrize("suffix", [".bin", ".pt", ".ckpt"])
def test_pickle_checkpoints_are_refused(saved, suffix):
    torch.save({"w": torch.zeros(1)}, saved / "image_generator" / f"weights{suffix}")
    with pytest.raises(UnsafeCheckpointError, match="Refusing to load pickle checkpoint"):
        FaceFeatPipeline.from_pretrained(saved)
    with pytest.raises(UnsafeCheckpointError, match="safetensors"):
        FaceFeatImageGenerator.from_pretrained(saved / "image_generator")


def test_model_folder_without_safetensors_is_an_error(tmp_path):
    model = FaceFeatImageGenerator(identity_dim=4, pose_expression_dim=2, general_dim=4, image_size=8, widths=(8, 4))
    model.save_pretrained(tmp_path / "m")
    os.remove(tmp_path / "m" / "diffusion_pytorch_model.safetensors")
    with pytest.raises((OSError, EnvironmentError)):
        FaceFeatImageGenerator.from_pretrained(tmp_path / "m")


def test_model_save_load_exact(tmp_path):
    torch.manual_seed(0)
    model = FaceFeatImageGenerator(identity_dim=4, pose_expression_dim=2, general_dim=4, image_size=8, widths=(8, 4))
    model.save_pretrained(tmp_path / "m")
    loaded = FaceFeatImageGenerator.from_pretrained(tmp_path / "m")
    assert list(loaded.config.widths) == [8, 4]
    inputs = model.dummy_inputs(3)
    assert torch.equal(model(*inputs).images, loaded(*inputs).images)


def test_named_weights_listing():
    names = facezoo.list_models()
    assert names == sorted(names)
    assert all("." in n for n in names)
    assert set(facezoo.list_models("facefeat.*")) <= set(names)
    assert "FaceFeatPipeline" in facezoo.list_pipelines()
