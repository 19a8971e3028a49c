#!/usr/bin/env python3
"""Optical-flow references no one here wrote: OpenCV's DIS and Farneback.

  flow-reference.py inputs EXAMPLES_DIR OUT_DIR
      Writes the committed test inputs (8-bit gray PNGs at 416x240) into OUT_DIR:
        synthetic/<scene>-base.png and synthetic/<scene>-<case>.png: a real image and
        copies of it moved by known similarity motions (motions.json); real/<pair>-{a,b}.png:
        consecutive frames of the real example clips.
  flow-reference.py compare OUT_DIR LEOMA_GPU_BINARY
      Runs OpenCV DIS (medium preset) and Farneback (Leoma's parameters) and leoma-gpu's
      `flow` command on those inputs and writes OUT_DIR/reference.json: end-point error
      against the known motion on the synthetic pairs, and the warping error each flow
      leaves on the real pairs, all computed here by the same code.
  flow-reference.py bench FRAMES_DIR
      Prints OpenCV's single-thread pairs/s (JSON) for DIS and Farneback on the PNG frame
      sequence in FRAMES_DIR (consecutive pairs), for benches/flow.rs.

Conventions (shared with src/flow): pixel (column x, row y) is the point (x, y); a flow
F from A to B says A's point p is seen at p + F(p) in B. A similarity motion T maps p to
zoom * R(rot) (p - c) + c + (tx, ty) with c the frame centre ((W-1)/2, (H-1)/2); the moved
image is B(q) = S(T^-1(q)) where S is the source picture, sampled by Keys bicubic
interpolation at 4x4 points per output pixel and averaged (no aliasing). The true flow
is F(p) = T(p) - p. EPE counts pixels p with p and T(p) both at least 16 px inside.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

W, H = 416, 240
MARGIN = 16
SS = 4  # supersampling per axis

SCENES = {
    # name: (source file relative to EXAMPLES_DIR, how to get one frame)
    "cockatoo": "task/first_frame.png",
    "office": "media/realshort.mp4",
}
CASES = [
    ("shift-small", dict(tx=1.3, ty=-0.7)),
    ("shift-medium", dict(tx=5.5, ty=3.2)),
    ("shift-large", dict(tx=12.25, ty=-8.5)),
    ("rotate-2deg", dict(rot=2.0)),
    ("rotate-5deg", dict(rot=5.0)),
    ("zoom-3pct", dict(zoom=1.03)),
    ("zoom-8pct", dict(zoom=1.08)),
    ("mixed", dict(tx=3.0, ty=2.0, rot=3.0, zoom=1.04)),
]
REAL = [
    ("cockatoo-10", "task/generated_videos/miner-clean.mp4", 10),
    ("cockatoo-40", "task/generated_videos/miner-clean.mp4", 40),
    ("cockatoo-70", "task/generated_videos/miner-clean.mp4", 70),
    ("office-5", "media/realshort.mp4", 5),
    ("office-20", "media/realshort.mp4", 20),
]
FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def motion(tx=0.0, ty=0.0, rot=0.0, zoom=1.0):
    c = np.array([(W - 1) / 2, (H - 1) / 2])
    th = np.deg2rad(rot)
    m = zoom * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    return m, c, np.array([tx, ty])


def true_flow(case):
    m, c, t = motion(**case)
    x, y = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    p = np.stack([x - c[0], y - c[1]], -1)
    q = p @ m.T + c + t
    return q[..., 0] - x, q[..., 1] - y


def keys_bicubic(img, x, y):
    """Keys (a = -0.5) bicubic sample of img at float coordinates, replicated border."""
    h, w = img.shape
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0

    def kern(t):
        t = np.abs(t)
        return np.where(t <= 1, (1.5 * t - 2.5) * t * t + 1,
                        np.where(t < 2, ((-0.5 * t + 2.5) * t - 4) * t + 2, 0.0))

    out = np.zeros_like(x)
    for j in range(-1, 3):
        wy = kern(fy - j)
        yy = np.clip(y0 + j, 0, h - 1)
        for i in range(-1, 3):
            out += wy * kern(fx - i) * img[yy, np.clip(x0 + i, 0, w - 1)]
    return out


def synthesise(source, case):
    """The source picture (any size, stretched to W x H) moved by the similarity `case`."""
    hs, ws = source.shape
    m, c, t = motion(**case)
    inv = np.linalg.inv(m)
    sub = (np.arange(SS) + 0.5) / SS - 0.5
    # (H, W, SS, SS) sample points: pixel (x, y) covers [x - 0.5, x + 0.5] x [y - 0.5, y + 0.5]
    xs = np.arange(W)[None, :, None, None] + sub[None, None, None, :]
    ys = np.arange(H)[:, None, None, None] + sub[None, None, :, None]
    xs, ys = np.broadcast_arrays(xs, ys)
    q = np.stack([xs - c[0] - t[0], ys - c[1] - t[1]], -1)
    p = q @ inv.T + c
    # low-res coordinates -> source coordinates (pixel centres aligned)
    sx = (p[..., 0] + 0.5) * ws / W - 0.5
    sy = (p[..., 1] + 0.5) * hs / H - 0.5
    v = keys_bicubic(source.astype(np.float64), sx, sy).mean(axis=(2, 3))
    return np.clip(np.round(v), 0, 255).astype(np.uint8)


def gray_frame(path, index=0):
    """Frame `index` of an image or clip as 8-bit BT.601 luma at its own size."""
    if path.endswith(".png"):
        rgb = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    else:
        cap = cv2.VideoCapture(path)
        for _ in range(index + 1):
            ok, bgr = cap.read()
            assert ok, f"{path}: no frame {index}"
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    rgb = rgb.astype(np.float64)
    return np.clip(np.round(0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]), 0, 255).astype(np.uint8)


def inputs(examples, out):
    os.makedirs(f"{out}/synthetic", exist_ok=True)
    os.makedirs(f"{out}/real", exist_ok=True)
    manifest = {"size": [W, H], "margin": MARGIN, "convention": __doc__.split("Conventions")[1].strip(),
                "scenes": {}, "cases": dict(CASES), "real": {}}
    for scene, rel in SCENES.items():
        src = gray_frame(os.path.join(examples, rel), 0)
        manifest["scenes"][scene] = {"source": rel, "source_size": [src.shape[1], src.shape[0]]}
        cv2.imwrite(f"{out}/synthetic/{scene}-base.png", synthesise(src, {}))
        for name, case in CASES:
            cv2.imwrite(f"{out}/synthetic/{scene}-{name}.png", synthesise(src, case))
    for name, rel, t in REAL:
        for k, idx in (("a", t), ("b", t + 1)):
            g = gray_frame(os.path.join(examples, rel), idx)
            g = cv2.resize(g, (W, H), interpolation=cv2.INTER_AREA)
            cv2.imwrite(f"{out}/real/{name}-{k}.png", g)
        manifest["real"][name] = {"source": rel, "frames": [t, t + 1]}
    with open(f"{out}/motions.json", "w") as f:
        json.dump(manifest, f, indent=1)


# ---- the measures, written once for every method (mirrors src/flow/analysis.rs)
def bilinear(img, x, y):
    h, w = img.shape
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    top = img[y0, x0] + fx * (img[y0, x1] - img[y0, x0])
    bot = img[y1, x0] + fx * (img[y1, x1] - img[y1, x0])
    return top + fy * (bot - top)


def interior_mask(gu, gv):
    x, y = np.meshgrid(np.arange(W), np.arange(H))
    qx, qy = x + gu, y + gv
    inside = lambda a, n: (a >= MARGIN) & (a <= n - 1 - MARGIN)
    return inside(x, W) & inside(y, H) & inside(qx, W) & inside(qy, H)


def epe(flow, gu, gv):
    m = interior_mask(gu, gv)
    return float(np.sqrt((flow[..., 0] - gu) ** 2 + (flow[..., 1] - gv) ** 2)[m].mean())


def warp_error(a, b, fwd, bwd):
    """RMS residual of B warped along the forward flow, over reliable pixels, 8-bit levels."""
    a, b = a.astype(np.float64) / 255, b.astype(np.float64) / 255
    x, y = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    fu, fv = fwd[..., 0].astype(np.float64), fwd[..., 1].astype(np.float64)
    tx, ty = x + fu, y + fv
    inside = (tx >= 0) & (tx <= W - 1) & (ty >= 0) & (ty <= H - 1)
    bw = bilinear(b, tx, ty)
    gu, gv = bilinear(bwd[..., 0].astype(np.float64), tx, ty), bilinear(bwd[..., 1].astype(np.float64), tx, ty)
    f2 = fu ** 2 + fv ** 2
    disagree = (fu + gu) ** 2 + (fv + gv) ** 2 > 0.01 * (f2 + gu ** 2 + gv ** 2) + 0.5
    grad = sum(np.gradient(c, axis=ax) ** 2 for c in (fu, fv) for ax in (0, 1))
    boundary = grad > 0.01 * f2 + 0.002
    ok = inside & ~disagree & ~boundary
    r = (bw - a)[ok]
    return float(np.sqrt((r ** 2).mean()) * 255), float(1 - ok.mean())


def opencv_methods():
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return {
        "dis_medium": lambda a, b: dis.calc(a, b, None),
        "farneback": lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, **FARNEBACK),
    }


def read_flo(path):
    with open(path, "rb") as f:
        assert f.read(4) == b"PIEH", path
        w, h = np.frombuffer(f.read(8), "<i4")
        return np.frombuffer(f.read(), "<f4").reshape(h, w, 2)


def ours(binary):
    tmp = tempfile.mkdtemp()

    def run(a, b):
        pa, pb, out = f"{tmp}/a.png", f"{tmp}/b.png", f"{tmp}/f.flo"
        cv2.imwrite(pa, a)
        cv2.imwrite(pb, b)
        subprocess.run([binary, "flow", pa, pb, "--out", out, "--backend", "cpu"], check=True)
        return read_flo(out)
    return run


def compare(out, binary):
    cv2.setNumThreads(1)
    manifest = json.load(open(f"{out}/motions.json"))
    methods = {"leoma_gpu": ours(binary), **opencv_methods()}
    result = {"opencv": cv2.__version__, "numpy": np.__version__, "farneback_params": FARNEBACK,
              "dis_preset": "medium", "synthetic": [], "real": []}
    for scene in manifest["scenes"]:
        a = cv2.imread(f"{out}/synthetic/{scene}-base.png", cv2.IMREAD_GRAYSCALE)
        for name, case in CASES:
            b = cv2.imread(f"{out}/synthetic/{scene}-{name}.png", cv2.IMREAD_GRAYSCALE)
            gu, gv = true_flow(case)
            row = {"scene": scene, "case": name, "epe": {}}
            for method, f in methods.items():
                row["epe"][method] = round(epe(f(a, b), gu, gv), 6)
            result["synthetic"].append(row)
            print(scene, name, row["epe"], file=sys.stderr)
    for name in manifest["real"]:
        a = cv2.imread(f"{out}/real/{name}-a.png", cv2.IMREAD_GRAYSCALE)
        b = cv2.imread(f"{out}/real/{name}-b.png", cv2.IMREAD_GRAYSCALE)
        row = {"pair": name, "warp_rmse_levels": {}, "unreliable_fraction": {}}
        for method, f in methods.items():
            e, u = warp_error(a, b, f(a, b), f(b, a))
            row["warp_rmse_levels"][method] = round(e, 6)
            row["unreliable_fraction"][method] = round(u, 6)
        result["real"].append(row)
        print(name, row, file=sys.stderr)
    mean = lambda rows, key, m: float(np.mean([r[key][m] for r in rows]))
    result["summary"] = {
        m: {"mean_epe": round(mean(result["synthetic"], "epe", m), 6),
            "mean_warp_rmse_levels": round(mean(result["real"], "warp_rmse_levels", m), 6)}
        for m in methods}
    with open(f"{out}/reference.json", "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result["summary"]))


def bench(frames_dir):
    cv2.setNumThreads(1)
    files = sorted(p for p in os.listdir(frames_dir) if p.endswith(".png"))
    frames = [cv2.imread(os.path.join(frames_dir, p), cv2.IMREAD_GRAYSCALE) for p in files]
    out = {"opencv": cv2.__version__, "threads": 1, "size": [frames[0].shape[1], frames[0].shape[0]],
           "pairs": len(frames) - 1, "pairs_per_s": {}}
    for method, f in opencv_methods().items():
        f(frames[0], frames[1])
        times = []
        for _ in range(3):
            t = time.perf_counter()
            for a, b in zip(frames, frames[1:]):
                f(a, b)
            times.append(time.perf_counter() - t)
        out["pairs_per_s"][method] = (len(frames) - 1) / sorted(times)[1]
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "inputs" and len(sys.argv) == 4:
        inputs(sys.argv[2], sys.argv[3])
    elif cmd == "compare" and len(sys.argv) == 4:
        compare(sys.argv[2], sys.argv[3])
    elif cmd == "bench" and len(sys.argv) == 3:
        bench(sys.argv[2])
    else:
        sys.exit(__doc__)
