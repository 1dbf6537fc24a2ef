"""FaceWorld tab: browse the synthetic world (identity, pose, expression, occluder, scene) and send a face to the
other tabs."""

from __future__ import annotations

import functools
import sys
from typing import Any, List, Sequence

import gradio as gr

from spaces.context import HubContext
from spaces.tabs import standalone
from spaces.ui import FaceSlot, display_image, user_errors
from spaces.world import FaceWorldScene

TAB_ID = "faceworld"
TITLE = "FaceWorld"


def render(ctx: HubContext, identity: float, yaw: float, pitch: float, expression: str, occluder: str, scene_seed: float):
    """→ (the rendered face, enlarged for display (`display_image`), a status line)."""
    scene = FaceWorldScene(identity=int(identity), yaw=float(yaw), pitch=float(pitch), expression=expression,
                           occluder=occluder, scene_seed=int(scene_seed))
    image = display_image(ctx.scratch, ctx.world.render_one(scene))
    return image, (f"FaceWorld test identity {scene.identity}, yaw {scene.yaw:g}°, pitch {scene.pitch:g}°, "
                   f"{scene.expression}, occluder: {scene.occluder}, scene {scene.scene_seed}.")


def _send(slot: FaceSlot, image: Any):
    if image is None:
        raise gr.Error("Render a FaceWorld face first.")
    return (image, gr.Tabs(selected=slot.tab_id)) if slot.tabs is not None else image


def build(ctx: HubContext, slots: Sequence[FaceSlot] = ()) -> List[FaceSlot]:
    gr.Markdown("FaceWorld is facezoo's procedural face world: every identity can be rendered under any pose, "
                "expression, occluder and light, with exact ground truth. These are test identities no model saw.")
    world = ctx.world
    with gr.Row():
        with gr.Column():
            identity = gr.Slider(0, world.num_identities - 1, value=0, step=1, label="Identity")
            yaw = gr.Slider(-90, 90, value=0, step=1, label="Yaw (degrees)")
            pitch = gr.Slider(-45, 45, value=0, step=1, label="Pitch (degrees)")
            expression = gr.Dropdown(world.expressions, value="neutral", label="Expression")
            occluder = gr.Dropdown(world.occluders, value="none", label="Occluder")
            scene_seed = gr.Number(0, precision=0, label="Scene (light, background, camera)")
            run = gr.Button("Render", variant="primary", elem_id="faceworld-run")
        with gr.Column():
            image = gr.Image(value=display_image(ctx.scratch, world.render_one(FaceWorldScene())), label="FaceWorld face", type="filepath",
                             format="png", interactive=False, height=320, elem_id="faceworld-image")
            status = gr.Markdown()
            for slot in slots:
                send = gr.Button(f"Send to {slot.label}", size="sm")
                outputs = [slot.component] + ([slot.tabs] if slot.tabs is not None else [])
                send.click(functools.partial(_send, slot), inputs=image, outputs=outputs, api_visibility="private")
    inputs = [identity, yaw, pitch, expression, occluder, scene_seed]
    gr.Examples([[s.identity, s.yaw, s.pitch, s.expression, s.occluder, s.scene_seed] for s in
                 (FaceWorldScene(7, 40, 10, "happiness"), FaceWorldScene(12, -60, 0, "surprise", scene_seed=4),
                  FaceWorldScene(21, 0, -15, "anger", "medical_mask", 2), FaceWorldScene(33, 15, 5, "sadness", "hand", 5))],
                inputs=inputs, label="Examples")
    gr.on([run.click, identity.release, yaw.release, pitch.release, expression.input, occluder.input, scene_seed.submit],
          user_errors(functools.partial(render, ctx)), inputs=inputs, outputs=[image, status], api_name="render_faceworld")
    return []


def demo(ctx: HubContext) -> gr.Blocks:
    return standalone(sys.modules[__name__], ctx)
