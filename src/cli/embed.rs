use super::{output, CliError, Format, EXIT_OK};
use clap::{ArgGroup, Args};
use leoma_gpu::models::{self, cosine, ImageEmbedder, TextEmbedder};
use leoma_gpu::pipeline::load_image;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("model").required(true).args(["clip", "siglip", "dino"])))]
pub struct EmbedArgs {
    /// A CLIP checkpoint (directory in HF layout or hub id).
    #[arg(long, value_name = "DIR_OR_ID")]
    pub clip: Option<String>,
    /// A SigLIP checkpoint.
    #[arg(long, value_name = "DIR_OR_ID")]
    pub siglip: Option<String>,
    /// A DINOv2 checkpoint (images only).
    #[arg(long, value_name = "DIR_OR_ID")]
    pub dino: Option<String>,
    /// Images to embed, in order.
    #[arg(long = "image", value_name = "IMG", num_args = 1.., required = true)]
    pub images: Vec<PathBuf>,
    /// Texts to embed, in order (CLIP and SigLIP only).
    #[arg(long = "text", value_name = "TEXT", num_args = 1..)]
    pub texts: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Run on the CPU even when a GPU is available.
    #[arg(long)]
    pub cpu: bool,
}

#[derive(Serialize)]
struct EmbedOutput {
    model: String,
    family: models::Family,
    digests: std::collections::BTreeMap<String, String>,
    images: Vec<String>,
    texts: Vec<String>,
    token_ids: Vec<Vec<u32>>,
    image_embeds: Vec<Vec<f32>>,
    text_embeds: Vec<Vec<f32>>,
    /// images x texts
    cosine: Vec<Vec<f32>>,
    /// images x texts, SigLIP's sigmoid probability (absent for CLIP).
    #[serde(skip_serializing_if = "Option::is_none")]
    probability: Option<Vec<Vec<f32>>>,
}

enum Loaded {
    Clip(models::clip::ClipEmbedder),
    Siglip(models::siglip::SiglipEmbedder),
    Dino(models::dinov2::Dinov2Embedder),
}

impl Loaded {
    fn image(&self) -> &dyn ImageEmbedder {
        match self {
            Loaded::Clip(m) => m,
            Loaded::Siglip(m) => m,
            Loaded::Dino(m) => m,
        }
    }

    fn text(&self) -> Option<&dyn TextEmbedder> {
        match self {
            Loaded::Clip(m) => Some(m),
            Loaded::Siglip(m) => Some(m),
            Loaded::Dino(_) => None,
        }
    }
}

pub fn run(a: EmbedArgs) -> Result<u8, CliError> {
    let (device, dtype) = models::device::select(a.cpu);
    let err = |e: models::ModelError| CliError::Input(e.to_string());
    let loaded = if let Some(spec) = &a.clip {
        Loaded::Clip(models::clip::ClipEmbedder::load(spec, &device, dtype).map_err(err)?)
    } else if let Some(spec) = &a.siglip {
        Loaded::Siglip(models::siglip::SiglipEmbedder::load(spec, &device, dtype).map_err(err)?)
    } else {
        let spec = a.dino.as_deref().expect("clap requires one model");
        Loaded::Dino(models::dinov2::Dinov2Embedder::load(spec, &device, dtype).map_err(err)?)
    };
    let (image_model, text_model) = (loaded.image(), loaded.text());
    if text_model.is_none() && !a.texts.is_empty() {
        return Err(CliError::Input(
            "--text needs a model with a text tower (--clip or --siglip)".into(),
        ));
    }
    let images = a
        .images
        .iter()
        .map(|p| load_image(p).map_err(|e| CliError::Input(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let image_embeds = image_model
        .embed_images(&images)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let texts: Vec<&str> = a.texts.iter().map(String::as_str).collect();
    let (text_embeds, token_ids) = match text_model {
        Some(t) => (
            t.embed_texts(&texts)
                .map_err(|e| CliError::Internal(e.to_string()))?,
            texts
                .iter()
                .map(|s| t.token_ids(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CliError::Internal(e.to_string()))?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let cos: Vec<Vec<f32>> = image_embeds
        .iter()
        .map(|i| text_embeds.iter().map(|t| cosine(i, t)).collect())
        .collect();
    let probability = text_model.and_then(|t| {
        t.probability(0.0).map(|_| {
            cos.iter()
                .map(|row| {
                    row.iter()
                        .map(|&c| t.probability(c).unwrap_or(0.0))
                        .collect()
                })
                .collect()
        })
    });
    let out = EmbedOutput {
        model: image_model.source().spec.clone(),
        family: image_model.family(),
        digests: image_model.source().digests.clone(),
        images: a.images.iter().map(|p| p.display().to_string()).collect(),
        texts: a.texts.clone(),
        token_ids,
        image_embeds,
        text_embeds,
        cosine: cos,
        probability,
    };
    let text = match a.format {
        Format::Json => output::to_json(&out)?,
        Format::Table | Format::Html => {
            let mut s = format!("{} ({})\n", out.model, out.family.name());
            for (img, row) in out.images.iter().zip(&out.cosine) {
                let cells: Vec<String> = row.iter().map(|c| format!("{c:+.4}")).collect();
                s.push_str(&format!("{img}: {}\n", cells.join("  ")));
            }
            s
        }
    };
    output::emit(&text, a.out.as_deref())?;
    Ok(EXIT_OK)
}
