use super::{CliError, EXIT_OK};
use clap::Subcommand;
use leoma_gpu::models::loader;

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Download checkpoints into the Hugging Face cache ($HF_HOME/hub) for offline use.
    Fetch {
        /// Hub ids (org/name or org/name@revision).
        #[arg(value_name = "ID", required = true)]
        ids: Vec<String>,
        /// The checkpoints are image-only (DINOv2): no tokenizer.json needed.
        #[arg(long)]
        image_only: bool,
        /// The checkpoints are Qwen3-VL (--vlm): processor config and sharded weights as they come.
        #[arg(long, conflicts_with = "image_only")]
        vlm: bool,
    },
    /// List the models in the Hugging Face cache.
    List,
}

pub fn run(c: ModelsCommand) -> Result<u8, CliError> {
    match c {
        ModelsCommand::Fetch {
            ids,
            image_only,
            vlm,
        } => {
            for id in ids {
                let input = |e: leoma_gpu::models::ModelError| CliError::Input(e.to_string());
                let digests = if vlm {
                    leoma_gpu::models::qwen3_vl::Checkpoint::resolve(&id)
                        .map_err(input)?
                        .digests
                } else {
                    loader::resolve(&id, !image_only).map_err(input)?.digests
                };
                println!("{id}");
                for (name, digest) in &digests {
                    println!("  {name}  sha256:{digest}");
                }
            }
        }
        ModelsCommand::List => {
            let cached = loader::cached_models();
            if cached.is_empty() {
                println!(
                    "no models in {}",
                    hf_hub::Cache::from_env().path().display()
                );
            }
            for (id, revisions) in cached {
                println!(
                    "{id}  ({} snapshot(s): {})",
                    revisions.len(),
                    revisions.join(", ")
                );
            }
        }
    }
    Ok(EXIT_OK)
}
