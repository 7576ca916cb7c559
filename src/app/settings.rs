//! The settings side panel: the dataset (shared by every tab), then the knobs of the current
//! tab's experiment config.
use crate::data::synthetic::SyntheticConfig;
use crate::experiment::DataSource;

use super::RlhfApp;
use crate::experiment::denoise::{Method, TrainSubset};
use crate::model::{Arch, RewardModelConfig};
use crate::rm::denoise::{FlipRule, SmoothScope};

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
            ui.add(egui::Slider::new(&mut s.temperature, 0.0..=5.0).text("label temperature"))
                .on_hover_text(
                    "0: labels follow the gold reward exactly (only the flip rate adds noise)",
                );
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
    arch_ui(m, ui, "rm_arch");
    ui.add(egui::Slider::new(&mut m.d_model, 8..=512).text("d_model"));
    ui.add(egui::Slider::new(&mut m.layers, 1..=8).text("layers"));
    ui.add(egui::Slider::new(&mut m.heads, 1..=16).text("heads"));
    ui.add(egui::Slider::new(&mut m.ffn, 8..=2048).text("ffn"));
    ui.add(egui::Slider::new(&mut m.max_len, 8..=512).text("max tokens"));
    ui.add(egui::Slider::new(&mut m.dropout, 0.0..=0.5).text("dropout"));
}

fn contrastive_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    use crate::rm::contrastive::{ContrastiveConfig, ContrastiveMethod as M, Instances};
    let c = &mut app.config.contrastive;
    ui.strong("Contrastive loss");
    let before = c.method;
    egui::ComboBox::new("rm_contrastive", "method")
        .selected_text(match c.method {
            M::None => "none",
            M::Simcse => "SimCSE",
            M::Swav => "SwAV",
            M::SwavDiff => "SwAV-diff",
        })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut c.method, M::None, "none");
            ui.selectable_value(&mut c.method, M::Simcse, "SimCSE");
            ui.selectable_value(&mut c.method, M::Swav, "SwAV");
            ui.selectable_value(&mut c.method, M::SwavDiff, "SwAV-diff");
        });
    if c.method != before {
        *c = ContrastiveConfig::preset(c.method);
    }
    let c = &mut app.config.contrastive;
    if c.method == M::None {
        return;
    }
    ui.add(egui::Slider::new(&mut c.beta, 0.0..=2.0).text("β"));
    ui.add(
        egui::Slider::new(&mut c.tau, 0.01..=1.0)
            .logarithmic(true)
            .text("τ"),
    );
    match c.method {
        M::Simcse => {
            ui.horizontal(|ui| {
                ui.label("instances:");
                ui.radio_value(&mut c.instances, Instances::Pairs, "responses");
                ui.radio_value(&mut c.instances, Instances::Difference, "differences");
            });
        }
        _ => {
            ui.add(egui::Slider::new(&mut c.prototypes, 2..=200).text("prototypes K"));
        }
    }
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

fn arch_ui(model: &mut RewardModelConfig, ui: &mut egui::Ui, id: &str) {
    let before = model.arch;
    egui::ComboBox::new(id, "architecture")
        .selected_text(match model.arch {
            Arch::Bow => "bag of words (fast)",
            Arch::Transformer => "transformer",
        })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut model.arch, Arch::Bow, "bag of words (fast)");
            ui.selectable_value(&mut model.arch, Arch::Transformer, "transformer");
        });
    if model.arch != before {
        *model = RewardModelConfig::preset(model.arch);
    }
}

/// The strength tab's settings: the ensemble.
pub fn strength_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    let c = &mut app.strength;
    ui.strong("Ensemble");
    ui.add(egui::Slider::new(&mut c.models, 2..=20).text("models M"));
    ui.add(egui::Slider::new(&mut c.cross_fit, 0..=10).text("cross-fit folds (0 = in-sample)"));
    arch_ui(&mut c.rm.model, ui, "ps_arch");
    ui.add(
        egui::Slider::new(&mut c.rm.epochs, 0.5..=20.0)
            .logarithmic(true)
            .text("epochs per member"),
    );
    ui.add(
        egui::Slider::new(&mut c.rm.optimizer.lr, 1e-5..=3e-2)
            .logarithmic(true)
            .text("learning rate"),
    );
    ui.checkbox(&mut c.band_retrain, "retrain a model on each band alone");
    ui.add_enabled(
        c.band_retrain,
        egui::Slider::new(&mut c.band_epochs, 1.0..=20.0).text("band epochs"),
    );
    ui.add(egui::DragValue::new(&mut app.config.seed).prefix("seed "));
}

/// The denoising tab's settings: methods, flips, smoothing, margin.
pub fn denoise_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    let c = &mut app.denoise;
    ui.strong("Methods");
    for m in Method::ALL {
        let mut on = c.methods.contains(&m);
        if ui.checkbox(&mut on, m.name()).changed() {
            if on {
                c.methods.push(m);
                c.methods
                    .sort_by_key(|x| Method::ALL.iter().position(|y| y == x));
            } else {
                c.methods.retain(|x| *x != m);
            }
        }
    }
    ui.add(egui::Slider::new(&mut c.seeds, 1..=10).text("seeds"));
    ui.strong("Recipe");
    ui.horizontal(|ui| {
        ui.label("flip:");
        let bottom = matches!(c.flip, FlipRule::Bottom { .. });
        if ui.radio(bottom, "bottom fraction").clicked() && !bottom {
            c.flip = FlipRule::Bottom { fraction: 0.2 };
        }
        if ui.radio(c.flip == FlipRule::MuNegative, "μ < 0").clicked() {
            c.flip = FlipRule::MuNegative;
        }
        if ui.radio(c.flip == FlipRule::None, "none").clicked() {
            c.flip = FlipRule::None;
        }
    });
    if let FlipRule::Bottom { fraction } = &mut c.flip {
        ui.add(egui::Slider::new(fraction, 0.01..=0.5).text("flip fraction"));
    }
    ui.add(egui::Slider::new(&mut c.smoothing, 0.0..=1.0).text("smoothing α"));
    let mut all = c.smoothing_scope == SmoothScope::All;
    ui.checkbox(&mut all, "smooth every pair (else only μ < 0)");
    c.smoothing_scope = if all {
        SmoothScope::All
    } else {
        SmoothScope::MuNegative
    };
    ui.add(egui::Slider::new(&mut c.margin_scale, 0.0..=3.0).text("margin scale λ"));
    ui.checkbox(&mut c.margin_clamp, "margin = max(μ, 0)");
    let mut top = matches!(c.subset, TrainSubset::Top { .. });
    if ui
        .checkbox(&mut top, "train on the strongest pairs only (Fig 6)")
        .changed()
    {
        c.subset = if top {
            TrainSubset::Top { fraction: 0.1 }
        } else {
            TrainSubset::All
        };
    }
    if let TrainSubset::Top { fraction } = &mut c.subset {
        ui.add(egui::Slider::new(fraction, 0.01..=1.0).text("strongest fraction"));
    }
    ui.strong("Training");
    arch_ui(&mut c.rm.model, ui, "dn_arch");
    ui.add(
        egui::Slider::new(&mut c.rm.epochs, 0.5..=30.0)
            .logarithmic(true)
            .text("epochs per run"),
    );
    ui.add(egui::Slider::new(&mut c.strength.models, 2..=20).text("ensemble M for μ"));
    ui.add(egui::DragValue::new(&mut app.config.seed).prefix("seed "));
}

/// The reward-model tab's settings: model, contrastive loss, training.
pub fn rm_settings_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    model_ui(app, ui);
    ui.separator();
    contrastive_ui(app, ui);
    ui.separator();
    training_ui(app, ui);
}

/// The settings column; disabled while a run is in progress.
pub fn settings_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    let editable = app.settings_editable();
    ui.add_enabled_ui(editable, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            dataset_ui(app, ui);
            ui.separator();
            (app.tab.spec().settings_ui)(app, ui);
        });
    });
    if let Err(e) = app.experiment_config().validate() {
        ui.colored_label(egui::Color32::from_rgb(230, 120, 60), e);
    }
}
