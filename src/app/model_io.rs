//! Save the trained reward model, and load a saved one to score the current data — the same
//! model file as `train-rm --out` writes and `score` reads, natively and in the browser.
use std::sync::Arc;

use super::{Shell, Slot, put_slot, spawn_work, take_slot};
use crate::compute::Compute;
use crate::experiment::Run;
use crate::experiment::prepare::Upload;
use crate::experiment::rm::score::{ScoreSplit, ScoreSummary, score_with_saved};
use crate::model::saved::{MODEL_FILE, SavedRewardModel};

/// What loading and scoring gave: the summary, or what went wrong.
pub type ScoreOutcome = Result<ScoreSummary, String>;

/// Ask where to save `bytes` (natively a save dialog; in the browser a download).
fn save(bytes: Arc<Vec<u8>>, saved: Slot<String>, ctx: egui::Context) {
    spawn_work(async move {
        let dialog = rfd::AsyncFileDialog::new()
            .set_file_name(MODEL_FILE)
            .set_title("Save the trained reward model");
        let message = match dialog.save_file().await {
            Some(file) => match file.write(&bytes).await {
                Ok(()) => format!("saved the model ({} bytes)", bytes.len()),
                Err(e) => format!("could not save the model: {e}"),
            },
            None => "saving cancelled".into(),
        };
        put_slot(&saved, message);
        ctx.request_repaint();
    });
}

/// Pick a model file, then score `run`'s data (split as `run`'s seed splits it) with it.
fn load_and_score(
    run: Run<()>,
    compute: Compute,
    upload: Option<Upload>,
    out: Slot<ScoreOutcome>,
    ctx: egui::Context,
) {
    spawn_work(async move {
        let dialog = rfd::AsyncFileDialog::new()
            .add_filter("rlhf-lab model", &["bin"])
            .set_title("Load a saved reward model");
        let Some(file) = dialog.pick_file().await else {
            return;
        };
        let name = file.file_name();
        let bytes = file.read().await;
        let outcome = match SavedRewardModel::from_bytes(&bytes) {
            Err(e) => Err(format!("{name}: {e}")),
            Ok(saved) => score_with_saved(
                &saved,
                &run.data,
                run.seed,
                ScoreSplit::Validation,
                &compute,
                upload.as_ref(),
            )
            .await
            .map(|scored| scored.summary)
            .map_err(|e| format!("{name}: {e}")),
        };
        put_slot(&out, outcome);
        ctx.request_repaint();
    });
}

/// The Save / Load buttons of the reward-model tab and what they last did.
pub fn model_io_ui(io: &mut ModelIo, shell: &mut Shell, ui: &mut egui::Ui) {
    if let Some(m) = take_slot(&io.saved) {
        io.message = Some(m);
    }
    if let Some(s) = take_slot(&io.scored) {
        io.score = Some(s);
    }
    ui.horizontal(|ui| {
        let model = shell.history.model.clone();
        let save_button = ui
            .add_enabled(model.is_some(), egui::Button::new("Save model…"))
            .on_hover_text("The trained model as one file (weights, tokenizer, config): score it later with `rlhf-lab score --model FILE`, or load it here")
            .on_disabled_hover_text("Train a model first: it is handed out when the run finishes");
        if save_button.clicked()
            && let Some(bytes) = model
        {
            save(bytes, io.saved.clone(), ui.ctx().clone());
        }
        let compute = shell.compute().cloned();
        let load_button = ui
            .add_enabled(compute.is_some(), egui::Button::new("Load model & score…"))
            .on_hover_text("Score the held-out pairs of the data chosen on the left with a saved model");
        if load_button.clicked()
            && let Some(compute) = compute
        {
            load_and_score(
                shell.run.clone(),
                compute,
                shell.upload.clone(),
                io.scored.clone(),
                ui.ctx().clone(),
            );
        }
    });
    if let Some(m) = &io.message {
        ui.label(m);
    }
    match &io.score {
        Some(Ok(s)) => {
            ui.label(format!(
                "loaded model on {}: held-out accuracy {:.3} vs {} over {} pairs (shorter-wins {:.3}), {}",
                s.data, s.accuracy, s.target, s.pairs, s.baseline_accuracy, s.backend
            ));
        }
        Some(Err(e)) => {
            ui.colored_label(super::plot_style::ERROR, format!("error: {e}"));
        }
        None => {}
    }
}

/// The state behind the buttons.
#[derive(Default)]
pub struct ModelIo {
    saved: Slot<String>,
    scored: Slot<ScoreOutcome>,
    /// What the last save did.
    pub message: Option<String>,
    /// What the last load-and-score gave.
    pub score: Option<ScoreOutcome>,
}
