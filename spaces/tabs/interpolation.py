"""Interpolation tab: two faces → a strip of frames morphing one feature (identity, pose and expression, or the
general features) with the others fixed, as an animated GIF with a slider to scrub; and a pose/expression sweep of
one identity between two settings."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, List, Sequence

import gradio as gr
import PIL.Image
import torch

from spaces.context import HubContext
from spaces.faces import read_image
from spaces.tabs import standalone
from spaces.tabs.synthesis import METHOD, expression_choices
from spaces.display import enlarge
from spaces.ui import FaceSlot, face_image, input_mode, user_errors

TAB_ID = "interpolation"
TITLE = "Interpolation"
MAX_STEPS = 16
#: UI label → the `feature` argument of `FaceFeatPipeline.interpolate`.
FEATURES = {
    "identity (A → B)": "identity",
    "pose & expression (A's → B's)": "pose_expression",
    "light & background (A's → B's)": "general",
}


def _steps(steps: float) -> int:
    n = int(steps)
    if not 2 <= n <= MAX_STEPS:
        raise ValueError(f"number of frames must be in 2..{MAX_STEPS}, got {steps}")
    return n


def write_gif(path: Path, frames: Sequence[PIL.Image.Image], fps: float) -> str:
    """Save `frames` as a looping GIF that plays forward then back (a smooth loop for a morph)."""
    if not 1 <= fps <= 30:
        raise ValueError(f"frames per second must be in 1..30, got {fps}")
    loop = list(frames) + list(frames[-2:0:-1])
    loop[0].save(path, format="GIF", save_all=True, append_images=loop[1:], duration=int(round(1000 / fps)), loop=0)
    return str(path)


def _result(ctx: HubContext, frames: List[PIL.Image.Image], fps: float, status: str):
    """The outputs of a strip: frames and GIF enlarged for display, each frame a PNG file (see `display_image`)."""
    shown = [enlarge(f) for f in frames]
    gif = write_gif(ctx.scratch.new_path(".gif"), shown, float(fps))
    files = [ctx.scratch.save_png(f) for f in shown]
    scrubber = gr.Slider(minimum=0, maximum=len(frames) - 1, value=0, step=1, label="Frame", interactive=True)
    return files, gif, files, scrubber, files[0], status


def interpolate(ctx: HubContext, image_a: Any, image_b: Any, mode: str, feature: str, steps: float, seed: float,
                fps: float):
    """→ (frames, GIF file, frames for the scrubber's state, the scrubber, the first frame, a status line)."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; choose one of {list(FEATURES)}")
    n = _steps(steps)
    a = ctx.faces.prepare(read_image(image_a, "face A"), mode, name="face A")
    b = ctx.faces.prepare(read_image(image_b, "face B"), mode, name="face B")
    pipe = ctx.models.pipeline(METHOD)
    frames = pipe.interpolate(a.crop, b.crop, steps=n, feature=FEATURES[feature],
                              generator=torch.Generator().manual_seed(int(seed)), output_type="pil")
    return _result(ctx, frames, fps, f"{n} frames interpolating {feature}. A: {a.describe()}; B: {b.describe()}.")


def sweep(ctx: HubContext, image_a: Any, mode: str, yaw_from: float, yaw_to: float, pitch_from: float,
          pitch_to: float, expression_from: str, expression_to: str, steps: float, fps: float):
    """One identity (face A, with its own light and background) from one pose/expression to another."""
    n = _steps(steps)
    a = ctx.faces.prepare(read_image(image_a, "face A"), mode, name="face A")
    pipe = ctx.models.pipeline(METHOD)
    for e in (expression_from, expression_to):
        if e not in pipe.expression_names:
            raise ValueError(f"unknown expression {e!r}; this model knows {pipe.expression_names}")
    start = pipe.pose_expression_feature(yaw=float(yaw_from), pitch=float(pitch_from), expression=expression_from)
    end = pipe.pose_expression_feature(yaw=float(yaw_to), pitch=float(pitch_to), expression=expression_to)
    t = torch.linspace(0.0, 1.0, n, dtype=start.dtype, device=start.device)[:, None]
    enc = pipe.encode(a.crop)
    frames = pipe(identity_embedding=enc.identity, num_images_per_identity=n, pose_expression_features=torch.lerp(start, end, t),
                  general_features=enc.general, output_type="pil").images
    status = (f"{n} frames of face A from yaw {yaw_from:g}°, pitch {pitch_from:g}°, {expression_from} to yaw {yaw_to:g}°, "
              f"pitch {pitch_to:g}°, {expression_to}. A: {a.describe()}.")
    return _result(ctx, frames, fps, status)


def scrub(frames: List[str], index: float):
    """The frame at `index` of this user's last strip (kept in `gr.State`)."""
    if not frames:
        raise ValueError("Nothing to scrub yet: run an interpolation first.")
    return frames[min(max(int(index), 0), len(frames) - 1)]


def build(ctx: HubContext, slots: Sequence[FaceSlot] = ()) -> List[FaceSlot]:
    gr.Markdown("Morph between two faces one feature at a time, or sweep one face through poses and expressions.")
    with gr.Row():
        face_a = face_image("Face A", elem_id="interpolation-a")
        face_b = face_image("Face B", elem_id="interpolation-b")
        with gr.Column():
            mode = input_mode()
            feature = gr.Radio(list(FEATURES), value=next(iter(FEATURES)), label="Interpolate")
            with gr.Row():
                steps = gr.Slider(2, MAX_STEPS, value=8, step=1, label="Frames")
                fps = gr.Slider(1, 30, value=8, step=1, label="GIF frames per second")
            seed = gr.Number(0, precision=0, label="Seed (pose and light of an identity morph)")
            run = gr.Button("Interpolate A → B", variant="primary", elem_id="interpolation-run")
    fw = ctx.examples.faceworld
    gr.Examples([[fw[0], fw[1]], [fw[2], fw[3]], [fw[1], ctx.examples.photos[0]]], inputs=[face_a, face_b],
                label="Examples: FaceWorld faces and a photo")
    with gr.Accordion("One identity: sweep face A through poses and expressions", open=False):
        choices = expression_choices(ctx)
        with gr.Row():
            yaw_from = gr.Slider(-60, 60, value=-45, step=1, label="Yaw from")
            yaw_to = gr.Slider(-60, 60, value=45, step=1, label="Yaw to")
            pitch_from = gr.Slider(-30, 30, value=0, step=1, label="Pitch from")
            pitch_to = gr.Slider(-30, 30, value=0, step=1, label="Pitch to")
        with gr.Row():
            exp_from = gr.Dropdown(choices, value=choices[0], label="Expression from")
            exp_to = gr.Dropdown(choices, value=choices[-1], label="Expression to")
            run_sweep = gr.Button("Sweep face A", elem_id="interpolation-sweep")
    gallery = gr.Gallery(label="Frames", columns=8, format="png", height=200, elem_id="interpolation-gallery")
    with gr.Row():
        gif = gr.Image(label="Animation (GIF)", type="filepath", interactive=False, height=260, elem_id="interpolation-gif")
        with gr.Column():
            frame = gr.Image(label="Frame", format="png", interactive=False, height=200)
            scrubber = gr.Slider(0, 7, value=0, step=1, label="Frame")
    status = gr.Markdown(elem_id="interpolation-status")
    frames = gr.State([])  # this user's last strip, for the scrubber

    outputs = [gallery, gif, frames, scrubber, frame, status]
    run.click(user_errors(functools.partial(interpolate, ctx)), inputs=[face_a, face_b, mode, feature, steps, seed, fps],
              outputs=outputs, api_name="interpolate", preprocess=False)
    run_sweep.click(user_errors(functools.partial(sweep, ctx)),
                    inputs=[face_a, mode, yaw_from, yaw_to, pitch_from, pitch_to, exp_from, exp_to, steps, fps],
                    outputs=outputs, api_name="sweep", preprocess=False)
    scrubber.change(user_errors(scrub), inputs=[frames, scrubber], outputs=frame, api_name="scrub",
                    show_progress="hidden")
    return [FaceSlot("Interpolation face A", face_a), FaceSlot("Interpolation face B", face_b)]


def demo(ctx: HubContext) -> gr.Blocks:
    return standalone(sys.modules[__name__], ctx)
