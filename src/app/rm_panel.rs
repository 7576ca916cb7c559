//! The reward-model tab: one reward model trained with live loss, accuracy, reward and feature
//! charts; save the trained model or score data with a saved one.
use super::compare::Compare;
use super::history::FeatureView;
use super::model_io::{ModelIo, model_io_ui};
use super::{Panel, Shell, charts, panel_common, plot_style, settings};
use crate::experiment::{Event, ExperimentConfig, RmTrainConfig};

/// The reward-model tab.
#[derive(Default)]
pub struct RmPanel {
    /// Its knobs.
    pub config: RmTrainConfig,
    /// Held-out features of the run before the current one (the side-by-side comparison).
    pub previous_features: Option<FeatureView>,
    /// Saving the trained model and scoring with a loaded one.
    pub model_io: ModelIo,
    /// Validation curves of earlier runs (the last few), for comparison.
    pub earlier: Compare<Vec<[f64; 2]>>,
    /// Smoothing of the noisy per-batch curves (0 = off).
    pub smoothing: f64,
}

/// How a run is named in the feature comparison.
fn contrastive_label(c: &crate::rm::contrastive::ContrastiveConfig) -> String {
    use crate::rm::contrastive::ContrastiveMethod as M;
    if !c.active() {
        return "baseline".into();
    }
    let name = match c.method {
        M::None => "baseline",
        M::Simcse => "SimCSE",
        M::Swav => "SwAV",
        M::SwavDiff => "SwAV-diff",
    };
    format!("{name} (β {})", c.beta)
}

fn status(config: &RmTrainConfig, shell: &Shell) -> String {
    let h = &shell.history;
    let total = match h.total_steps {
        0 if config.steps > 0 => config.steps.to_string(),
        0 => "…".to_string(),
        n => n.to_string(),
    };
    let mut s = format!("step {} / {total}", h.step);
    if let Some(acc) = h.latest_validation_accuracy() {
        s.push_str(&format!(" · validation accuracy {acc:.3}"));
    }
    s
}

fn model_ui(config: &mut RmTrainConfig, ui: &mut egui::Ui) {
    let m = &mut config.model;
    ui.strong("Reward model");
    settings::arch_ui(m, ui, "rm_arch");
    ui.add(settings::slider(&mut m.d_model, 8..=512).text("d_model"))
        .on_hover_text("Width of the model's features");
    ui.add(settings::slider(&mut m.layers, 1..=8).text("layers"))
        .on_hover_text("Transformer layers");
    ui.add(settings::slider(&mut m.heads, 1..=16).text("heads"))
        .on_hover_text("Attention heads per layer (d_model must divide by it)");
    ui.add(settings::slider(&mut m.ffn, 8..=2048).text("ffn"))
        .on_hover_text("Width of the feed-forward layer");
    ui.add(settings::slider(&mut m.max_len, 8..=512).text("max tokens"))
        .on_hover_text("Longest input read; longer prompts lose their start");
    ui.add(settings::slider(&mut m.dropout, 0.0..=0.5).text("dropout"))
.on_hover_text("Share of features zeroed at random while training (a regulariser; also the two views of contrastive learning)");
}

fn contrastive_ui(config: &mut RmTrainConfig, ui: &mut egui::Ui) {
    use crate::rm::contrastive::{ContrastiveConfig, ContrastiveMethod as M, Instances};
    let c = &mut config.contrastive;
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
        })
        .response
        .on_hover_text("A second loss on the model's features: SimCSE pulls two dropout views of an answer together and pushes other answers away; SwAV sorts features into learnable prototypes (Fig 11)");
    if c.method != before {
        *c = ContrastiveConfig::preset(c.method);
    }
    let c = &mut config.contrastive;
    if c.method == M::None {
        return;
    }
    ui.add(settings::slider(&mut c.beta, 0.0..=2.0).text("β"))
        .on_hover_text("Weight of the contrastive loss added to the preference loss");
    ui.add(
        settings::slider(&mut c.tau, 0.01..=1.0)
            .logarithmic(true)
            .text("τ"),
    )
    .on_hover_text("Temperature of the contrastive loss: lower is sharper");
    match c.method {
        M::Simcse => {
            ui.horizontal(|ui| {
                ui.label("instances:").on_hover_text(
                    "What SimCSE contrasts: the answers themselves, or the chosen-minus-rejected differences",
                );
                ui.radio_value(&mut c.instances, Instances::Pairs, "responses");
                ui.radio_value(&mut c.instances, Instances::Difference, "differences");
            });
        }
        _ => {
            ui.add(settings::slider(&mut c.prototypes, 2..=200).text("prototypes K"))
                .on_hover_text(
                    "Number of learnable prototypes (clusters) SwAV assigns features to",
                );
        }
    }
}

fn training_ui(config: &mut RmTrainConfig, ui: &mut egui::Ui) {
    let c = config;
    ui.strong("Training");
    ui.add(
        settings::slider(&mut c.epochs, 0.1..=20.0)
            .logarithmic(true)
            .text("epochs"),
    )
    .on_hover_text("Passes over the training pairs");
    ui.add(
        egui::DragValue::new(&mut c.steps)
            .range(0..=100_000)
            .prefix("steps (0 = from epochs) "),
    )
    .on_hover_text("A fixed number of optimizer steps; 0 takes the steps from the epochs");
    ui.add(
        settings::slider(&mut c.batch_size, 1..=256)
            .logarithmic(true)
            .text("pairs / step"),
    )
    .on_hover_text("Pairs per optimizer step (batch size)");
    ui.add(
        settings::slider(&mut c.optimizer.lr, 1e-5..=1e-2)
            .logarithmic(true)
            .text("learning rate"),
    )
    .on_hover_text("Step size of AdamW (it warms up, then decays)");
    ui.add(settings::slider(&mut c.optimizer.warmup_fraction, 0.0..=0.5).text("warmup fraction"))
        .on_hover_text("Share of the steps over which the learning rate rises from 0");
    ui.add(settings::slider(&mut c.eval_every, 1..=500).text("eval every"))
        .on_hover_text("Steps between two checks on the validation pairs");
}

/// Hand the trained model to the PPO tab as its proxy.
fn handoff_ui(shell: &mut Shell, ui: &mut egui::Ui) {
    let model = shell.history.model.clone();
    let synthetic = matches!(
        shell.run.data.source,
        crate::experiment::DataSource::Synthetic(_)
    );
    let hand = ui
        .add_enabled(
            model.is_some() && synthetic,
            egui::Button::new("Use this model as the PPO tab's proxy"),
        )
        .on_hover_text("PPO then optimises against this reward model instead of training its own")
        .on_disabled_hover_text("Train a reward model on the synthetic world first");
    if hand.clicked() {
        shell.handoff.reward_model = model;
        shell.request(super::Request::ShowTab("ppo"));
    }
}

impl Panel for RmPanel {
    fn name(&self) -> &'static str {
        "rm"
    }

    fn title(&self) -> &'static str {
        "Reward model"
    }

    fn experiment(&self) -> ExperimentConfig {
        ExperimentConfig::Rm(self.config.clone())
    }

    fn load(&mut self, experiment: &ExperimentConfig) -> bool {
        match experiment {
            ExperimentConfig::Rm(c) => {
                self.config = c.clone();
                true
            }
            _ => false,
        }
    }

    fn settings_ui(&mut self, _shell: &mut Shell, ui: &mut egui::Ui) {
        model_ui(&mut self.config, ui);
        ui.separator();
        contrastive_ui(&mut self.config, ui);
        ui.separator();
        training_ui(&mut self.config, ui);
        ui.separator();
        settings::meta_ui(
            &mut self.config,
            ui,
            Some(
                "Used when the reward model also sees a policy's answers (the Iterative RLHF tab, `rlhf-lab metarm`); this tab trains on pairs only.",
            ),
        );
    }

    fn central_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui) {
        ui.heading("Reward model training");
        let mine = shell.runs(self.name());
        let (fraction, status) = if mine {
            (shell.history.progress(), status(&self.config, shell))
        } else {
            (0.0, String::new())
        };
        panel_common::banners_ui(shell, ui, mine);
        panel_common::controls_ui(shell, ui, mine, fraction, &status);
        model_io_ui(&mut self.model_io, shell, ui);
        handoff_ui(shell, ui);
        ui.separator();
        ui.add(
            settings::slider(&mut self.smoothing, 0.0..=0.99)
                .text("smooth the per-batch curves"),
        )
        .on_hover_text("An exponential moving average over training steps (0 = the raw values), as in TensorBoard");
        let h = ((ui.available_height() - 150.0) / 2.0).clamp(110.0, 260.0);
        let history = &shell.history;
        let smoothing = self.smoothing;
        let earlier = &mut self.earlier;
        let previous = self.previous_features.as_ref();
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.columns(2, |cols| {
                charts::loss_chart_ui(history, &mut cols[0], h, smoothing);
                charts::accuracy_chart_ui(history, earlier, &mut cols[1], h, smoothing);
            });
            ui.columns(2, |cols| {
                charts::reward_histogram_ui(history, &mut cols[0], h);
                let csv = || {
                    let mut series: Vec<(String, &[[f64; 2]])> = Vec::new();
                    for (when, v) in [("before", previous), ("this", history.features.as_ref())] {
                        if let Some(v) = v {
                            series.push((format!("{when}: chosen"), &v.chosen));
                            series.push((format!("{when}: rejected"), &v.rejected));
                        }
                    }
                    let named: Vec<(&str, &[[f64; 2]])> =
                        series.iter().map(|(n, p)| (n.as_str(), *p)).collect();
                    super::export::series_csv("pc1", "pc2", &named)
                };
                plot_style::chart_title_ui(
                    &mut cols[1],
                    "Held-out features: the run before | this run",
                    "Each dot is a held-out answer, placed by the model's internal features flattened to two dimensions (principal components). Blue: chosen, orange: rejected. The separation AUROC says how well a straight line splits them (1.0 = perfectly). A contrastive loss (Fig 11) should pull them further apart than the plain loss.",
                    &["rm_features_prev", "rm_features_this"],
                    &csv,
                );
                cols[1].columns(2, |inner| {
                    charts::feature_scatter_ui(previous, &mut inner[0], "prev", h - 20.0);
                    charts::feature_scatter_ui(history.features.as_ref(), &mut inner[1], "this", h - 20.0);
                });
            });
        });
    }

    fn clear(&mut self) {}

    fn starting(&mut self, shell: &mut Shell) -> String {
        if let Some(f) = shell.history.features.take() {
            self.previous_features = Some(f);
        }
        let curve = &shell.history.validation_accuracy;
        let last = (!curve.is_empty()).then(|| curve.clone());
        self.earlier.start(
            last,
            &format!(
                "{}, seed {}",
                contrastive_label(&self.config.contrastive),
                shell.run.seed
            ),
        )
    }

    fn apply(&mut self, _event: &Event) {}
}
