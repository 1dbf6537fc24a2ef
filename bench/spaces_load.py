"""Load test of the demo hub: N concurrent gradio_client users against a hub on localhost for T seconds.

Prints requests served, errors and p50/p95 latency per endpoint, one line per figure::

    python bench/spaces_load.py                 # 20 clients, 30 s, the embedded FaceFeat weights
    python bench/spaces_load.py --facefeat DIR  # other weights

Without embedded weights (before `facefeat.faceworld_64` ships) the hub serves a randomly initialised FaceFeat
pipeline of the same 64 px architecture, so latencies are those of the real networks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from common import REPO, bench_args, emit, machine_info, write_markdown_table

sys.path.insert(0, str(REPO))  # `spaces/` is imported from the repository, it is not installed


def random_facefeat_64(folder: str) -> str:
    """A FaceFeatPipeline with the default 64 px architecture and random weights, saved to `folder`."""
    import torch

    from facezoo import (FaceFeatEncoder, FaceFeatImageGenerator, FaceFeatPipeline, FaceFeatRegressor,
                         FeatureGenerator, IdentityNet)

    torch.manual_seed(0)
    identity = IdentityNet()
    k = 10
    e1 = FaceFeatRegressor(num_expression=k, feature_mean=(0.0,) * (k + 3), feature_std=(1.0,) * (k + 3),
                           expression_names=("neutral", "happiness"), expression_presets=((0.0,) * k, (1.0,) + (0.0,) * (k - 1)))
    dim1, dim2 = k + 3, 256
    pipe = FaceFeatPipeline(
        identity_encoder=identity.eval(), pose_expression_encoder=e1.eval(),
        general_encoder=FaceFeatEncoder(feature_dim=dim2).eval(),
        pose_expression_generator=FeatureGenerator(feature_dim=dim1).eval(),
        general_generator=FeatureGenerator(feature_dim=dim2).eval(),
        image_generator=FaceFeatImageGenerator(identity_dim=identity.config.embedding_dim, pose_expression_dim=dim1,
                                               general_dim=dim2).eval(),
    )
    pipe.save_pretrained(folder)
    return folder


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    import httpx

    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the hub exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise TimeoutError(f"the hub did not answer at {url} within {timeout} s")


def main() -> None:
    parser = bench_args("Demo hub load test")
    parser.add_argument("--clients", type=int, default=20, help="concurrent users")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long every user keeps sending requests")
    parser.add_argument("--facefeat", default=None, help="FaceFeat weights (default: embedded, else random 64 px)")
    parser.add_argument("--port", type=int, default=7871, help="port of the hub under test")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.seconds = min(args.clients, 4), min(args.seconds, 5.0)

    import facezoo
    from gradio_client import Client, handle_file

    from spaces.examples import write_examples
    from spaces.world import FaceWorldBrowser

    tmp = tempfile.mkdtemp(prefix="facezoo-spaces-load-")
    weights = args.facefeat or (facezoo.list_models("facefeat.*") or [None])[0] or random_facefeat_64(tmp + "/facefeat")
    examples = write_examples(FaceWorldBrowser(64), Path(tmp) / "cache")
    env = {**os.environ, "FACEZOO_FACEFEAT": weights, "FACEZOO_SPACES_CACHE": str(Path(tmp) / "cache"),
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(REPO)}
    # The hub runs in its own process, as in production, so the clients' Python does not slow its event loop.
    proc = subprocess.Popen([sys.executable, "-m", "spaces.app", "--port", str(args.port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{args.port}/"
    try:
        wait_for(url, proc)
        fw, photo = examples.faceworld, examples.photos[0]
        requests = {
            "synthesize_crop": lambda c, i: c.predict(handle_file(fw[i % 4]), "auto", 0, 0, "neutral", False, i, 4,
                                                      api_name="/synthesize"),
            "synthesize_photo": lambda c, i: c.predict(handle_file(photo), "auto", 15, 0, "happiness", False, i, 2,
                                                       api_name="/synthesize"),
            "interpolate": lambda c, i: c.predict(handle_file(fw[i % 4]), handle_file(fw[(i + 1) % 4]), "auto",
                                                  "identity (A → B)", 8, i, 8, api_name="/interpolate"),
            "render_faceworld": lambda c, i: c.predict(i % 1000, 20, 5, "surprise", "none", i, api_name="/render_faceworld"),
        }
        names = list(requests)
        latencies, errors, messages = defaultdict(list), defaultdict(int), []
        lock = threading.Lock()
        clients = [Client(url, verbose=False) for _ in range(args.clients)]
        deadline = time.time() + args.seconds

        def user(k: int) -> None:
            i = k
            while time.time() < deadline:
                name = names[i % len(names)]
                t0 = time.perf_counter()
                try:
                    requests[name](clients[k], i)
                    with lock:
                        latencies[name].append(time.perf_counter() - t0)
                except Exception as err:  # every failure counts; the first few are printed
                    with lock:
                        errors[name] += 1
                        messages.append(f"{name}: {type(err).__name__}: {err}"[:300])
                i += 1

        start = time.time()
        threads = [threading.Thread(target=user, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    print(f"# {args.clients} clients for {args.seconds:g} s (wall {wall:.1f} s incl. requests in flight), weights {weights}")
    rows = []
    served = sum(len(v) for v in latencies.values())
    rows.append(emit("spaces.requests_served", served, "requests", clients=args.clients))
    rows.append(emit("spaces.errors", sum(errors.values()), "errors", clients=args.clients))
    rows.append(emit("spaces.throughput", served / wall, "req/s", clients=args.clients))
    for name in names:
        lat = np.array(latencies[name]) * 1e3
        rows.append(emit("spaces.served", len(lat), "requests", endpoint=name))
        rows.append(emit("spaces.errors", errors[name], "errors", endpoint=name))
        if len(lat):
            rows.append(emit("spaces.latency_p50", float(np.percentile(lat, 50)), "ms", endpoint=name))
            rows.append(emit("spaces.latency_p95", float(np.percentile(lat, 95)), "ms", endpoint=name))
    for m in messages[:5]:
        print("# error:", m)
    if args.write:
        write_markdown_table(args.markdown, "spaces_load", rows, machine_info(),
                             note=f"{args.clients} gradio_client users for {args.seconds:g} s against `python -m spaces.app` "
                                  f"on localhost (queue concurrency 2 per event), weights: {Path(weights).name}.")


if __name__ == "__main__":
    main()
