from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def toy_models(monkeypatch):
    """The toy GAN fixture's module, importable the way an exported model_index.json names it."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    import toy_models

    return toy_models


@pytest.fixture
def fresh_accelerate_state():
    """accelerate keeps process-wide singletons; reset them so each test builds its own Accelerator."""
    from accelerate.state import AcceleratorState, GradientState, PartialState

    yield
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    PartialState._reset_state()
