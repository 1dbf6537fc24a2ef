"""Command line, queue and server settings shared by the hub and every single-capability app.

``python -m spaces.app --help`` lists the flags: one per method for its weights (``--facefeat``), plus host, port
and the limits below.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Callable, Optional, Sequence

import gradio as gr

from spaces.context import HubContext, make_context
from spaces.models import MODEL_SPECS

#: Jobs running at once per event. Each is already parallel inside torch, and the hub targets 2-core machines.
CONCURRENCY_LIMIT = 2
#: Requests waiting beyond this are refused with "queue full" rather than waiting minutes.
QUEUE_SIZE = 64
#: Largest upload accepted (gradio refuses bigger files before they reach the app).
MAX_FILE_SIZE = "10mb"


def build_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    for spec in MODEL_SPECS.values():
        parser.add_argument(f"--{spec.method}", default=None, metavar="WEIGHTS",
                            help=f"{spec.title} weights: named weight, folder or Hub repo id "
                                 f"(default: ${spec.env_var}, else {spec.default})")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to listen on (0.0.0.0 to serve the network; default $GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                        help="port (default $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--cache_dir", default=None,
                        help="where example images are written (default $FACEZOO_SPACES_CACHE or ~/.cache/facezoo/spaces)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY_LIMIT, help="jobs run at once per event")
    parser.add_argument("--queue_size", type=int, default=QUEUE_SIZE, help="most requests waiting in the queue")
    parser.add_argument("--max_file_size", default=MAX_FILE_SIZE, help="largest upload, e.g. 10mb")
    return parser


def context_from_args(args: argparse.Namespace) -> HubContext:
    return make_context({m: getattr(args, m) for m in MODEL_SPECS}, cache_dir=args.cache_dir)


def serve(
    demo: gr.Blocks,
    host: str = "127.0.0.1",
    port: Optional[int] = None,
    concurrency: int = CONCURRENCY_LIMIT,
    queue_size: int = QUEUE_SIZE,
    max_file_size: str = MAX_FILE_SIZE,
    **launch_kwargs: Any,
):
    """Queue `demo` and launch it offline (no share link, no server-side rendering, no analytics)."""
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return demo.launch(server_name=host, server_port=port, max_file_size=max_file_size, share=False, ssr_mode=False,
                       show_error=True, **launch_kwargs)


def main(build: Callable[[HubContext], gr.Blocks], description: str, argv: Optional[Sequence[str]] = None) -> None:
    """Parse flags, build the app with `build(context)` and serve it until interrupted."""
    args = build_parser(description).parse_args(argv)
    demo = build(context_from_args(args))
    serve(demo, host=args.host, port=args.port, concurrency=args.concurrency, queue_size=args.queue_size,
          max_file_size=args.max_file_size)
