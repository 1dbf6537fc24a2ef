"""FaceWorld renders for the hub: one test-split identity under an explicit pose, expression, occluder and scene.

A `FaceWorld` sample fixes everything from its seed; the browser takes that scene (light, background, camera) and
overrides the pose, the expression blend weights and the occluder before rendering, the counterfactual editing
`FaceWorld.scenes` is made for. FaceWorld is imported on first use (building its head model takes a few seconds).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch

#: FaceWorld split browsed by the hub: identities no model was trained on.
SPLIT = "test"
NO_OCCLUDER = "none"


@dataclass(frozen=True)
class FaceWorldScene:
    """What the FaceWorld tab lets a user choose.

    Attributes:
        identity (`int`): index into the split's identities (0 .. `FaceWorldBrowser.num_identities` - 1).
        yaw, pitch (`float`): head rotation in degrees (positive yaw turns the face to the image's right).
        expression (`str`): one of `FaceWorldBrowser.expressions`.
        occluder (`str`): one of `FaceWorldBrowser.occluders` (``"none"`` for a clear face).
        scene_seed (`int`): seeds light, background and camera.
    """

    identity: int = 0
    yaw: float = 0.0
    pitch: float = 0.0
    expression: str = "neutral"
    occluder: str = NO_OCCLUDER
    scene_seed: int = 0


class FaceWorldBrowser:
    """Renders `FaceWorldScene`s at `size` pixels (thread-safe; the renderer is built on the first call).

    Args:
        size (`int`, *optional*, defaults to 64): output resolution, FaceWorld's and the shipped models' default.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._lock = threading.Lock()

    @property
    def expressions(self) -> List[str]:
        from facezoo.data.faceworld.expression import EXPRESSIONS

        return list(EXPRESSIONS)

    @property
    def occluders(self) -> List[str]:
        from facezoo.data.faceworld.occluders import OCCLUDERS

        return [NO_OCCLUDER, *OCCLUDERS]

    @property
    def num_identities(self) -> int:
        from facezoo.data.faceworld.world import split_identities

        return len(split_identities(SPLIT))

    def _dataset(self, scene_seed: int):
        from facezoo.data.faceworld.world import FaceWorld

        # One sample per identity: sample i of the split is identity i, and the seed fixes its scene. Cheap to build
        # (the renderer is shared through `render_batch`), so nothing is kept per seed.
        return FaceWorld(split=SPLIT, size=self.size, seed=scene_seed, samples_per_identity=1, keys=("image",))

    def render(self, scenes: Sequence[FaceWorldScene]) -> np.ndarray:
        """RGB ``uint8`` images ``(N, size, size, 3)`` of `scenes` (rendered in one batch per scene seed)."""
        from facezoo.data.faceworld.expression import EXPRESSION_PRESETS, EXPRESSIONS
        from facezoo.data.faceworld.occluders import OCCLUDERS
        from facezoo.data.faceworld.world import render_batch

        out: List[Optional[np.ndarray]] = [None] * len(scenes)
        for s in scenes:
            self._check(s)
        with self._lock:  # the renderer caches state lazily; one render at a time (~60 ms for a 64 px face)
            for seed in sorted({s.scene_seed for s in scenes}):
                rows = [i for i, s in enumerate(scenes) if s.scene_seed == seed]
                scene = self._dataset(seed).scenes([scenes[i].identity for i in rows])
                deg = math.pi / 180.0
                for k, i in enumerate(rows):
                    s = scenes[i]
                    scene["pose"][k] = torch.tensor([s.yaw * deg, s.pitch * deg, 0.0], dtype=scene["pose"].dtype)
                    scene["exp_coeffs"][k] = torch.from_numpy(EXPRESSION_PRESETS[EXPRESSIONS.index(s.expression)])
                    scene["occluder"][k] = -1 if s.occluder == NO_OCCLUDER else OCCLUDERS.index(s.occluder)
                images = render_batch(scene, size=self.size, keys=("image",))["image"]
                arr = (images.permute(0, 2, 3, 1).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
                for k, i in enumerate(rows):
                    out[i] = arr[k]
        return np.stack(out)

    def alignment_margin(self, num_identities: int = 32) -> float:
        """The `facezoo.face.alignment.face_template` margin matching FaceWorld's framing: the scale of the
        least-squares similarity from the ArcFace template to the mean five keypoints of frontal, neutral,
        centred test faces. Real photos aligned with it look like the crops the models were trained on."""
        from facezoo.data.faceworld.world import render_batch, sample_scenes, split_identities
        from facezoo.face.alignment import ARCFACE_TEMPLATE_112, umeyama_similarity
        from facezoo.face.detection import five_points_from_68

        ids = [int(i) for i in split_identities(SPLIT)[:num_identities]]
        scene = sample_scenes(ids, [(0, 0, i) for i in range(len(ids))])
        scene["pose"].zero_()
        scene["exp_coeffs"].zero_()
        scene["camera"][:] = torch.tensor([1.0, 0.0, 0.0])
        with self._lock:
            landmarks = render_batch(scene, size=self.size, keys=("landmarks",))["landmarks"].numpy()
        mean = np.stack([five_points_from_68(lm) for lm in landmarks]).mean(0)
        fit = umeyama_similarity(ARCFACE_TEMPLATE_112 / 112.0 - 0.5, mean / self.size - 0.5)
        return float(1.0 / np.linalg.norm(fit[:, 0]) - 1.0)

    def render_one(self, scene: FaceWorldScene) -> np.ndarray:
        return self.render([scene])[0]

    def _check(self, s: FaceWorldScene) -> None:
        if not 0 <= s.identity < self.num_identities:
            raise ValueError(f"FaceWorld identity must be in 0..{self.num_identities - 1}, got {s.identity}")
        if s.expression not in self.expressions:
            raise ValueError(f"unknown FaceWorld expression {s.expression!r}; choose one of {self.expressions}")
        if s.occluder not in self.occluders:
            raise ValueError(f"unknown FaceWorld occluder {s.occluder!r}; choose one of {self.occluders}")
        if not (-90 <= s.yaw <= 90 and -45 <= s.pitch <= 45):
            raise ValueError(f"yaw must be in [-90, 90] and pitch in [-45, 45] degrees, got {s.yaw}, {s.pitch}")
