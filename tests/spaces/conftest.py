"""A hub served on localhost with a tiny random FaceFeat pipeline, shared by the app and browser tests."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from facezoo.utils.testing import make_tiny_facefeat

# `spaces/` is not part of the installed package: import it from the repository (before this test folder, whose
# name would otherwise make `spaces` a namespace package).
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A tiny FaceFeat pipeline (16 px) saved as a folder, as `FACEZOO_FACEFEAT` would name it."""
    folder = tmp_path_factory.mktemp("facefeat_tiny")
    make_tiny_facefeat().save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def hub_context(tiny_weights, tmp_path_factory):
    from spaces.context import make_context

    return make_context({"facefeat": tiny_weights}, cache_dir=tmp_path_factory.mktemp("spaces_cache"))


@pytest.fixture(scope="session")
def hub_url(hub_context):
    """URL of the hub, launched once per session without blocking."""
    from spaces.app import build_hub
    from spaces.launch import serve

    demo = build_hub(hub_context)
    _, url, _ = serve(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()


@pytest.fixture(scope="session")
def shown_hub(tiny_weights, tmp_path_factory):
    """What the browser test drives: the hub on the embedded default weights when they are shipped (its screenshots are
    the README's, in docs/screenshots/), else on the tiny test pipeline (screenshots to a temporary folder, so grey test
    outputs never replace the README's). ``$FACEZOO_SCREENSHOTS`` overrides where they go.

    Yields ``(url, context, screenshot folder)``."""
    import os

    import facezoo
    from spaces.app import build_hub
    from spaces.context import make_context
    from spaces.launch import serve

    real = bool(facezoo.list_models("facefeat.*"))
    weights = "facefeat.faceworld_64" if real else tiny_weights
    context = make_context({"facefeat": weights}, cache_dir=tmp_path_factory.mktemp("shown_cache"))
    shots = os.environ.get("FACEZOO_SCREENSHOTS") or (REPO / "docs" / "screenshots" if real else tmp_path_factory.mktemp("shots"))
    demo = build_hub(context)
    _, url, _ = serve(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url, context, Path(shots)
    demo.close()
