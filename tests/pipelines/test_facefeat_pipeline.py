"""FaceFeatPipeline behaviour on a tiny seeded pipeline: shapes, reproducibility, feature control, save/load."""

import numpy as np
import pytest
import torch

import facezoo
from facezoo import FaceFeatPipeline


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_call_shapes_and_features(tiny_facefeat, face_batch):
    out = tiny_facefeat(identity_image=face_batch, num_images_per_identity=3, generator=gen(), output_type="pt")
    assert out.images.shape == (6, 3, 16, 16)
    assert 0 <= float(out.images.min()) and float(out.images.max()) <= 1
    assert out.identity_features.shape == (6, 32)
    assert out.pose_expression_features.shape == (6, 7)
    assert out.general_features.shape == (6, 16)
    # rows of one identity share f_id, and differ in the sampled features
    assert torch.equal(out.identity_features[0], out.identity_features[2])
    assert not torch.equal(out.identity_features[0], out.identity_features[3])
    assert not torch.allclose(out.pose_expression_features[0], out.pose_expression_features[1])
    # the G_2^f output keeps its fixed norm
    torch.testing.assert_close(out.general_features.norm(dim=1), torch.full((6,), 4.0))


def test_output_types_and_return_dict(tiny_facefeat, face_batch):
    pt = tiny_facefeat(identity_image=face_batch, generator=gen(), output_type="pt").images
    npy = tiny_facefeat(identity_image=face_batch, generator=gen(), output_type="np").images
    pil = tiny_facefeat(identity_image=face_batch, generator=gen()).images
    assert npy.shape == (2, 16, 16, 3) and np.allclose(npy, pt.permute(0, 2, 3, 1).numpy(), atol=1e-6)
    assert len(pil) == 2 and pil[0].size == (16, 16)
    as_tuple = tiny_facefeat(identity_image=face_batch, generator=gen(), output_type="pt", return_dict=False)
    torch.testing.assert_close(as_tuple[0], pt)


def test_generator_makes_sampling_reproducible(tiny_facefeat, face_batch):
    a = tiny_facefeat(identity_image=face_batch, generator=gen(5), output_type="pt").images
    b = tiny_facefeat(identity_image=face_batch, generator=gen(5), output_type="pt").images
    c = tiny_facefeat(identity_image=face_batch, generator=gen(6), output_type="pt").images
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_single_and_batch_inputs_agree(tiny_facefeat, face_batch):
    f1 = tiny_facefeat.pose_expression_feature(yaw=20, expression="happiness")
    f2 = torch.nn.functional.normalize(torch.ones(16), dim=0) * 4
    batch = tiny_facefeat(identity_image=face_batch, pose_expression_features=f1, general_features=f2, output_type="pt").images
    single = tiny_facefeat(identity_image=face_batch[1], pose_expression_features=f1, general_features=f2, output_type="pt").images
    torch.testing.assert_close(single[0], batch[1], atol=1e-5, rtol=0)


def test_identity_embedding_input_matches_image_input(tiny_facefeat, face_batch):
    enc = tiny_facefeat.encode(face_batch)
    a = tiny_facefeat(identity_image=face_batch, generator=gen(3), output_type="pt").images
    b = tiny_facefeat(identity_embedding=enc.identity, generator=gen(3), output_type="pt").images
    torch.testing.assert_close(a, b)


def test_given_features_are_used(tiny_facefeat, face_batch):
    f1 = tiny_facefeat.pose_expression_feature(yaw=-30, pitch=10, expression="neutral")
    out = tiny_facefeat(identity_image=face_batch, pose_expression_features=f1, generator=gen(), output_type="pt")
    assert torch.equal(out.pose_expression_features, f1.expand(2, -1))
    raw = tiny_facefeat.pose_expression_encoder.feature_to_raw(f1)[0]
    torch.testing.assert_close(raw[-3:], torch.deg2rad(torch.tensor([-30.0, 10.0, 0.0])))


def test_reconstruct_frontalize_interpolate(tiny_facefeat, face_batch):
    enc = tiny_facefeat.encode(face_batch)
    rec = tiny_facefeat.reconstruct(face_batch, output_type="pt")
    manual = tiny_facefeat.image_generator(enc.identity, enc.pose_expression, enc.general).images
    torch.testing.assert_close(rec, (manual + 1) / 2)
    front = tiny_facefeat.frontalize(face_batch, output_type="pt")
    assert front.shape == (2, 3, 16, 16) and not torch.allclose(front, rec)
    frames = tiny_facefeat.interpolate(face_batch[0], face_batch[1], steps=5, generator=gen(), output_type="pt")
    assert frames.shape == (5, 3, 16, 16)
    ends = tiny_facefeat.interpolate(face_batch[0], face_batch[1], steps=2, feature="pose_expression", output_type="pt")
    torch.testing.assert_close(ends[0], rec[0], atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="feature"):
        tiny_facefeat.interpolate(face_batch[0], face_batch[1], feature="hair")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one"),
        ({"identity_embedding": torch.zeros(3)}, r"identity_embedding.*shape"),
        ({"identity_image": "missing.png"}, "identity_image"),
        ({"identity_embedding": torch.zeros(32), "num_images_per_identity": 0}, "num_images_per_identity"),
        ({"identity_embedding": torch.zeros(32), "pose_expression_features": torch.zeros(5)}, "pose_expression_features"),
        ({"identity_embedding": torch.zeros(32), "output_type": "gif"}, "output_type"),
    ],
)
def test_bad_arguments(tiny_facefeat, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_facefeat(**kwargs)


def test_unknown_expression(tiny_facefeat):
    with pytest.raises(ValueError, match="unknown expression"):
        tiny_facefeat.pose_expression_feature(expression="smirk")


def test_save_load_round_trip(tiny_facefeat, face_batch, tmp_path):
    tiny_facefeat.save_pretrained(tmp_path / "pipe", card_info={"training_command": "python train/facefeat.py", "metrics": {"x": 1}})
    assert (tmp_path / "pipe" / "image_generator" / "diffusion_pytorch_model.safetensors").is_file()
    card = (tmp_path / "pipe" / "README.md").read_text()
    assert "library_name: facezoo" in card and "python train/facefeat.py" in card
    loaded = FaceFeatPipeline.from_pretrained(tmp_path / "pipe")
    auto = facezoo.AutoFacePipeline.from_pretrained(str(tmp_path / "pipe"))
    assert type(auto) is FaceFeatPipeline
    assert loaded.card_info["training_command"] == "python train/facefeat.py"
    def run(pipe):
        return pipe(identity_image=face_batch, generator=gen(), output_type="pt").images

    ref = run(tiny_facefeat)
    assert torch.equal(run(loaded), ref)
    assert torch.equal(run(auto), ref)
    for (name, a), (_, b) in zip(tiny_facefeat.image_generator.state_dict().items(), loaded.image_generator.state_dict().items()):
        assert torch.equal(a, b), name


def test_dtype_and_device_moves(tiny_facefeat, face_batch):
    pipe = tiny_facefeat.to(torch.float64)
    assert pipe.dtype == torch.float64 and pipe.device.type == "cpu"
    out = pipe(identity_image=face_batch, generator=gen(), output_type="pt").images
    assert out.dtype == torch.float64
    pipe = pipe.to("cpu", torch.float32)
    assert pipe.image_generator.decoder.fc.weight.dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda(tiny_facefeat, face_batch):
    out = tiny_facefeat.to("cuda")(identity_image=face_batch, generator=gen(), output_type="pt").images
    assert out.device.type == "cuda"
