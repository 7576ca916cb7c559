//! Recipes: a run of the lab turned into a folder a person takes to a GPU machine — the pairs
//! (TRL-standard JSONL, with the strength-based flip and margin where the run measured them), the
//! prompts, and ready-to-run scripts for TRL (with MetaRM as a `RewardTrainer` subclass) or
//! OpenRLHF, with `MAPPING.md` saying where every setting of the run went, or that it has no
//! counterpart there. The CLI's `recipe` writes the folder; the app writes it too (natively) or
//! downloads it as a zip (in the browser).
mod input;
mod mapping;
mod openrlhf;
mod plan;
mod readme;
mod trl;

use std::io::Write;

pub use input::{RecipeInput, TrlRow};
pub use mapping::{Dest, Rule, leaves, rule_for};
pub use plan::{Plan, RunKind};

/// Where the recipe goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Hugging Face TRL (`RewardTrainer`, its PPO trainer, and MetaRM as a subclass).
    Trl,
    /// OpenRLHF (`openrlhf.cli.train_rm`, `openrlhf.cli.train_ppo_ray`).
    Openrlhf,
}

impl Target {
    /// Parse `trl` or `openrlhf`.
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name {
            "trl" => Ok(Self::Trl),
            "openrlhf" => Ok(Self::Openrlhf),
            other => Err(format!("--to {other}: use trl or openrlhf")),
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trl => "trl",
            Self::Openrlhf => "openrlhf",
        }
    }
}

/// The model a recipe trains when `--base-model` is not given: small enough for one GPU, and an
/// instruct (SFT) model, as the policy stage expects.
pub const DEFAULT_BASE_MODEL: &str = "Qwen/Qwen2.5-0.5B-Instruct";

/// One file of a recipe folder.
#[derive(Clone, Debug, PartialEq)]
pub struct RecipeFile {
    /// Its path inside the folder, `/`-separated.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether it is a script to mark executable.
    pub executable: bool,
}

impl RecipeFile {
    fn text(path: &str, text: String) -> Self {
        Self {
            path: path.into(),
            executable: path.ends_with(".sh"),
            bytes: text.into_bytes(),
        }
    }
}

/// Every file of the recipe for `input` and `target`, training `base_model`.
pub fn build(
    input: &RecipeInput,
    target: Target,
    base_model: &str,
) -> Result<Vec<RecipeFile>, String> {
    if base_model.trim().is_empty() {
        return Err("--base-model is empty: name a Hugging Face model or a local folder".into());
    }
    let plan = Plan::from_config(&input.config)?;
    let mut files = vec![
        RecipeFile::text("data/pairs.jsonl", input.pairs_jsonl()),
        RecipeFile::text("data/prompts.jsonl", input.prompts_jsonl()),
    ];
    let mapping = mapping::table(&input.config, &plan, target)?;
    match target {
        Target::Trl => {
            let settings = trl::settings(&plan, input, base_model);
            let json = serde_json::to_string_pretty(&settings)
                .map_err(|e| format!("could not write recipe.json: {e}"))?;
            files.push(RecipeFile::text("recipe.json", json + "\n"));
            for (name, text) in trl::SCRIPTS {
                files.push(RecipeFile::text(name, (*text).to_string()));
            }
            if let Some(rounds) = trl::rounds_script(&plan) {
                files.push(RecipeFile::text("rounds.sh", rounds));
            }
        }
        Target::Openrlhf => {
            files.push(RecipeFile::text(
                "openrlhf.sh",
                openrlhf::script(&plan, input, base_model),
            ));
        }
    }
    files.push(RecipeFile::text("MAPPING.md", mapping));
    files.push(RecipeFile::text(
        "README.md",
        readme::readme(&plan, input, target, base_model),
    ));
    Ok(files)
}

/// The files as one zip archive (deflated), every path under `folder/`.
pub fn zip(files: &[RecipeFile], folder: &str) -> Result<Vec<u8>, String> {
    let fail = |e: zip::result::ZipError| format!("could not build the zip: {e}");
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for f in files {
        let mode = if f.executable { 0o755 } else { 0o644 };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        writer
            .start_file(format!("{folder}/{}", f.path), options)
            .map_err(fail)?;
        writer
            .write_all(&f.bytes)
            .map_err(|e| format!("could not build the zip: {e}"))?;
    }
    let cursor = writer.finish().map_err(fail)?;
    Ok(cursor.into_inner())
}

/// Write the files under `dir` (created if missing; existing files of the same names are
/// replaced, nothing else is touched).
#[cfg(not(target_arch = "wasm32"))]
pub fn write_folder(files: &[RecipeFile], dir: &std::path::Path) -> Result<(), String> {
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("could not create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &f.bytes)
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        #[cfg(unix)]
        if f.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("could not make {} executable: {e}", path.display()))?;
        }
    }
    Ok(())
}
