//! The settings side panel: dataset, model and training knobs, all editing one RmTrainConfig.
use crate::data::synthetic::SyntheticConfig;
use crate::experiment::DataSource;

use super::RlhfApp;

fn dataset_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    ui.strong("Dataset");
    let current = match &app.config.data.source {
        DataSource::Synthetic(_) => "Synthetic world",
        DataSource::HhSample => "HH-RLHF sample",
        DataSource::Jsonl { .. } => "JSONL file",
    };
    egui::ComboBox::from_label("source")
        .selected_text(current)
        .show_ui(ui, |ui| {
            if ui
                .selectable_label(current == "Synthetic world", "Synthetic world")
                .clicked()
                && current != "Synthetic world"
            {
                app.config.data.source = DataSource::Synthetic(SyntheticConfig::default());
            }
            if !cfg!(target_arch = "wasm32")
                && ui
                    .selectable_label(current == "HH-RLHF sample", "HH-RLHF sample")
                    .clicked()
            {
                app.config.data.source = DataSource::HhSample;
            }
        });
    if ui.button("Open JSONL file…").clicked() {
        app.pick_file();
    }
    match &mut app.config.data.source {
        DataSource::Synthetic(s) => {
            ui.add(
                egui::Slider::new(&mut s.pairs, 100..=20_000)
                    .logarithmic(true)
                    .text("pairs"),
            );
            ui.add(egui::Slider::new(&mut s.flip_rate, 0.0..=0.5).text("flip rate"));
            ui.add(egui::Slider::new(&mut s.temperature, 0.1..=5.0).text("label temperature"));
            ui.add(egui::DragValue::new(&mut s.seed).prefix("world seed "));
        }
        DataSource::Jsonl { path } => {
            ui.label(format!("file: {path}"));
        }
        DataSource::HhSample => {
            ui.label("Anthropic HH-RLHF harmless-base test split (2,312 pairs)");
        }
    }
    if !matches!(app.config.data.source, DataSource::Synthetic(_)) {
        ui.add(egui::Slider::new(&mut app.config.data.vocab_size, 258..=16_384).text("BPE vocab"));
        ui.checkbox(&mut app.config.data.skip_bad_lines, "skip malformed lines");
    }
    ui.add(
        egui::Slider::new(&mut app.config.data.validation_fraction, 0.05..=0.5)
            .text("validation fraction"),
    );
}

fn model_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    let m = &mut app.config.model;
    ui.strong("Reward model");
    ui.add(egui::Slider::new(&mut m.d_model, 8..=512).text("d_model"));
    ui.add(egui::Slider::new(&mut m.layers, 1..=8).text("layers"));
    ui.add(egui::Slider::new(&mut m.heads, 1..=16).text("heads"));
    ui.add(egui::Slider::new(&mut m.ffn, 8..=2048).text("ffn"));
    ui.add(egui::Slider::new(&mut m.max_len, 8..=512).text("max tokens"));
    ui.add(egui::Slider::new(&mut m.dropout, 0.0..=0.5).text("dropout"));
}

fn training_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    let c = &mut app.config;
    ui.strong("Training");
    ui.add(
        egui::Slider::new(&mut c.epochs, 0.1..=20.0)
            .logarithmic(true)
            .text("epochs"),
    );
    ui.add(
        egui::DragValue::new(&mut c.steps)
            .range(0..=100_000)
            .prefix("steps (0 = from epochs) "),
    );
    ui.add(
        egui::Slider::new(&mut c.batch_size, 1..=256)
            .logarithmic(true)
            .text("pairs / step"),
    );
    ui.add(
        egui::Slider::new(&mut c.optimizer.lr, 1e-5..=1e-2)
            .logarithmic(true)
            .text("learning rate"),
    );
    ui.add(egui::Slider::new(&mut c.optimizer.warmup_fraction, 0.0..=0.5).text("warmup fraction"));
    ui.add(egui::Slider::new(&mut c.eval_every, 1..=500).text("eval every"));
    ui.add(egui::DragValue::new(&mut c.seed).prefix("seed "));
}

/// The settings column; disabled while a run is in progress.
pub fn settings_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    let editable = app.settings_editable();
    ui.add_enabled_ui(editable, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            dataset_ui(app, ui);
            ui.separator();
            model_ui(app, ui);
            ui.separator();
            training_ui(app, ui);
        });
    });
    if let Err(e) = app.config.validate() {
        ui.colored_label(egui::Color32::from_rgb(230, 120, 60), e);
    }
}
