import pytest
import torch

from facezoo.models.blocks import BasicBlock, ResNetTrunk


def test_basic_block_identity_skip_matches_manual():
    torch.manual_seed(0)
    block = BasicBlock(8, 8, norm="none").eval()
    x = torch.randn(2, 8, 6, 6)
    ref = torch.relu(x + block.conv2(torch.relu(block.conv1(x))))
    torch.testing.assert_close(block(x), ref)


def test_basic_block_stride_projects_skip():
    block = BasicBlock(4, 16, stride=2)
    assert block(torch.randn(2, 4, 8, 8)).shape == (2, 16, 4, 4)


@pytest.mark.parametrize("norm", ["batch", "group", "none"])
def test_trunk_pooled_shape_and_maps(norm):
    trunk = ResNetTrunk(3, widths=(8, 16, 32), blocks=(1, 1, 2), norm=norm)
    x = torch.randn(2, 3, 32, 32)
    out = trunk(x)
    assert out.shape == (2, 32) and trunk.out_channels == 32
    maps = trunk.feature_maps(x)
    assert [m.shape[-1] for m in maps] == [32, 16, 8]
    torch.testing.assert_close(out, maps[-1].mean(dim=(2, 3)))
    out.sum().backward()
    assert all(p.grad is not None for p in trunk.parameters())


def test_trunk_defaults_are_resnet18_sized():
    trunk = ResNetTrunk()
    n = sum(p.numel() for p in trunk.parameters())
    # ResNet-18 has 11.2M parameters in its trunk (without the fc layer); ours differs only in the 3x3 stem.
    assert 11.0e6 < n < 11.3e6


def test_trunk_rejects_bad_config():
    with pytest.raises(ValueError, match="equal length"):
        ResNetTrunk(widths=(8, 16), blocks=(1,))
    with pytest.raises(ValueError, match="norm"):
        ResNetTrunk(widths=(8,), blocks=(1,), norm="layer")
