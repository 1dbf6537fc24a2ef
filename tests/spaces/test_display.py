"""Faces enlarged for the screen and read back: whole-factor nearest neighbour, exactly reversible."""

import numpy as np
import PIL.Image
import pytest

from spaces.display import DISPLAY_SIZE, display_factor, enlarge, shrink_enlarged


def test_display_factor_is_the_smallest_whole_factor_reaching_the_display_size():
    assert DISPLAY_SIZE == 256
    assert [display_factor(s) for s in (16, 64, 100, 128, 200, 256, 512)] == [16, 4, 3, 2, 2, 1, 1]
    with pytest.raises(ValueError, match="positive"):
        display_factor(0)


def test_enlarge_makes_blocks_of_each_pixel():
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    big = np.asarray(enlarge(rgb))
    assert big.shape == (256, 256, 3)
    assert (big[4 * 10 + 3, 4 * 20 + 1] == rgb[10, 20]).all() and (big[::4, ::4] == rgb).all()
    # hand-made 2x2 image, enlarged 128x: each quadrant is one source pixel
    tiny = np.array([[[0, 0, 0], [255, 0, 0]], [[0, 255, 0], [0, 0, 255]]], np.uint8)
    quad = np.asarray(enlarge(PIL.Image.fromarray(tiny)))
    assert quad.shape == (256, 256, 3) and (quad[200, 10] == [0, 255, 0]).all() and (quad[10, 200] == [255, 0, 0]).all()
    photo = PIL.Image.new("RGB", (400, 300))
    assert enlarge(photo) is photo  # large images are shown as they are


def test_shrink_enlarged_inverts_enlarge_and_leaves_other_images_alone():
    rng = np.random.default_rng(1)
    for side in (16, 64, 100, 128):
        rgb = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        np.testing.assert_array_equal(shrink_enlarged(np.asarray(enlarge(rgb))), rgb)
    photo = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    assert shrink_enlarged(photo) is photo
    flat = np.full((256, 256, 3), 7, np.uint8)  # a uniform image is read as the smallest crop that makes it
    assert shrink_enlarged(flat).shape == (2, 2, 3)
    wide = np.zeros((64, 128, 3), np.uint8)
    assert shrink_enlarged(wide) is wide
    # 2x blocks in a 256 px image would be a 128 px crop shown 2x; 3x blocks are not how a 256 px image is shown
    three = np.repeat(np.repeat(rng.integers(0, 256, (86, 86, 3), dtype=np.uint8), 3, 0), 3, 1)[:256, :256]
    assert shrink_enlarged(three) is three
