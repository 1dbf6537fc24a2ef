"""Each real-dataset loader on a tiny fixture written in the dataset's published on-disk layout."""

import math

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat

from facezoo.data.real import (
    AFLW2000, CASIAWebFace, CELEBAMASK_PARTS, CKPlus, CelebA, CelebAMaskHQ, FFHQ, MultiPIE, Pose300WLP,
)


def _image(path, width, height, value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.full((height, width, 3), value, dtype=np.uint8)
    Image.fromarray(array).save(path)


def _check_image(sample, size):
    image = sample["image"]
    assert image.shape == (3, size, size) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0


def test_celeba_splits_identities_attributes_and_landmarks(tmp_path):
    names = ["000001.jpg", "000002.jpg", "000003.jpg"]
    for i, name in enumerate(names):
        _image(tmp_path / "img_align_celeba" / name, 178, 218, value=50 * i)
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 0\n000003.jpg 2\n")
    (tmp_path / "identity_CelebA.txt").write_text("000001.jpg 2880\n000002.jpg 2937\n000003.jpg 8692\n")
    attr_names = " ".join(f"a{k}" for k in range(40))
    rows = "\n".join(f"{n} " + " ".join("1" if k == i else "-1" for k in range(40)) for i, n in enumerate(names))
    (tmp_path / "list_attr_celeba.txt").write_text(f"3\n{attr_names}\n{rows}\n")
    lm = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
    lm_rows = "\n".join(f"{n} 69 109 106 113 77 142 73 152 108 154" for n in names)
    (tmp_path / "list_landmarks_align_celeba.txt").write_text(f"3\n{lm}\n{lm_rows}\n")

    train = CelebA(tmp_path, split="train", size=89)
    assert len(train) == 2 and len(CelebA(tmp_path, split="test", size=89)) == 1
    sample = train[1]
    _check_image(sample, 89)
    assert sample["identity"].item() == 2936 and sample["identity"].dtype == torch.int64
    assert sample["attributes"].tolist() == [0, 1] + [0] * 38
    # 178x218 -> centre square 178x178 starting at y = 20, scaled by 89/178 = 0.5
    assert torch.allclose(sample["landmarks5"][0], torch.tensor([69 * 0.5, (109 - 20) * 0.5]))
    assert torch.allclose(sample["image"], torch.full_like(sample["image"], 50 / 255), atol=1 / 255)


def test_celeba_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="img_align_celeba"):
        CelebA(tmp_path)
    _image(tmp_path / "img_align_celeba" / "000001.jpg", 10, 10)
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    with pytest.raises(FileNotFoundError, match="identity_CelebA.txt"):
        CelebA(tmp_path)
    (tmp_path / "identity_CelebA.txt").write_text("000001.jpg\n")
    with pytest.raises(ValueError, match="line 1 is malformed"):
        CelebA(tmp_path)
    with pytest.raises(ValueError, match="split"):
        CelebA(tmp_path, split="val")


def test_celebamask_hq_semantic_labels_and_pose(tmp_path):
    for i in (0, 2001):
        _image(tmp_path / "CelebA-HQ-img" / f"{i}.jpg", 32, 32)
    anno = tmp_path / "CelebAMask-HQ-mask-anno"
    masks = {"skin": (slice(0, 16), slice(0, 16)), "nose": (slice(4, 8), slice(4, 8)),
             "hair": (slice(16, 32), slice(16, 32))}
    for i in (0, 2001):
        for part, (rows, cols) in masks.items():
            m = np.zeros((16 * 2, 16 * 2), dtype=np.uint8)  # masks are stored at half resolution in the real set
            m[rows, cols] = 255
            (anno / str(i // 2000)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(m).save(anno / str(i // 2000) / f"{i:05d}_{part}.png")
    (tmp_path / "CelebAMask-HQ-pose-anno.txt").write_text("2\nYaw Pitch Raw\n0.jpg 30.0 -10.0 5.0\n2001.jpg 0 0 0\n")
    data = CelebAMaskHQ(tmp_path, size=16)
    assert len(data) == 2
    sample = data[0]
    _check_image(sample, 16)
    semantic = sample["semantic"]
    assert semantic.shape == (16, 16) and semantic.dtype == torch.int64
    skin, nose, hair = (CELEBAMASK_PARTS.index(p) + 1 for p in ("skin", "nose", "hair"))
    assert (skin, nose, hair) == (1, 2, 13)  # CelebAMask-HQ / FaceWorld ids
    assert semantic[0, 0] == skin and semantic[2, 2] == nose and semantic[12, 12] == hair and semantic[0, 12] == 0
    assert torch.allclose(sample["pose"], torch.tensor([math.radians(30), math.radians(-10), math.radians(5)]))
    assert data[1]["semantic"][2, 2] == nose  # mask folder 1 for image 2001
    assert "semantic" not in CelebAMaskHQ(tmp_path, size=16, masks=False)[0]
    for p in (anno / "0").iterdir():
        p.unlink()
    with pytest.raises(FileNotFoundError, match="no part mask for image 0"):
        data[0]


def test_ffhq_and_casia_folders(tmp_path):
    for i in range(3):
        _image(tmp_path / "ffhq" / "images1024x1024" / "00000" / f"{i:05d}.png", 20, 20)
    assert len(FFHQ(tmp_path / "ffhq", size=8)) == 3
    _check_image(FFHQ(tmp_path / "ffhq", size=8)[2], 8)
    for ident, count in (("0000045", 2), ("0000099", 1)):
        for k in range(count):
            _image(tmp_path / "casia" / ident / f"{k + 1:03d}.jpg", 20, 20)
    casia = CASIAWebFace(tmp_path / "casia", size=8)
    assert [casia[i]["identity"].item() for i in range(3)] == [0, 0, 1]
    assert casia.identity_names == ["0000045", "0000099"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no samples"):
        FFHQ(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CASIAWebFace(tmp_path / "nope")


def test_multipie_pose_and_expression_from_the_protocol(tmp_path):
    base = tmp_path / "data"
    files = [("01", "01", "051", "00"), ("01", "02", "190", "07"), ("03", "03", "240", "01"), ("02", "03", "081", "00")]
    for session, rec, cam, illum in files:
        cam_folder = f"{cam[:2]}_{cam[2]}"
        _image(base / f"session{session}" / "multiview" / "001" / rec / cam_folder /
               f"001_{session}_{rec}_{cam}_{illum}.png", 20, 20)
    data = MultiPIE(base, size=8)
    assert len(data) == 3  # camera 08_1 (raised) skipped
    by_illum = sorted((data[i]["session"].item(), data[i]["expression"].item(), data[i]["pose"][0].item())
                      for i in range(3))
    assert by_illum == [(1, 0, 0.0), (1, 5, pytest.approx(math.radians(45))), (3, 3, pytest.approx(math.radians(90)))]
    assert data[0]["identity"].item() == 1
    bad = base / "session01" / "multiview" / "001" / "01" / "05_1" / "junk.png"
    _image(bad, 4, 4)
    with pytest.raises(ValueError, match="unexpected file name"):
        MultiPIE(base)


def test_ckplus_first_and_peak_frames_with_landmarks(tmp_path):
    seq = tmp_path / "cohn-kanade-images" / "S005" / "001"
    for f in range(1, 4):
        _image(seq / f"S005_001_{f:08d}.png", 64, 48)
    _image(tmp_path / "cohn-kanade-images" / "S010" / "002" / "S010_002_00000001.png", 64, 48)  # unlabelled
    (tmp_path / "Emotion" / "S005" / "001").mkdir(parents=True)
    (tmp_path / "Emotion" / "S005" / "001" / "S005_001_00000003_emotion.txt").write_text("   3.0000000e+00\n")
    lm_dir = tmp_path / "Landmarks" / "S005" / "001"
    lm_dir.mkdir(parents=True)
    points = np.stack([np.linspace(10, 50, 68), np.linspace(5, 40, 68)], 1)
    (lm_dir / "S005_001_00000003_landmarks.txt").write_text(
        "\n".join(f"   {x:.7e}   {y:.7e}" for x, y in points))
    data = CKPlus(tmp_path, size=24)
    assert len(data) == 2
    first, peak = data[0], data[1]
    assert first["expression"].item() == 0 and peak["expression"].item() == 3 and peak["identity"].item() == 5
    assert "landmarks" not in first
    # 64x48 -> square 48x48 from x = 8, scale 24/48
    expected = (torch.tensor(points, dtype=torch.float32) - torch.tensor([8.0, 0.0])) * 0.5
    assert peak["landmarks"].shape == (68, 2) and torch.allclose(peak["landmarks"], expected, atol=1e-5)
    (tmp_path / "Emotion" / "S005" / "001" / "S005_001_00000003_emotion.txt").write_text("9\n")
    with pytest.raises(ValueError, match="outside 0..7"):
        CKPlus(tmp_path)


def _mat_fixture(folder, name, landmark_key, points, pose=(0.1, -0.5, 0.2)):
    _image(folder / f"{name}.jpg", 450, 450)
    savemat(folder / f"{name}.mat", {
        "Pose_Para": np.array([[*pose, 200.0, 220.0, 0.0, 0.001]], dtype=np.float32),
        "Shape_Para": np.arange(199, dtype=np.float32).reshape(199, 1),
        "Exp_Para": np.ones((29, 1), dtype=np.float32),
        landmark_key: points,
        "roi": np.zeros((1, 4)),
    })


def test_300wlp_and_aflw2000_read_3dmm_params(tmp_path):
    pts = np.stack([np.linspace(100, 350, 68), np.linspace(120, 330, 68)])  # (2, 68), as stored
    _mat_fixture(tmp_path / "300W_LP" / "AFW", "AFW_134212_1_0", "pt2d", pts)
    _mat_fixture(tmp_path / "300W_LP" / "AFW_Flip", "AFW_134212_1_0", "pt2d", pts)
    data = Pose300WLP(tmp_path / "300W_LP", size=45)
    assert len(data) == 2 and len(Pose300WLP(tmp_path / "300W_LP", size=45, flipped=False)) == 1
    sample = data[0]
    _check_image(sample, 45)
    assert torch.allclose(sample["pose"], torch.tensor([-0.5, 0.1, 0.2]))  # yaw, pitch, roll from pitch, yaw, roll
    assert torch.allclose(sample["landmarks"], torch.tensor(pts.T * 0.1, dtype=torch.float32), atol=1e-4)
    assert sample["shape_params"].shape == (199,) and sample["shape_params"][5] == 5
    assert sample["exp_params"].shape == (29,)

    pts3d = np.concatenate([pts, np.zeros((1, 68))])
    _mat_fixture(tmp_path / "AFLW2000", "image00002", "pt3d_68", pts3d)
    aflw = AFLW2000(tmp_path / "AFLW2000", size=45)
    assert torch.allclose(aflw[0]["landmarks"], sample["landmarks"])


def test_3dmm_errors_name_the_file(tmp_path):
    folder = tmp_path / "AFLW2000"
    _mat_fixture(folder, "image00002", "pt2d", np.zeros((2, 21)))  # AFLW's 21 points, not pt3d_68
    with pytest.raises(ValueError, match=r"image00002.mat.*lacks \['pt3d_68'\]"):
        AFLW2000(folder)
    (folder / "image00002.mat").unlink()
    with pytest.raises(FileNotFoundError, match="image00002.mat"):
        AFLW2000(folder)
    (folder / "image00002.mat").write_bytes(b"not a mat file")
    with pytest.raises(ValueError, match="cannot read"):
        AFLW2000(folder)
    with pytest.raises(FileNotFoundError, match="none of"):
        Pose300WLP(tmp_path)
