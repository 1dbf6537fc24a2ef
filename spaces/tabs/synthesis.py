"""Synthesis tab: one identity (upload, webcam shot or FaceWorld face) → new faces of that person under a chosen or
sampled pose and expression, with FaceFeat-GAN; and frontalization, pasted back into the photo."""

from __future__ import annotations

import functools
import sys
from typing import Any, List, Sequence

import gradio as gr
import torch

from spaces.context import HubContext
from spaces.faces import read_image
from spaces.tabs import standalone
from spaces.ui import FaceSlot, display_image, face_image, input_mode, user_errors

TAB_ID = "synthesis"
TITLE = "Synthesis"
METHOD = "facefeat"
MAX_SAMPLES = 8


def expression_choices(ctx: HubContext) -> List[str]:
    """The expression presets of the FaceFeat weights (read from their config, without loading them)."""
    names = ctx.models.component_config(METHOD, "pose_expression_encoder").get("expression_names")
    return list(names) if names else ["neutral"]


def _check_expression(pipe, expression: str) -> None:
    if expression not in pipe.expression_names:
        raise ValueError(f"unknown expression {expression!r}; this model knows {pipe.expression_names}")


def synthesize(ctx: HubContext, image: Any, mode: str, yaw: float, pitch: float, expression: str, random_pose: bool,
               seed: float, num_samples: float):
    """→ (samples, the aligned input crop, a status line); images as files enlarged for display (`display_image`)."""
    n = int(num_samples)
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"number of samples must be in 1..{MAX_SAMPLES}, got {num_samples}")
    face = ctx.faces.prepare(read_image(image, "identity image"), mode, name="the identity image")
    pipe = ctx.models.pipeline(METHOD)
    f1 = None
    if not random_pose:
        _check_expression(pipe, expression)
        f1 = pipe.pose_expression_feature(yaw=float(yaw), pitch=float(pitch), expression=expression)
    # The seed draws the general features (light, background), and the pose/expression when they are sampled.
    generator = torch.Generator().manual_seed(int(seed))
    images = pipe(identity_image=face.crop, num_images_per_identity=n, generator=generator,
                  pose_expression_features=f1, output_type="pil").images
    what = "sampled poses and expressions" if random_pose else f"yaw {yaw:g}°, pitch {pitch:g}°, {expression}"
    shown = [display_image(ctx.scratch, im) for im in images]
    return shown, display_image(ctx.scratch, face.crop), f"Input {face.describe()}. {n} sample(s) with {what}, seed {int(seed)}."


def frontalize(ctx: HubContext, image: Any, mode: str, expression: str):
    """→ (the frontal face, the photo with it pasted back or None for crop inputs, a status line); images as files
    enlarged for display (`display_image`)."""
    face = ctx.faces.prepare(read_image(image, "identity image"), mode, name="the identity image")
    pipe = ctx.models.pipeline(METHOD)
    _check_expression(pipe, expression)
    frontal = pipe.frontalize(face.crop, expression=expression, output_type="pil")[0]
    pasted = ctx.faces.paste(face, frontal) if face.from_photo else None
    where = " and pasted back into the photo" if pasted is not None else ""
    pasted = display_image(ctx.scratch, pasted) if pasted is not None else None
    return display_image(ctx.scratch, frontal), pasted, f"Input {face.describe()}. Frontalized with a {expression} expression{where}."


def build(ctx: HubContext, slots: Sequence[FaceSlot] = ()) -> List[FaceSlot]:
    gr.Markdown("Give one face; FaceFeat-GAN keeps the identity and draws new images of that person. "
                "Photos go through face detection and alignment; FaceWorld faces are used as they are.")
    with gr.Row():
        with gr.Column():
            identity = face_image("Identity (photo, webcam shot or FaceWorld face)", elem_id="synthesis-identity")
            mode = input_mode()
            gr.Examples([[p] for p in ctx.examples.all], inputs=[identity], label="Examples: FaceWorld faces and a photo")
        with gr.Column():
            yaw = gr.Slider(-60, 60, value=0, step=1, label="Yaw (degrees)")
            pitch = gr.Slider(-30, 30, value=0, step=1, label="Pitch (degrees)")
            choices = expression_choices(ctx)
            expression = gr.Dropdown(choices, value=choices[0], label="Expression")
            random_pose = gr.Checkbox(False, label="Sample pose and expression instead (ignores the sliders)")
            with gr.Row():
                seed = gr.Number(0, precision=0, label="Seed")
                num_samples = gr.Slider(1, MAX_SAMPLES, value=4, step=1, label="Samples")
            with gr.Row():
                run = gr.Button("Generate", variant="primary", elem_id="synthesis-run")
                front = gr.Button("Frontalize", elem_id="synthesis-frontalize")
    with gr.Row():
        gallery = gr.Gallery(label="Samples", columns=4, format="png", height=260, elem_id="synthesis-gallery")
        aligned = gr.Image(label="Aligned input", format="png", interactive=False, height=260)
    with gr.Row():
        frontal = gr.Image(label="Frontalized", format="png", interactive=False, height=260)
        pasted = gr.Image(label="Frontalized, pasted back into the photo", format="png", interactive=False, height=260)
    status = gr.Markdown(elem_id="synthesis-status")

    run.click(user_errors(functools.partial(synthesize, ctx)),
              inputs=[identity, mode, yaw, pitch, expression, random_pose, seed, num_samples],
              outputs=[gallery, aligned, status], api_name="synthesize", preprocess=False)
    front.click(user_errors(functools.partial(frontalize, ctx)), inputs=[identity, mode, expression],
                outputs=[frontal, pasted, status], api_name="frontalize", preprocess=False)
    return [FaceSlot("Synthesis identity", identity)]


def demo(ctx: HubContext) -> gr.Blocks:
    return standalone(sys.modules[__name__], ctx)
