"""Example images for every tab's `gr.Examples`: FaceWorld faces rendered into a cache folder at start-up, and the
real photo packaged with facezoo (which goes through detection and alignment)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import PIL.Image

from spaces.world import FaceWorldBrowser, FaceWorldScene

#: The FaceWorld faces shown as examples: varied identities, poses, expressions, one with an occluder.
EXAMPLE_SCENES = (
    FaceWorldScene(identity=0, yaw=0.0, pitch=0.0, expression="neutral"),
    FaceWorldScene(identity=1, yaw=30.0, pitch=5.0, expression="happiness", scene_seed=1),
    FaceWorldScene(identity=2, yaw=-25.0, pitch=-5.0, expression="surprise", scene_seed=2),
    FaceWorldScene(identity=3, yaw=10.0, pitch=0.0, expression="neutral", occluder="sunglasses", scene_seed=3),
)


def default_cache_dir() -> Path:
    """``$FACEZOO_SPACES_CACHE``, else ``$XDG_CACHE_HOME/facezoo/spaces`` (``~/.cache/facezoo/spaces``)."""
    if os.environ.get("FACEZOO_SPACES_CACHE"):
        return Path(os.environ["FACEZOO_SPACES_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "facezoo" / "spaces"


@dataclass(frozen=True)
class ExampleImages:
    """Files of the example images.

    Attributes:
        faceworld (`List[str]`): PNGs of `EXAMPLE_SCENES`, aligned 64 px crops.
        photos (`List[str]`): real photos packaged with facezoo.
    """

    faceworld: List[str]
    photos: List[str]

    @property
    def all(self) -> List[str]:
        return [*self.faceworld, *self.photos]


def write_examples(browser: FaceWorldBrowser, cache_dir: Optional[Path] = None) -> ExampleImages:
    """Render `EXAMPLE_SCENES` into `cache_dir` (kept between runs: rendering is deterministic) and list the photos."""
    from facezoo.assets import PHOTOS, photo_path

    folder = Path(cache_dir or default_cache_dir()) / f"faceworld_{browser.size}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"faceworld_{s.identity}_{s.expression}_{s.occluder}.png" for s in EXAMPLE_SCENES]
    missing = [i for i, p in enumerate(paths) if not p.is_file()]
    if missing:
        images = browser.render([EXAMPLE_SCENES[i] for i in missing])
        for i, image in zip(missing, images):
            # Write then rename, so a second app starting at the same time never reads half a file.
            tmp = paths[i].with_suffix(f".{os.getpid()}.tmp")
            PIL.Image.fromarray(image).save(tmp, format="PNG")
            os.replace(tmp, paths[i])
    return ExampleImages(faceworld=[str(p) for p in paths], photos=[str(photo_path(n)) for n in sorted(PHOTOS)])
