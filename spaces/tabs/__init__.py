"""One module per hub tab. Each module defines:

- ``TAB_ID`` (`str`) and ``TITLE`` (`str`);
- ``build(ctx: HubContext, slots: Sequence[FaceSlot]) -> List[FaceSlot]``: lay the tab out inside the current
  `gr.Blocks` context and wire its events (every event gets an ``api_name``); `slots` are the face inputs of the
  tabs built before it (a tab may offer to send a face to them) and the return value lists its own;
- ``demo(ctx) -> gr.Blocks``: the tab alone, for ``python -m spaces.<name>`` and single-capability Spaces.

A new method is one new module here and one entry in `spaces.app.TABS`.
"""

from __future__ import annotations

from types import ModuleType

import gradio as gr

from spaces.context import HubContext


def standalone(tab: ModuleType, ctx: HubContext) -> gr.Blocks:
    """The app of one tab module alone (no other tabs, so nothing to send faces to)."""
    with gr.Blocks(title=f"facezoo · {tab.TITLE}", analytics_enabled=False) as demo:
        gr.Markdown(f"# facezoo · {tab.TITLE}")
        tab.build(ctx, [])
    return demo
