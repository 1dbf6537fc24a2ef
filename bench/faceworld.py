"""FaceWorld throughput: samples/s at 64x64 and 128x128, image-only (the training fast path) and with all ground
truth, plus where the time goes. Run: ``python bench/faceworld.py [--threads 2] [--batch-size 32]``.

Figures (one line each)::

    faceworld.samples_per_s size=128 keys=image B=32 threads=2: 212.0 samples/s
    faceworld.stage size=128 keys=image stage=rasterize: 31.0 %
    faceworld.samples_per_s size=128 keys=image B=32 workers=2: 250.0 samples/s   (DataLoader, 1 thread each)
"""

from __future__ import annotations

import time

import torch
from common import bench_args, emit, machine_info, setup_threads, time_fn, write_markdown_table
from torch.utils.data import DataLoader

from facezoo.data.faceworld import FAST_KEYS, FaceWorldRenderer, FaceWorldStream


def _stream_rate(size: int, batch_size: int, workers: int, batches: int) -> float:
    stream = FaceWorldStream(size=size, batch_size=batch_size, keys=FAST_KEYS, num_batches=batches + 2 * workers)
    loader = DataLoader(stream, batch_size=None, num_workers=workers,
                        worker_init_fn=lambda _: torch.set_num_threads(1), prefetch_factor=2)
    it = iter(loader)
    for _ in range(workers * 2):  # let every worker build its renderer and fill its queue
        next(it)
    t = time.perf_counter()
    n = 0
    for b in it:
        n += b["image"].shape[0]
    return n / (time.perf_counter() - t)


def main() -> None:
    parser = bench_args("FaceWorld rendering throughput")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per renderer call")
    args = parser.parse_args()
    threads = setup_threads(args.threads)
    sizes = (64,) if args.quick else (64, 128)
    rows = []
    for size in sizes:
        renderer = FaceWorldRenderer(size)
        for label, keys in (("image", FAST_KEYS), ("all", "all")):
            stream = FaceWorldStream(size=size, batch_size=args.batch_size, keys=keys)
            counter = iter(range(10**9))
            timing = time_fn(lambda: stream.batch(next(counter), renderer), warmup=1,
                             repeats=2 if args.quick else args.repeats)
            rows.append(emit("faceworld.samples_per_s", args.batch_size / timing.median, "samples/s",
                             size=size, keys=label, B=args.batch_size, ss=renderer.ss, threads=threads))
            stages = {}
            t0 = time.perf_counter()
            for k in range(2):
                t = time.perf_counter()
                scene = stream.scene(1000 + k)
                stages["scene_sampling"] = stages.get("scene_sampling", 0.0) + time.perf_counter() - t
                renderer.render(scene, stream.keys, timings=stages)
            total = time.perf_counter() - t0
            for name, sec in sorted(stages.items(), key=lambda kv: -kv[1]):
                rows.append(emit("faceworld.stage", 100 * sec / total, "%", size=size, keys=label, stage=name))
    if not args.quick:
        for size in sizes:
            rate = _stream_rate(size, args.batch_size, workers=2, batches=6)
            rows.append(emit("faceworld.samples_per_s", rate, "samples/s", size=size, keys="image",
                             B=args.batch_size, workers=2, threads_per_worker=1))
    if args.write:
        write_markdown_table(args.markdown, "faceworld", rows, machine_info())


if __name__ == "__main__":
    main()
