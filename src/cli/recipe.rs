//! `rlhf-lab recipe --run DIR --to trl|openrlhf [--base-model M] --out DIR`.
use std::path::PathBuf;

use clap::Args;

use crate::recipe::{self, DEFAULT_BASE_MODEL, RecipeInput, Target};

/// Flags of `recipe`.
#[derive(Args, Debug)]
pub struct RecipeArgs {
    /// A run folder: what train-rm, strength, denoise, ppo, metarm or rlhf wrote with --out.
    #[arg(long)]
    run: PathBuf,
    /// The target: trl or openrlhf.
    #[arg(long)]
    to: String,
    /// The model the recipe trains: a Hugging Face name or a local folder.
    #[arg(long, default_value = DEFAULT_BASE_MODEL)]
    base_model: String,
    /// The folder to write the recipe into.
    #[arg(long)]
    out: PathBuf,
}

/// Run `recipe`.
pub fn run_recipe(args: RecipeArgs) -> Result<(), String> {
    let target = Target::from_name(&args.to)?;
    super::check_writable(&args.out)?;
    let input = RecipeInput::from_run_dir(&args.run)?;
    let files = recipe::build(&input, target, &args.base_model)?;
    recipe::write_folder(&files, &args.out)?;
    eprintln!(
        "wrote the {} recipe, {} files ({} pairs, {} flipped) to {}; start with its README.md",
        target.name(),
        files.len(),
        input.rows.len(),
        input.flipped,
        args.out.display()
    );
    Ok(())
}
