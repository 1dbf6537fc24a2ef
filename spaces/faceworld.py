"""`python -m spaces.faceworld`: the faceworld tab alone, the same module the hub composes (deployable as its own Space)."""

if __package__ in (None, ""):  # run as a script, as a Space does: import this folder as the `spaces` package
    import _alias  # noqa: F401

import functools

from spaces.launch import main
from spaces.tabs import faceworld, standalone

if __name__ == "__main__":
    main(functools.partial(standalone, faceworld), "facezoo: the faceworld tab alone.")
