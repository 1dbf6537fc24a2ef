"""Pieces of UI every tab uses: image inputs, turning errors into messages, and face "slots" between tabs."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Optional

import gradio as gr

from spaces.context import ScratchDir
from spaces.display import enlarge
from spaces.faces import INPUT_MODES
from spaces.models import ModelUnavailableError


def user_errors(fn: Callable) -> Callable:
    """Show what went wrong with a user's input (no face, not an image, too large, corrupt) or with the weights as
    a message in the UI (`gr.Error`) instead of a generic failure; the app keeps serving either way."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except (ValueError, ModelUnavailableError) as err:
            raise gr.Error(str(err), print_exception=False) from err

    return wrapper


def display_image(scratch: ScratchDir, image: Any) -> str:
    """What an event returns for a face it shows: `image` (PIL or ``uint8`` array) enlarged for the screen
    (`spaces.display.enlarge`, whole-factor nearest neighbour, so nothing is lost) and saved as a PNG file of its own
    (`ScratchDir.save_png` says why a file and not the image itself)."""
    return scratch.save_png(enlarge(image))


def face_image(label: str, **kwargs: Any) -> gr.Image:
    """An image input for a face: upload or webcam shot.

    Its events take it with ``preprocess=False``: the app reads the uploaded file itself (`spaces.faces.read_image`),
    so a file that is not an image, a corrupt file or a huge one gets a clear message rather than a decoding error.
    """
    return gr.Image(label=label, sources=["upload", "webcam"], type="filepath", image_mode=None, height=240, **kwargs)


def input_mode(**kwargs: Any) -> gr.Radio:
    return gr.Radio(list(INPUT_MODES), value="auto", label="Input is",
                    info="auto: small square images are aligned face crops, others are photos searched for a face",
                    **kwargs)


@dataclass
class FaceSlot:
    """An image input of one tab that other tabs can send a face to (e.g. FaceWorld → synthesis identity).

    Attributes:
        label (`str`): what the send button says, e.g. ``"Synthesis identity"``.
        component (`gr.Image`): the input to fill.
        tab_id (`str`, *optional*): the tab holding it; set by the hub, which also sets `tabs`.
        tabs (`gr.Tabs`, *optional*): the hub's tab bar, to switch to `tab_id` after sending.
    """

    label: str
    component: gr.Image
    tab_id: Optional[str] = None
    tabs: Optional[gr.Tabs] = None
