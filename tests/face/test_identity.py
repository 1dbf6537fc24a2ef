"""IdentityEncoder backends, IdentityNet and the identity losses."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from facezoo.assets import load_photo
from facezoo.face.alignment import align_face
from facezoo.face.detection import DlibFaceDetector, NoFaceFoundError
from facezoo.face.identity import DlibEncoder, IdentityEncoder, IdentityNetEncoder, InsightFaceEncoder
from facezoo.face.identity_net import IdentityNet
from facezoo.losses.identity import ArcFaceHead, arcface_loss, identity_cosine_loss, identity_loss

TINY = dict(widths=(8, 16), blocks=(1, 1), head_channels=4, embedding_dim=16, sample_size=32)


def test_identity_net_shapes_return_dict_and_resize():
    torch.manual_seed(0)
    net = IdentityNet(**TINY).eval()
    x = torch.rand(3, 3, 32, 32)
    out = net(x)
    assert out.embedding.shape == (3, 16)
    torch.testing.assert_close(out.normalized.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(out.normalized, F.normalize(out.embedding, dim=-1))
    emb, normalized = net(x, return_dict=False)
    torch.testing.assert_close(emb, out.embedding)
    big = torch.rand(3, 3, 64, 64)
    small = F.interpolate(big, size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
    torch.testing.assert_close(net(big).embedding, net(small).embedding, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="expected images"):
        net(torch.rand(2, 1, 32, 32))


def test_identity_net_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    net = IdentityNet(**TINY).eval()
    net.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    again = IdentityNet.from_pretrained(tmp_path).eval()
    assert again.config.embedding_dim == 16 and list(again.config.widths) == [8, 16]
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(again(x).embedding, net(x).embedding)


def test_identity_net_encoder_is_differentiable():
    net = IdentityNet(**TINY).eval()
    enc = IdentityNetEncoder(net)
    assert isinstance(enc, IdentityEncoder) and enc.dim == 16 and enc.input_size == 32
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    f = enc(x)
    torch.testing.assert_close(f.norm(dim=-1), torch.ones(2))
    identity_loss(f, f.detach().flip(0)).backward()
    assert x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="aligned face crops"):
        enc.encode(torch.rand(3, 32, 32))


def test_arcface_head_matches_hand_computation():
    torch.manual_seed(0)
    head = ArcFaceHead(4, 3, scale=10.0, margin=0.3)
    emb = torch.randn(2, 4)
    labels = torch.tensor([1, 2])
    logits = head(emb, labels).detach()
    w = head.weight.detach()
    for i in range(2):
        for j in range(3):
            cos = float(emb[i] @ w[j] / (emb[i].norm() * w[j].norm()))
            expected = math.cos(math.acos(cos) + 0.3) if j == labels[i] else cos
            assert abs(logits[i, j].item() - 10.0 * expected) < 1e-4
    # The margin makes the loss larger than plain normalised softmax on the same logits.
    plain = F.cross_entropy(10.0 * F.linear(F.normalize(emb), F.normalize(w)), labels)
    assert arcface_loss(head, emb, labels) > plain


def test_arcface_head_learns_separable_classes():
    torch.manual_seed(0)
    centres = torch.eye(5, 8) * 3  # orthogonal class centres: separable by angle
    labels = torch.arange(5).repeat(40)
    feats = centres[labels] + 0.3 * torch.randn(200, 8)
    head = ArcFaceHead(8, 5, scale=16.0, margin=0.3)
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    losses = []
    for _ in range(60):
        loss = arcface_loss(head, feats, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    pred = F.linear(F.normalize(feats), F.normalize(head.weight)).argmax(1)
    assert (pred == labels).float().mean() > 0.95


def test_identity_losses_values():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[0.0, 1.0], [0.0, 4.0]])
    assert float(identity_loss(a, b)) == pytest.approx((2.0 + 4.0) / 2)
    assert float(identity_cosine_loss(a, b)) == pytest.approx((1.0 + 0.0) / 2)
    with pytest.raises(ValueError, match="equal shapes"):
        identity_loss(a, b[:1])


def _write_arcface_onnx(path, seed=0):
    """An ONNX model in insightface's ArcFace format: NCHW float input 'input.1' (N x 3 x 112 x 112), one 512-d
    output '683' (the names of insightface's w600k_r50.onnx). Conv(stride 16) -> Flatten -> Gemm."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    conv_w = rng.normal(0, 0.1, (8, 3, 16, 16)).astype(np.float32)
    gemm_w = rng.normal(0, 0.05, (512, 8 * 7 * 7)).astype(np.float32)
    gemm_b = rng.normal(0, 0.05, (512,)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["input.1", "conv_w"], ["c"], name="Conv_0", strides=[16, 16], kernel_shape=[16, 16]),
            helper.make_node("Flatten", ["c"], ["f"], name="Flatten_1", axis=1),
            helper.make_node("Gemm", ["f", "gemm_w", "gemm_b"], ["683"], name="Gemm_2", transB=1),
        ],
        "arcface_like",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["None", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["None", 512])],
        initializer=[numpy_helper.from_array(conv_w, "conv_w"), numpy_helper.from_array(gemm_w, "gemm_w"),
                     numpy_helper.from_array(gemm_b, "gemm_b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))

    def reference(images):  # what the model computes, in torch: insightface's (x - 127.5) / 127.5 on RGB 0..255
        x = (torch.round(images * 255.0) - 127.5) / 127.5
        c = F.conv2d(x, torch.from_numpy(conv_w), stride=16)
        return F.normalize(c.flatten(1) @ torch.from_numpy(gemm_w).T + torch.from_numpy(gemm_b), dim=-1)

    return reference


def test_insightface_backend_loads_our_arcface_export(tmp_path):
    pytest.importorskip("insightface")
    pack = tmp_path / "models" / "mypack"
    pack.mkdir(parents=True)
    reference = _write_arcface_onnx(pack / "w600k_r50.onnx")
    # From the standard model folder layout <root>/models/<pack> ...
    enc = InsightFaceEncoder("mypack", root=tmp_path)
    assert type(enc.model).__name__ == "ArcFaceONNX" and enc.model.taskname == "recognition"
    assert enc.dim == 512 and enc.input_size == 112
    # ... and from a direct file path: same model.
    enc_file = InsightFaceEncoder(pack / "w600k_r50.onnx")
    torch.manual_seed(0)
    images = torch.rand(3, 3, 112, 112)
    feats = enc.encode(images)
    assert feats.shape == (3, 512)
    torch.testing.assert_close(feats, reference(images), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(enc_file.encode(images), feats)
    with pytest.raises(FileNotFoundError, match="no insightface model pack"):
        InsightFaceEncoder("missing", root=tmp_path)


def test_dlib_descriptor_on_astronaut():
    photo = load_photo("astronaut")
    enc = DlibEncoder()
    f = enc.encode_photo(photo)
    assert f.shape == (1, 128)
    torch.testing.assert_close(f.norm(dim=-1), torch.ones(1))
    # A horizontally flipped photo is the same person (dlib's threshold is 0.6 Euclidean on raw descriptors,
    # roughly cosine > 0.9 after normalisation); an unrelated face-like crop (the photo's flag) is not a face at all.
    flipped = enc.encode_photo(np.ascontiguousarray(photo[:, ::-1]))
    assert float(IdentityEncoder.similarity(f, flipped)) > 0.9
    with pytest.raises(NoFaceFoundError):
        enc.encode_photo(np.ascontiguousarray(photo[300:, :200]))
    # The batched encode of an aligned chip equals encode_photo.
    face = DlibFaceDetector().detect_largest(photo)
    chip = align_face(photo, face.keypoints, size=150, margin=enc.align_margin).crop
    torch.testing.assert_close(enc.encode(torch.from_numpy(chip).permute(2, 0, 1)[None].float() / 255), f, atol=1e-4, rtol=0)
