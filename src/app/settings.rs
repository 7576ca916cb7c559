//! The settings side panel: the dataset (shared by every tab), then the knobs of the current
//! tab's experiment config.
use crate::data::synthetic::SyntheticConfig;
use crate::experiment::DataSource;

use super::{Panel, Shell};
use crate::model::{Arch, RewardModelConfig};

fn dataset_ui(shell: &mut Shell, ui: &mut egui::Ui) {
    ui.strong("Dataset");
    let current = match &shell.run.data.source {
        DataSource::Synthetic(_) => "Synthetic world",
        DataSource::HhSample => "HH-RLHF sample",
        DataSource::Jsonl { .. } => "data file",
    };
    egui::ComboBox::from_label("source")
        .selected_text(current)
        .show_ui(ui, |ui| {
            if ui
                .selectable_label(current == "Synthetic world", "Synthetic world")
                .clicked()
                && current != "Synthetic world"
            {
                shell.run.data.source = DataSource::Synthetic(SyntheticConfig::default());
            }
            if !cfg!(target_arch = "wasm32")
                && ui
                    .selectable_label(current == "HH-RLHF sample", "HH-RLHF sample")
                    .clicked()
            {
                shell.run.data.source = DataSource::HhSample;
            }
        });
    if ui
        .button("Open data file…")
        .on_hover_text(
            "Preference pairs as JSONL, a JSON array, CSV or Parquet (plain, .gz or .zst), in any \
             common layout: HH-RLHF, TRL standard or conversational, the paper's strength \
             release, StackExchange, SHP, TL;DR comparisons, PKU-SafeRLHF, UltraFeedback, Nectar. \
             The layout is detected from the first record.",
        )
        .clicked()
    {
        shell.pick_file();
    }
    match &mut shell.run.data.source {
        DataSource::Synthetic(s) => {
            ui.add(
                slider(&mut s.pairs, 100..=20_000)
                    .logarithmic(true)
                    .text("pairs"),
            )
.on_hover_text("How many preference pairs the synthetic world draws (more: better models, slower runs)");
            ui.add(slider(&mut s.flip_rate, 0.0..=0.5).text("flip rate"))
.on_hover_text("Share of labels flipped on purpose: the noise the strength and denoising lessons find and repair");
            ui.add(slider(&mut s.temperature, 0.0..=5.0).text("label temperature"))
                .on_hover_text(
                    "0: labels follow the gold reward exactly (only the flip rate adds noise)",
                );
            ui.add(egui::DragValue::new(&mut s.seed).prefix("world seed "))
                .on_hover_text("Seed of the synthetic world: its words, gold reward and pairs");
        }
        DataSource::Jsonl { path } => {
            ui.label(format!("file: {path}"));
        }
        DataSource::HhSample => {
            ui.label("Anthropic HH-RLHF harmless-base test split (2,312 pairs)");
        }
    }
    if !matches!(shell.run.data.source, DataSource::Synthetic(_)) {
        ui.add(slider(&mut shell.run.data.vocab_size, 258..=16_384).text("BPE vocab"))
            .on_hover_text("Tokens in the byte-pair vocabulary learned from the text");
        ui.checkbox(&mut shell.run.data.skip_bad_lines, "skip malformed records")
            .on_hover_text(
                "Skip (and count) records that cannot be read instead of stopping at the first",
            );
    }
    ui.add(slider(&mut shell.run.data.validation_fraction, 0.05..=0.5).text("validation fraction"))
        .on_hover_text(
            "Share of pairs held out to measure accuracy; the models never train on them",
        );
}

/// A slider over `range` that never changes a value it did not edit: a config from a URL or a
/// file may hold values outside the slider's range, and they stay as they are (and are checked
/// by validation) until the user drags.
pub fn slider<Num: egui::emath::Numeric>(
    value: &mut Num,
    range: std::ops::RangeInclusive<Num>,
) -> egui::Slider<'_> {
    egui::Slider::new(value, range).clamping(egui::SliderClamping::Edits)
}

/// MetaRM's knobs of a reward-model block (they act where a meta set is sampled from a policy:
/// the Iterative RLHF tab, `rlhf-lab metarm` and `rlhf`).
pub fn meta_ui(rm: &mut crate::experiment::RmTrainConfig, ui: &mut egui::Ui, note: Option<&str>) {
    ui.strong("MetaRM");
    if let Some(note) = note {
        ui.label(egui::RichText::new(note).small());
    }
    ui.add(slider(&mut rm.meta_lr, 0.0..=10.0).text("meta step η"))
        .on_hover_text("Size of the meta step: before each update, the reward model moves η along the slope of J (how far apart it sets a policy's answers to one prompt), and the preference loss's gradient is taken there. 0: plain training, exactly");
    ui.add(slider(&mut rm.k, 2..=10).text("k answers/prompt"))
        .on_hover_text("How many of the policy's answers to one prompt J compares (the paper: 5)");
    ui.add(slider(&mut rm.meta_batch, 1..=64).text("groups/step"))
        .on_hover_text("Prompts (each with k answers) in one meta step (the paper: 16)");
}

/// The architecture picker (a new choice takes that architecture's preset).
pub fn arch_ui(model: &mut RewardModelConfig, ui: &mut egui::Ui, id: &str) {
    let before = model.arch;
    egui::ComboBox::new(id, "architecture")
        .selected_text(match model.arch {
            Arch::Bow => "bag of words (fast)",
            Arch::Transformer => "transformer",
            Arch::Counts => "count features (linear)",
        })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut model.arch, Arch::Bow, "bag of words (fast)");
            ui.selectable_value(&mut model.arch, Arch::Transformer, "transformer");
            ui.selectable_value(&mut model.arch, Arch::Counts, "count features (linear)");
        })
        .response
        .on_hover_text("Bag of words: word features pooled and a small network, fast. Transformer: reads word order, slower. Count features: a linear model of word counts");
    if model.arch != before {
        *model = RewardModelConfig::preset(model.arch);
    }
}

/// The settings column: the shared dataset and seed, then the tab's own knobs; disabled while
/// a run is in progress.
pub fn settings_ui(shell: &mut Shell, panel: &mut dyn Panel, ui: &mut egui::Ui) {
    let editable = shell.settings_editable();
    ui.add_enabled_ui(editable, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            if !shell.hides("dataset") {
                dataset_ui(shell, ui);
            }
            ui.add(egui::DragValue::new(&mut shell.run.seed).prefix("seed "))
                .on_hover_text("Seed of the split, the weights, the shuffling and dropout");
            ui.separator();
            panel.settings_ui(shell, ui);
        });
    });
    let config = shell.run.with(panel.experiment());
    if let Err(e) = config.validate() {
        ui.colored_label(egui::Color32::from_rgb(230, 120, 60), e);
    }
}
