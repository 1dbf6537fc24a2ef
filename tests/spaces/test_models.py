"""ModelStore: where weights come from (flag > env var > default), loading once under concurrent first requests,
and clear messages when weights are missing."""

from __future__ import annotations

import threading
import time

import pytest

import facezoo
from spaces.models import MODEL_SPECS, ModelStore, ModelUnavailableError


def test_source_precedence(monkeypatch):
    monkeypatch.delenv("FACEZOO_FACEFEAT", raising=False)
    assert ModelStore().source("facefeat") == "facefeat.faceworld_64"
    monkeypatch.setenv("FACEZOO_FACEFEAT", "org/from-env")
    assert ModelStore().source("facefeat") == "org/from-env"
    assert ModelStore({"facefeat": "org/from-flag"}).source("facefeat") == "org/from-flag"
    assert ModelStore({"facefeat": None}).source("facefeat") == "org/from-env"  # an unset flag falls through
    with pytest.raises(ValueError, match="unknown methods"):
        ModelStore({"nope": "x"})


def test_loads_once_under_concurrent_first_requests():
    calls = []

    class Fake:
        def to(self, device):
            return self

        def set_progress_bar_config(self, **kwargs):
            pass

    def loader(source):
        calls.append(source)
        time.sleep(0.2)  # a slow load, so that every thread arrives while it runs
        return Fake()

    store = ModelStore({"facefeat": "some/weights"}, loader=loader)
    got = []
    threads = [threading.Thread(target=lambda: got.append(store.pipeline("facefeat"))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["some/weights"]
    assert len(got) == 6 and all(g is got[0] for g in got)


def test_missing_weights_message(tmp_path):
    store = ModelStore({"facefeat": str(tmp_path / "nowhere")})
    with pytest.raises(ModelUnavailableError, match="FACEZOO_FACEFEAT=<named weight | folder | Hub repo id>"):
        store.pipeline("facefeat")
    assert store.component_config("facefeat", "pose_expression_encoder") == {}


def test_component_config_without_loading(tiny_weights):
    store = ModelStore({"facefeat": tiny_weights}, loader=lambda s: pytest.fail("must not load"))
    assert store.component_config("facefeat", "pose_expression_encoder")["expression_names"] == ["neutral", "happiness"]
    assert not store.loaded("facefeat")


@pytest.mark.skipif(not facezoo.list_models("facefeat.*"),
                    reason="the embedded facefeat.faceworld_64 weights are not in this checkout yet")
def test_embedded_default_weights_run_in_the_hub(hub_context):
    """The default the hub ships with: the named weight loads and the synthesis tab's function runs on it."""
    from spaces.context import HubContext
    from spaces.tabs import synthesis

    ctx = HubContext(models=ModelStore(), faces=hub_context.faces, world=hub_context.world,
                     examples=hub_context.examples, scratch=hub_context.scratch)
    assert ctx.models.source("facefeat") == MODEL_SPECS["facefeat"].default or "FACEZOO_FACEFEAT" in __import__("os").environ
    images, crop, status = synthesis.synthesize(ctx, hub_context.examples.faceworld[0], "auto", 0, 0, "neutral", False, 0, 2)
    import PIL.Image

    from spaces.display import DISPLAY_SIZE, display_factor

    size = ctx.models.pipeline("facefeat").image_size
    shown = size * display_factor(size)
    assert shown >= DISPLAY_SIZE
    assert [PIL.Image.open(path).size for path in images] == [(shown, shown)] * 2
