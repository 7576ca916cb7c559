//! The Preference-strength tab (paper Figs 1, 2, 4 and the mislabel PR curve), live while the
//! ensemble trains: its settings, its three parts and earlier runs (the charts are in
//! `strength_charts`).
use super::compare::Compare;
use super::plot_style;
use super::strength_charts::{Drawn, bands_ui, groups_ui, histogram_ui, pr_ui, table_ui};
use super::strength_view::StrengthView;
use super::{Panel, Request, Shell, panel_common, settings};
use crate::experiment::strength::io::StrengthMu;
use crate::experiment::strength::io::StrengthRow;
use crate::experiment::{Event, ExperimentConfig, StrengthConfig};

/// The strength tab's settings: the ensemble.
fn strength_ui(c: &mut StrengthConfig, ui: &mut egui::Ui) {
    ui.strong("Ensemble");
    ui.add(settings::slider(&mut c.models, 2..=20).text("models M"))
        .on_hover_text(
            "Reward models in the ensemble; each has its own seed and shuffle (the paper uses 10)",
        );
    ui.add(settings::slider(&mut c.cross_fit, 0..=10).text("cross-fit folds"))
        .on_hover_text("0: every member trains on all training pairs and scores them in-sample (the paper). K ≥ 2: K folds, each pair scored only by models that never saw it");
    settings::arch_ui(&mut c.rm.model, ui, "ps_arch");
    ui.add(
        settings::slider(&mut c.rm.epochs, 0.5..=20.0)
            .logarithmic(true)
            .text("epochs per member"),
    )
    .on_hover_text("Passes over the training pairs for each model of the ensemble");
    ui.add(
        settings::slider(&mut c.rm.optimizer.lr, 1e-5..=3e-2)
            .logarithmic(true)
            .text("learning rate"),
    )
    .on_hover_text("Step size of AdamW (it warms up, then decays)");
    ui.checkbox(&mut c.band_retrain, "retrain a model on each band alone")
        .on_hover_text("After the ensemble: sort the pairs by μ into 10 bands and train a fresh model on each band alone (Fig 4)");
    ui.add_enabled(
        c.band_retrain,
        settings::slider(&mut c.band_epochs, 1.0..=20.0).text("band epochs"),
    );
}

/// Hand the finished ensemble's μ to the denoising tab, which then trains no ensemble of its own.
fn handoff_ui(view: &StrengthView, shell: &mut Shell, ui: &mut egui::Ui) {
    if view.report.is_none() {
        return;
    }
    let hand = ui
        .button("Use this μ in the Denoising tab")
        .on_hover_text("The denoising methods then use this ensemble's μ instead of training a new ensemble (same data needed)");
    if hand.clicked() {
        shell.handoff.strength = Some(StrengthMu {
            index: view.pairs.iter().map(|p| p.index).collect(),
            mu: view.mu.clone(),
            source: "the strength tab's ensemble".into(),
        });
        shell.request(Request::ShowTab("denoise"));
    }
}

/// The parts of the tab, one at a time, so that each fits a 1280×800 screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Section {
    /// μ and σ per pair, and in 20 groups (Figs 1–2).
    #[default]
    Strength,
    /// The band-alone models (Fig 4).
    Bands,
    /// The search for mislabelled pairs: the PR curve and the tables.
    Mislabelled,
}

impl Section {
    const ALL: [Section; 3] = [Section::Strength, Section::Bands, Section::Mislabelled];

    /// Its name on its button.
    pub fn title(self) -> &'static str {
        match self {
            Self::Strength => "μ and σ (Figs 1–2)",
            Self::Bands => "band models (Fig 4)",
            Self::Mislabelled => "mislabelled pairs",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Strength => {
                "The preference strength μ and the disagreement σ of every training pair, and of 20 groups sorted by μ"
            }
            Self::Bands => {
                "A fresh model trained on each tenth of the pairs sorted by μ, alone (on when 'retrain a model on each band alone' is ticked)"
            }
            Self::Mislabelled => {
                "Do the lowest-μ pairs find the mislabelled ones? The precision–recall curve, and the lowest-μ and highest-σ pairs"
            }
        }
    }
}

/// The preference-strength tab.
#[derive(Default)]
pub struct StrengthPanel {
    /// Its knobs.
    pub config: StrengthConfig,
    /// What its run has shown so far.
    pub view: StrengthView,
    /// The part of the tab shown.
    pub section: Section,
    /// The part was picked by hand during this run (else it follows the run: the band models
    /// when they train).
    pub picked: bool,
    /// Earlier runs' μ and PR curves, for comparison.
    pub earlier: Compare<Drawn>,
}

/// The central panel of the preference-strength tab.
fn strength_panel_ui(panel: &mut StrengthPanel, shell: &mut Shell, ui: &mut egui::Ui, mine: bool) {
    let view = &panel.view;
    ui.heading("Preference strength: an ensemble votes on every pair");
    let (done, models) = view.members;
    let status = match &view.report {
        Some(r) => format!(
            "fraction of training pairs with μ < 0: {:.3} · ensemble validation accuracy {:.3}",
            r.frac_mu_negative, r.ensemble_validation_accuracy
        ),
        None if view.progress.jobs > 0 => {
            let members = match view.snapshot {
                Some((s, t)) => format!("μ and σ so far: the members after {s} of {t} steps"),
                None => format!("ensemble {done}/{models}"),
            };
            format!(
                "{} · step {}/{} · {members}",
                view.progress.label, view.progress.step, view.progress.steps
            )
        }
        None => String::new(),
    };
    let fraction = view.progress.fraction();
    panel_common::banners_ui(shell, ui, mine);
    panel_common::controls_ui(shell, ui, mine, fraction, &status);
    handoff_ui(view, shell, ui);
    ui.horizontal(|ui| {
        ui.label("show:");
        for s in Section::ALL {
            if ui
                .selectable_label(panel.section == s, s.title())
                .on_hover_text(s.hint())
                .clicked()
            {
                panel.section = s;
                panel.picked = true;
            }
        }
    });
    panel.earlier.toggles_ui(ui);
    ui.separator();
    let view = &panel.view;
    let earlier = &panel.earlier;
    let h = ((ui.available_height() - 110.0) / 2.0).clamp(110.0, 240.0);
    // The parts with one row of charts draw them taller.
    let tall = (ui.available_height() - 90.0).clamp(110.0, 420.0);
    if view.mu.is_empty() {
        plot_style::placeholder_ui(
            ui,
            h,
            "μ and σ of every training pair will appear here once the ensemble's members have scored the pairs: press Train. Then: the pairs in 20 groups by μ, the band-alone models and the search for mislabelled pairs.",
        );
        return;
    }
    egui::ScrollArea::vertical().show(ui, |ui| match panel.section {
        Section::Strength => {
            ui.columns(2, |cols| {
                histogram_ui(view, earlier, &mut cols[0], false, h);
                histogram_ui(view, earlier, &mut cols[1], true, h);
            });
            groups_ui(view, ui, h);
        }
        Section::Bands if view.bands.is_empty() && view.band_curves.is_empty() => {
            plot_style::placeholder_ui(
                ui,
                h,
                "The band models will appear here once the ensemble has finished, if 'retrain a model on each band alone' is ticked in the settings (the bands lesson does).",
            );
        }
        Section::Bands => bands_ui(view, ui, tall),
        Section::Mislabelled => {
            ui.columns(2, |cols| {
                pr_ui(view, earlier, &mut cols[0], tall - 60.0);
                egui::CollapsingHeader::new("Lowest-μ training pairs (likely mislabeled)")
                    .default_open(true)
                    .show(&mut cols[1], |ui| table_ui(view, ui, false));
            });
            egui::CollapsingHeader::new("Highest-σ training pairs (the ensemble disagrees)")
                .show(ui, |ui| table_ui(view, ui, true));
        }
    });
}

/// Settings and results in a few words, for the name of a run.
fn run_words(config: &StrengthConfig, shell: &Shell) -> String {
    let data = super::compare::data_words(shell);
    format!("{data}, M {}, seed {}", config.models, shell.run.seed)
}

impl Panel for StrengthPanel {
    fn name(&self) -> &'static str {
        "strength"
    }

    fn title(&self) -> &'static str {
        "Preference strength"
    }

    fn job_stride(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "a member or band",
            "the rest of the ensemble member or band model in training (members trained together, as bag-of-words ensembles are, count as one)",
        ))
    }

    fn strength_rows(&self, shell: &Shell) -> Option<Vec<StrengthRow>> {
        let _ = shell;
        let v = &self.view;
        if v.report.is_none() || v.mu.len() != v.pairs.len() {
            return None;
        }
        Some(
            v.pairs
                .iter()
                .zip(&v.mu)
                .enumerate()
                .map(|(i, (p, &mu))| StrengthRow {
                    index: p.index,
                    mu,
                    sigma: v.sigma.get(i).copied().unwrap_or(f32::NAN),
                    band: 0,
                })
                .collect(),
        )
    }

    fn experiment(&self) -> ExperimentConfig {
        ExperimentConfig::Strength(self.config.clone())
    }

    fn load(&mut self, experiment: &ExperimentConfig) -> bool {
        match experiment {
            ExperimentConfig::Strength(c) => {
                self.config = c.clone();
                true
            }
            _ => false,
        }
    }

    fn settings_ui(&mut self, _shell: &mut Shell, ui: &mut egui::Ui) {
        strength_ui(&mut self.config, ui);
    }

    fn central_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui) {
        let mine = shell.runs(self.name());
        strength_panel_ui(self, shell, ui, mine);
    }

    fn clear(&mut self) {
        self.view = StrengthView::default();
        self.picked = false;
    }

    fn starting(&mut self, shell: &mut Shell) -> String {
        let last = Drawn::of(&self.view);
        self.clear();
        self.section = Section::Strength;
        self.earlier.start(last, &run_words(&self.config, shell))
    }

    fn apply(&mut self, event: &Event) {
        self.view.apply(event);
        // Follow the run to its band models unless a part was picked by hand.
        if !self.picked && !self.view.band_curves.is_empty() {
            self.section = Section::Bands;
        }
    }
}
