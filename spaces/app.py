"""The facezoo demo hub: every tab module of `spaces.tabs`, composed into one Gradio app.

Run it with ``python -m spaces.app`` (or ``make demo``); ``--help`` lists the flags. This file is layout and wiring
only: a tab's layout, events and inference live in its module.
"""

if __package__ in (None, ""):  # run as a script, as a Space does: import this folder as the `spaces` package
    import _alias  # noqa: F401

import dataclasses
from typing import List

import gradio as gr

from spaces.context import HubContext
from spaces.launch import main
from spaces.tabs import faceworld, interpolation, synthesis
from spaces.ui import FaceSlot

#: The tabs, in order. Tabs that send faces elsewhere (FaceWorld) come after the tabs they send to.
TABS = (synthesis, interpolation, faceworld)

HEADER = """# facezoo
Identity-preserving face synthesis, on CPU. Upload a photo or use a FaceWorld face."""


def build_hub(ctx: HubContext) -> gr.Blocks:
    with gr.Blocks(title="facezoo", analytics_enabled=False) as demo:
        gr.Markdown(HEADER)
        slots: List[FaceSlot] = []
        with gr.Tabs() as tabs:
            for tab in TABS:
                with gr.Tab(tab.TITLE, id=tab.TAB_ID):
                    new = tab.build(ctx, slots)
                slots += [dataclasses.replace(s, tab_id=tab.TAB_ID, tabs=tabs) for s in new]
    return demo


if __name__ == "__main__":
    main(build_hub, "facezoo demo hub: every capability in one Gradio app.")
