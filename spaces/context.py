"""`HubContext`: what every tab's ``build`` receives — the shared, read-only services of one app process."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import PIL.Image

from spaces.examples import ExampleImages, write_examples
from spaces.faces import FaceAligner
from spaces.models import ModelStore
from spaces.world import FaceWorldBrowser


class ScratchDir:
    """A folder for files the app hands to gradio (animated GIFs); files older than `max_age_s` are removed as new
    ones are made, so a long-running app does not fill the disk.

    Args:
        root (`Path`, *optional*): the folder (defaults to a new temporary folder).
        max_age_s (`float`, *optional*, defaults to 3600).
    """

    def __init__(self, root: Optional[Path] = None, max_age_s: float = 3600.0):
        self.root = Path(root or tempfile.mkdtemp(prefix="facezoo-spaces-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_age_s = max_age_s

    def new_path(self, suffix: str) -> Path:
        now = time.time()
        for old in self.root.iterdir():
            try:
                if now - old.stat().st_mtime > self.max_age_s:
                    old.unlink()
            except OSError:  # another request removed it first
                pass
        return self.root / f"{uuid.uuid4().hex}{suffix}"

    def save_png(self, image: PIL.Image.Image) -> str:
        """Write `image` to a new file of its own and return its path, for an event to return instead of the image.

        Gradio copies a returned *file* into its cache under a content hash with an atomic rename, and reuses an
        existing copy. A returned PIL image or array is instead re-encoded and written in place to
        ``<cache>/<hash of the picture>/image.png`` (``gradio.processing_utils.save_pil_to_cache``), so when two
        requests produced the same picture (same inputs, same seed), the second truncated the file while a client
        was still downloading the first: ``RemoteProtocolError: peer closed connection without sending complete
        message body`` in ``bench/spaces_load.py``.
        """
        path = self.new_path(".png")
        image.save(path, format="PNG")
        return str(path)


@dataclass
class HubContext:
    """Shared services of one app: pipelines, the photo aligner, FaceWorld renders, example files, scratch files.

    Every field is shared by all users; per-user values travel in event arguments and `gr.State`.
    """

    models: ModelStore
    faces: FaceAligner
    world: FaceWorldBrowser
    examples: ExampleImages
    scratch: ScratchDir


def make_context(sources: Optional[Mapping[str, Optional[str]]] = None, cache_dir: Optional[os.PathLike] = None) -> HubContext:
    """Build the services of one app; writes the example images (a few seconds the first time)."""
    world = FaceWorldBrowser(size=64)
    return HubContext(
        models=ModelStore(sources),
        # Measured rather than fixed, so photos keep matching FaceWorld's framing if the world is re-tuned.
        faces=FaceAligner(margin=world.alignment_margin()),
        world=world,
        examples=write_examples(world, Path(cache_dir) if cache_dir else None),
        scratch=ScratchDir(),
    )
