//! The Denoising panel: baseline vs flip / smoothing / margin over seeds (Figs 5–8 analogues).
use super::compare::Compare;
use super::denoise_charts::{curves_chart_ui, means, methods_chart_ui, tables_ui};
use super::denoise_view::DenoiseView;
use super::plot_style;
use super::{Panel, Shell, panel_common, settings};
use crate::experiment::denoise::{Method, TrainSubset};
use crate::experiment::strength::io::StrengthRow;
use crate::experiment::{Artifacts, DenoiseConfig, Event, ExperimentConfig};
use crate::rm::denoise::{FlipRule, SmoothScope};

/// The denoising tab's settings: methods, flips, smoothing, margin.
fn denoise_ui(c: &mut DenoiseConfig, ui: &mut egui::Ui) {
    ui.strong("Methods");
    for m in Method::ALL {
        let mut on = c.methods.contains(&m);
        let about = match m {
            Method::Baseline => "The plain preference loss on the labels as given",
            Method::Flip => "Swap chosen and rejected on the pairs chosen by the flip rule",
            Method::Smooth => "Label smoothing with α on the pairs chosen by its scope",
            Method::Margin => "Ask for a reward gap of λ·μ on every pair",
            Method::FlipMargin => "Flip, then the margin on every pair",
            Method::SmoothMargin => "Label smoothing, then the margin on every pair",
            Method::Oracle => {
                "Train on labels corrected by the gold reward (synthetic world only): the ceiling"
            }
        };
        if ui
            .checkbox(&mut on, m.name())
            .on_hover_text(about)
            .changed()
        {
            if on {
                c.methods.push(m);
                c.methods
                    .sort_by_key(|x| Method::ALL.iter().position(|y| y == x));
            } else {
                c.methods.retain(|x| *x != m);
            }
        }
    }
    ui.add(settings::slider(&mut c.seeds, 1..=10).text("seeds"))
        .on_hover_text("Runs per method with different seeds: the bars show their mean");
    ui.strong("Recipe");
    ui.horizontal(|ui| {
        ui.label("flip:").on_hover_text(
            "Which labels the flip method swaps: a share of the lowest-μ pairs, or every pair with μ < 0",
        );
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
        ui.add(settings::slider(fraction, 0.01..=0.5).text("flip fraction"))
            .on_hover_text("Share of training pairs, lowest μ first, whose labels are swapped");
    }
    ui.add(settings::slider(&mut c.smoothing, 0.0..=1.0).text("smoothing α"))
.on_hover_text("Label smoothing: the target becomes 1 − α instead of 1 (0.9 on μ < 0 pairs is a soft flip; 0.1 on every pair keeps the loss from reaching 0)");
    let mut all = c.smoothing_scope == SmoothScope::All;
    ui.checkbox(&mut all, "smooth every pair (else only μ < 0)")
        .on_hover_text("Off: only the doubtful pairs (μ < 0) get the soft target, a soft flip. On: every pair, a regulariser");
    c.smoothing_scope = if all {
        SmoothScope::All
    } else {
        SmoothScope::MuNegative
    };
    ui.add(settings::slider(&mut c.margin_scale, 0.0..=3.0).text("margin scale λ"))
        .on_hover_text(
            "The margin asks for a reward gap of λ·μ: larger for the pairs the ensemble is sure of",
        );
    ui.checkbox(&mut c.margin_clamp, "margin = max(μ, 0)")
        .on_hover_text("No negative margins: pairs the ensemble doubts get no margin instead of a reversed one");
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
        ui.add(settings::slider(fraction, 0.01..=1.0).text("strongest fraction"))
            .on_hover_text("Share of pairs, strongest μ first, that the methods train on");
    }
    ui.strong("Training");
    settings::arch_ui(&mut c.rm.model, ui, "dn_arch");
    ui.add(
        settings::slider(&mut c.rm.epochs, 0.5..=30.0)
            .logarithmic(true)
            .text("epochs per run"),
    )
    .on_hover_text("Passes over the training pairs for each method's model");
    ui.add(settings::slider(&mut c.strength.models, 2..=20).text("ensemble M for μ"))
        .on_hover_text("Reward models in the ensemble that measures μ before the methods train");
}

/// The central panel of the denoising tab.
fn denoise_panel_ui(panel: &mut DenoisePanel, shell: &mut Shell, ui: &mut egui::Ui, mine: bool) {
    let view = &panel.view;
    ui.heading("Denoising: flip, label smoothing and adaptive margin vs baseline");
    let status = if view.report.is_some() {
        format!("{} runs", view.runs.len())
    } else if view.progress.jobs > 0 {
        format!(
            "{} · step {}/{} · run {}/{}",
            view.progress.label,
            view.progress.step,
            view.progress.steps,
            view.progress.job + 1,
            view.progress.jobs
        )
    } else {
        String::new()
    };
    let fraction = view.progress.fraction();
    panel_common::banners_ui(shell, ui, mine);
    panel_common::controls_ui(shell, ui, mine, fraction, &status);
    if let Some(m) = &shell.handoff.strength {
        let forget = ui
            .horizontal(|ui| {
                ui.label(format!(
                    "μ of {} pairs from {}: no ensemble is trained",
                    m.mu.len(),
                    m.source
                ));
                ui.button("Train a new ensemble instead").clicked()
            })
            .inner;
        if forget {
            shell.handoff.strength = None;
        }
    }
    panel.earlier.toggles_ui(ui);
    ui.separator();
    let view = &panel.view;
    let h = ((ui.available_height() - 150.0) / 1.6).clamp(110.0, 300.0);
    if view.runs.is_empty() && view.live.is_empty() && panel.earlier.runs.is_empty() {
        plot_style::placeholder_ui(
            ui,
            h,
            "Each method's validation accuracy will appear here, one bar per method (the mean over its seeds), with its curves over training beside it: press Train. First an ensemble measures μ for every pair, then every method trains its own reward model.",
        );
        return;
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.columns(2, |cols| {
            methods_chart_ui(view, &panel.earlier, &mut cols[0], h);
            curves_chart_ui(view, &mut cols[1], h);
        });
        tables_ui(view, &panel.earlier, ui);
    });
}

/// Settings in a few words, for the name of a run.
fn run_words(config: &DenoiseConfig, shell: &Shell) -> String {
    let data = super::compare::data_words(shell);
    format!("{data}, {} seed(s), seed {}", config.seeds, shell.run.seed)
}

/// The denoising tab.
#[derive(Default)]
pub struct DenoisePanel {
    /// Its knobs.
    pub config: DenoiseConfig,
    /// What its run has shown so far.
    pub view: DenoiseView,
    /// Earlier runs' means per method, for comparison.
    pub earlier: Compare<Vec<(Method, f64)>>,
}

impl Panel for DenoisePanel {
    fn name(&self) -> &'static str {
        "denoise"
    }

    fn title(&self) -> &'static str {
        "Denoising"
    }

    fn job_stride(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "a method run",
            "the rest of the reward model in training: an ensemble member while μ is measured, then one method with one seed",
        ))
    }

    fn experiment(&self) -> ExperimentConfig {
        ExperimentConfig::Denoise(self.config.clone())
    }

    fn load(&mut self, experiment: &ExperimentConfig) -> bool {
        match experiment {
            ExperimentConfig::Denoise(c) => {
                self.config = c.clone();
                true
            }
            _ => false,
        }
    }

    fn settings_ui(&mut self, _shell: &mut Shell, ui: &mut egui::Ui) {
        denoise_ui(&mut self.config, ui);
    }

    fn central_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui) {
        let mine = shell.runs(self.name());
        denoise_panel_ui(self, shell, ui, mine);
    }

    fn clear(&mut self) {
        self.view = DenoiseView::default();
    }

    fn starting(&mut self, shell: &mut Shell) -> String {
        let last = means(&self.view);
        self.clear();
        self.earlier.start(
            (!last.is_empty()).then_some(last),
            &run_words(&self.config, shell),
        )
    }

    fn apply(&mut self, event: &Event) {
        self.view.apply(event);
    }

    /// The μ handed over from the strength tab (the panel keeps no μ of its own ensemble).
    fn strength_rows(&self, shell: &Shell) -> Option<Vec<StrengthRow>> {
        let s = shell.handoff.strength.as_ref()?;
        Some(
            s.index
                .iter()
                .zip(&s.mu)
                .map(|(&index, &mu)| StrengthRow {
                    index,
                    mu,
                    sigma: f32::NAN,
                    band: 0,
                })
                .collect(),
        )
    }

    /// The strength tab's μ, when it was handed over.
    fn artifacts(&self, shell: &Shell) -> Artifacts {
        Artifacts {
            strength: shell.handoff.strength.clone(),
            ..Default::default()
        }
    }
}
