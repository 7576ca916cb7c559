//! `rlhf-lab score --model DIR [--data …] [--split all|train|validation] --out scores.csv`.
use std::path::{Path, PathBuf};

use clap::Args;

use super::{DataArgs, LayoutArg, apply_data_args, apply_layout, write_file};
use crate::compute::{self, BackendChoice};
use crate::experiment::DataConfig;
use crate::experiment::rm::score::{ScoreSplit, score_with_saved, scores_csv, training_config};
use crate::model::saved::{MODEL_FILE, SavedRewardModel};

#[derive(Args, Debug)]
pub(crate) struct ScoreArgs {
    /// A run directory with model.bin (what train-rm --out writes), or the model file itself.
    #[arg(long)]
    model: PathBuf,
    /// Data to score; without --data the model's own training data (from its saved config).
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    layout: LayoutArg,
    /// Which pairs: all (default), or the train / validation split of the training run's seed.
    #[arg(long, default_value = "all")]
    split: String,
    /// Compute backend: auto, gpu or cpu.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// Write index,reward_chosen,reward_rejected here (one row per pair, input order).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// Read a model file, naming the file in every error.
pub(crate) fn read_model(path: &Path) -> Result<SavedRewardModel, String> {
    let file = if path.is_dir() {
        path.join(MODEL_FILE)
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&file).map_err(|e| {
        format!(
            "could not read the model file {}: {e}; give a run directory that train-rm --out wrote, or its {MODEL_FILE}",
            file.display()
        )
    })?;
    SavedRewardModel::from_bytes(&bytes).map_err(|e| format!("model file {}: {e}", file.display()))
}

pub(crate) fn run_score(args: ScoreArgs) -> Result<(), String> {
    let split = ScoreSplit::from_arg(&args.split)?;
    if let Some(out) = &args.out {
        super::check_writable_file(out, "--out")?;
    }
    let saved = read_model(&args.model)?;
    let mut config =
        training_config(&saved).map_err(|e| format!("model file {}: {e}", args.model.display()))?;
    if args.data.data.is_some() {
        // Other data: only how text is split and encoded carries over, never the training
        // file's layout, field names or injected flips.
        let d = &config.data;
        config.data = DataConfig {
            validation_fraction: d.validation_fraction,
            skip_bad_lines: d.skip_bad_lines,
            vocab_size: d.vocab_size,
            max_prompt_len: d.max_prompt_len,
            ..DataConfig::default()
        };
    }
    apply_data_args(&mut config.data, &args.data)?;
    apply_layout(&mut config.data, args.layout.format.as_deref(), "--format")?;
    config
        .data
        .validate()
        .map_err(|e| format!("invalid data options: {e}"))?;
    let (compute, _setup) = compute::init(args.backend).map_err(|e| e.to_string())?;
    if let Some(n) = &compute.notice {
        eprintln!("notice: {n}");
    }
    let scored = pollster::block_on(score_with_saved(
        &saved,
        &config.data,
        config.seed,
        split,
        &compute,
        None,
    ))
    .map_err(|e| e.to_string())?;
    if let Some(out) = &args.out {
        write_file(out, scores_csv(&scored.rows).as_bytes())?;
        eprintln!("scores: {}", out.display());
    }
    let s = &scored.summary;
    if args.json {
        let json = serde_json::to_string(s).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        eprintln!(
            "{}: {} pairs ({}), accuracy {:.4} vs {} (shorter-wins baseline {:.4}) on {}",
            s.data,
            s.pairs,
            s.split.name(),
            s.accuracy,
            s.target,
            s.baseline_accuracy,
            s.backend
        );
    }
    Ok(())
}
