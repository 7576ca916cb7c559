//! The Preference-strength panel (paper Figs 1, 2, 4 and the mislabel PR curve), live while
//! the ensemble trains. Hovering a bar lists the pairs behind it.
use egui_plot::{Bar, BarChart, HLine, Line, PlotPoints, Points, VLine};

use super::compare::Compare;
use super::plot_style::{self, BarTip, palette};
use super::strength_view::StrengthView;
use super::{Panel, Request, Shell, panel_common, settings};
use crate::experiment::strength::io::StrengthMu;
use crate::experiment::{Event, ExperimentConfig, StrengthConfig};

const MU: egui::Color32 = palette::BLUE;
const SIGMA: egui::Color32 = palette::ORANGE;
const BAD: egui::Color32 = palette::REFERENCE;

/// Cut long text for tooltips and tables.
pub fn short(text: &str, max: usize) -> String {
    let flat = text.replace('\n', " / ");
    let flat = flat.trim();
    if flat.chars().count() <= max {
        flat.to_string()
    } else {
        // Keep the end of prompts (nearest the response) and the start of responses.
        let head: String = flat.chars().take(max).collect();
        format!("{head}…")
    }
}

/// Bins of μ or σ over the training pairs: `(lowest value, bin width, positions per bin)`;
/// none without finite values.
fn binned(values: &[f32], train: &[usize], bins: usize) -> Option<(f64, f64, Vec<Vec<usize>>)> {
    let train: Vec<usize> = train
        .iter()
        .copied()
        .filter(|&p| values.get(p).is_some_and(|x| x.is_finite()))
        .collect();
    let (lo, hi) = train
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &p| {
            let x = f64::from(values[p]);
            (lo.min(x), hi.max(x))
        });
    if !lo.is_finite() {
        return None;
    }
    let width = ((hi - lo) / bins as f64).max(1e-6);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); bins];
    for &p in &train {
        let b = (((f64::from(values[p]) - lo) / width) as usize).min(bins - 1);
        members[b].push(p);
    }
    Some((lo, width, members))
}

/// Bins of the μ histogram.
const BINS: usize = 30;

/// What a finished run drew, kept to compare later runs with: its μ histogram as an outline
/// `(bin centre, pairs)` and its precision–recall curve with its AUROC.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawn {
    /// `(bin centre, pairs)` of the μ histogram.
    pub mu: Vec<[f64; 2]>,
    /// `(recall, precision)` when the truth is known.
    pub pr: Vec<[f64; 2]>,
    /// AUROC of −μ against the truth.
    pub auroc: Option<f32>,
}

impl Drawn {
    /// What `view` drew (none before it had μ).
    pub fn of(view: &StrengthView) -> Option<Self> {
        let (lo, width, members) = binned(&view.mu, &view.train, BINS)?;
        Some(Self {
            mu: members
                .iter()
                .enumerate()
                .map(|(b, ps)| [lo + (b as f64 + 0.5) * width, ps.len() as f64])
                .collect(),
            pr: view
                .pr
                .iter()
                .map(|&(r, p)| [f64::from(r), f64::from(p)])
                .collect(),
            auroc: view.auroc,
        })
    }
}

/// Histogram of μ or σ over training pairs (with earlier runs' μ as outlines); each bar's
/// hover text lists up to 3 of its pairs.
fn histogram_ui(
    view: &StrengthView,
    earlier: &Compare<Drawn>,
    ui: &mut egui::Ui,
    sigma: bool,
    height: f32,
) {
    let values = if sigma { &view.sigma } else { &view.mu };
    let mut bars = Vec::new();
    let mut tips = Vec::new();
    if let Some((lo, width, members)) = binned(values, &view.train, BINS) {
        let name = if sigma { "σ" } else { "μ" };
        for (b, ps) in members.iter().enumerate() {
            let a = lo + b as f64 * width;
            let mut text = format!("{name} from {a:.2} to {:.2}: {} pairs", a + width, ps.len());
            for &p in ps.iter().take(3) {
                let pair = &view.pairs[p];
                text.push_str(&format!(
                    "\n• #{} μ {:.2} σ {:.2}: chosen \"{}\" / rejected \"{}\"",
                    pair.index,
                    view.mu[p],
                    view.sigma[p],
                    short(&pair.chosen, 40),
                    short(&pair.rejected, 40)
                ));
            }
            bars.push(Bar::new(a + width / 2.0, ps.len() as f64).width(width));
            tips.push(BarTip {
                x: a + width / 2.0,
                width,
                text,
            });
        }
    }
    let outlines = if sigma { Vec::new() } else { earlier.shown() };
    let color = if sigma { SIGMA } else { MU };
    let label = if sigma {
        "σ (disagreement)"
    } else {
        "μ (mean reward gap)"
    };
    let csv = || {
        let mut out = String::from("index,mu,sigma,train\n");
        let train: std::collections::HashSet<usize> = view.train.iter().copied().collect();
        for (p, pair) in view.pairs.iter().enumerate() {
            let (m, s) = (view.mu.get(p), view.sigma.get(p));
            if let (Some(m), Some(s)) = (m, s) {
                out.push_str(&format!("{},{m},{s},{}\n", pair.index, train.contains(&p)));
            }
        }
        out
    };
    if sigma {
        plot_style::chart_title_ui(
            ui,
            "σ: how much the models disagree",
            "For each training pair, the standard deviation of the reward gaps the ensemble's models give it. Small: the models agree. Hover a bar for its pairs.",
            &["ps_sigma_hist"],
            &csv,
        );
        plot_style::legend_ui(ui, &[(label, color)]);
    } else {
        let title = match view.snapshot {
            Some((s, t)) => format!(
                "μ: the preference strength of each pair (Fig 1), so far: after {s} of {t} steps"
            ),
            None => "μ: the preference strength of each pair (Fig 1)".to_string(),
        };
        plot_style::chart_title_ui(
            ui,
            &title,
            "For each training pair, the mean over the ensemble of reward(chosen) − reward(rejected). Far right: a clear preference. Left of the red line (μ < 0): the ensemble prefers the rejected answer, so the label is probably wrong. Hover a bar for its pairs.",
            &["ps_mu_hist"],
            &csv,
        );
        let mut entries = vec![(label, color), ("μ = 0", BAD)];
        entries.extend(outlines.iter().map(|(r, c)| (r.label.as_str(), *c)));
        plot_style::legend_ui(ui, &entries);
    }
    let response = plot_style::plot(
        if sigma { "ps_sigma_hist" } else { "ps_mu_hist" },
        height,
        label,
        "pairs",
    )
    .show(ui, |p| {
        p.bar_chart(
            BarChart::new(label, bars)
                .color(color.gamma_multiply(0.8))
                .element_formatter(Box::new(|_, _| String::new())),
        );
        if !sigma {
            p.vline(VLine::new("μ = 0", 0.0).color(BAD).width(2.0));
        }
        for (run, c) in &outlines {
            p.line(
                Line::new(run.label.clone(), PlotPoints::from(run.data.mu.clone()))
                    .color(*c)
                    .width(1.5),
            );
        }
        p.pointer_coordinate()
    });
    plot_style::bar_tooltip(&response.response, response.inner, &tips);
}

fn groups_ui(view: &StrengthView, ui: &mut egui::Ui, height: f32) {
    let csv = || {
        let mut out = String::from("group,mean_mu,mean_sigma\n");
        for (g, (m, s)) in view.groups.iter().enumerate() {
            out.push_str(&format!("{},{m},{s}\n", g + 1));
        }
        out
    };
    plot_style::chart_title_ui(
        ui,
        "20 groups sorted by μ: mean μ and mean σ (Fig 2)",
        "The training pairs sorted by μ and cut into 20 groups of equal size. Left: each group's mean μ, from the most doubtful (group 1) to the clearest. Right: each group's mean σ — the models disagree most where the preference is weak or wrong, and agree on the clear pairs.",
        &["ps_groups_mu", "ps_groups_sigma"],
        &csv,
    );
    ui.columns(2, |cols| {
        let tips: Vec<BarTip> = view
            .groups
            .iter()
            .enumerate()
            .map(|(g, (m, s))| BarTip {
                x: g as f64 + 1.0,
                width: 0.8,
                text: format!("group {}: mean μ {m:.3}, mean σ {s:.3}", g + 1),
            })
            .collect();
        let mu: Vec<Bar> = view
            .groups
            .iter()
            .enumerate()
            .map(|(g, (m, _))| Bar::new(g as f64 + 1.0, f64::from(*m)).width(0.8))
            .collect();
        plot_style::legend_ui(&mut cols[0], &[("mean μ", MU), ("μ = 0", BAD)]);
        let response = plot_style::plot("ps_groups_mu", height, "group (sorted by μ)", "mean μ")
            .show(&mut cols[0], |p| {
                p.bar_chart(
                    BarChart::new("mean μ", mu)
                        .color(MU)
                        .element_formatter(Box::new(|_, _| String::new())),
                );
                p.hline(HLine::new("μ = 0", 0.0).color(BAD));
                p.pointer_coordinate()
            });
        plot_style::bar_tooltip(&response.response, response.inner, &tips);
        let sigma: Vec<[f64; 2]> = view
            .groups
            .iter()
            .enumerate()
            .map(|(g, (_, s))| [g as f64 + 1.0, f64::from(*s)])
            .collect();
        plot_style::legend_ui(&mut cols[1], &[("mean σ", SIGMA)]);
        plot_style::plot("ps_groups_sigma", height, "group (sorted by μ)", "mean σ")
            .include_y(0.0)
            .show(&mut cols[1], |p| {
                p.line(Line::new("mean σ", PlotPoints::from(sigma.clone())).color(SIGMA));
                p.points(
                    Points::new("groups", PlotPoints::from(sigma))
                        .radius(3.0)
                        .color(SIGMA),
                );
            });
    });
}

fn bands_ui(view: &StrengthView, ui: &mut egui::Ui, height: f32) {
    let csv = || {
        let finals: Vec<[f64; 2]> = view
            .bands
            .iter()
            .map(|b| [b.band as f64 + 1.0, f64::from(b.validation_accuracy)])
            .collect();
        let names: Vec<String> = (1..=view.band_curves.len())
            .map(|b| format!("band {b} over steps"))
            .collect();
        let mut series: Vec<(&str, &[[f64; 2]])> = vec![("final, by band", &finals)];
        series.extend(
            names
                .iter()
                .zip(&view.band_curves)
                .map(|(n, c)| (n.as_str(), c.as_slice())),
        );
        super::export::series_csv("band or step", "validation accuracy", &series)
    };
    plot_style::chart_title_ui(
        ui,
        "A fresh reward model trained on each 10 % band alone (Fig 4)",
        "The training pairs sorted by μ and cut into 10 bands; a new model is trained on each band alone and tested on the same validation pairs. Left: each band's final validation accuracy (below 0.5: the band taught the wrong preference). Right: the accuracy of each band's model over its training steps, band 1 (weakest) dark to band 10 (strongest) yellow.",
        &["ps_bands", "ps_band_curves"],
        &csv,
    );
    ui.columns(2, |cols| {
        let tips: Vec<BarTip> = view
            .bands
            .iter()
            .map(|b| BarTip {
                x: b.band as f64 + 1.0,
                width: 0.8,
                text: format!(
                    "band {} (mean μ {:.2}): validation accuracy {:.3}, own-band loss {}",
                    b.band + 1,
                    b.mean_mu,
                    b.validation_accuracy,
                    b.train_loss.map_or("n/a".into(), |l| format!("{l:.3}"))
                ),
            })
            .collect();
        let bars: Vec<Bar> = view
            .bands
            .iter()
            .map(|b| Bar::new(b.band as f64 + 1.0, f64::from(b.validation_accuracy)).width(0.8))
            .collect();
        plot_style::legend_ui(&mut cols[0], &[("band alone", MU), ("chance: 0.5", BAD)]);
        let response = plot_style::plot(
            "ps_bands",
            height,
            "band by μ (1 = weakest 10 %)",
            "validation accuracy",
        )
        .include_y(0.0)
        .include_y(1.0)
        .show(&mut cols[0], |p| {
            p.bar_chart(
                BarChart::new("band alone", bars)
                    .color(MU)
                    .element_formatter(Box::new(|_, _| String::new())),
            );
            p.hline(HLine::new("chance: 0.5", 0.5).color(BAD));
            p.pointer_coordinate()
        });
        plot_style::bar_tooltip(&response.response, response.inner, &tips);
        let n = view.band_curves.len();
        let names: Vec<String> = (1..=n).map(|b| format!("band {b}")).collect();
        let entries: Vec<(&str, egui::Color32)> = names
            .iter()
            .enumerate()
            .map(|(b, name)| (name.as_str(), palette::sequential(b, n)))
            .collect();
        plot_style::legend_ui(&mut cols[1], &entries);
        plot_style::plot(
            "ps_band_curves",
            height,
            "training step",
            "validation accuracy",
        )
        .include_y(0.0)
        .include_y(1.0)
        .show(&mut cols[1], |p| {
            p.hline(HLine::new("chance: 0.5", 0.5).color(BAD));
            for (b, curve) in view.band_curves.iter().enumerate() {
                p.line(
                    Line::new(names[b].clone(), PlotPoints::from(curve.clone()))
                        .color(palette::sequential(b, n)),
                );
            }
        });
    });
}

fn pr_ui(view: &StrengthView, earlier: &Compare<Drawn>, ui: &mut egui::Ui, height: f32) {
    let Some(truth) = &view.mislabeled else {
        ui.label("No ground truth for this data: the precision–recall view needs the synthetic world, --truth-field or injected flips.");
        return;
    };
    let positives = view.train.iter().filter(|&&p| truth[p]).count();
    let rate = positives as f64 / view.train.len().max(1) as f64;
    let pr: Vec<[f64; 2]> = view
        .pr
        .iter()
        .map(|&(r, p)| [f64::from(r), f64::from(p)])
        .collect();
    plot_style::chart_title_ui(
        ui,
        "Does a low μ find the mislabelled pairs?",
        "Take the pairs with the lowest μ as 'probably mislabelled' and check against the truth the synthetic world knows. Recall: the share of the truly mislabelled pairs found; precision: the share of the pairs taken that are truly mislabelled. Taking pairs at random gives the grey line.",
        &["ps_pr"],
        &|| super::export::series_csv("recall", "precision", &[("lowest μ first", &pr)]),
    );
    ui.label(format!(
        "Finding mislabeled pairs by low μ ({}): AUROC {} · {:.1} % of training pairs are mislabeled",
        view.truth_source.as_deref().unwrap_or("truth"),
        view.auroc.map_or("n/a".into(), |a| format!("{a:.3}")),
        100.0 * rate
    ));
    let pts: Vec<[f64; 2]> = view
        .pr
        .iter()
        .map(|&(r, p)| [f64::from(r), f64::from(p)])
        .collect();
    let outlines: Vec<(String, egui::Color32, &[[f64; 2]])> = earlier
        .shown()
        .into_iter()
        .filter(|(r, _)| !r.data.pr.is_empty())
        .map(|(r, c)| {
            let auroc = r
                .data
                .auroc
                .map_or(String::new(), |a| format!(" (AUROC {a:.3})"));
            (format!("{}{auroc}", r.label), c, r.data.pr.as_slice())
        })
        .collect();
    let mut entries = vec![
        ("lowest μ taken as mislabeled", BAD),
        ("random", palette::GREY),
    ];
    entries.extend(outlines.iter().map(|(l, c, _)| (l.as_str(), *c)));
    plot_style::legend_ui(ui, &entries);
    plot_style::plot("ps_pr", height, "recall", "precision")
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .include_y(1.0)
        .show(ui, |p| {
            for (label, c, pr) in &outlines {
                p.line(
                    Line::new(label.clone(), PlotPoints::from(pr.to_vec()))
                        .color(*c)
                        .width(1.5),
                );
            }
            p.line(Line::new("lowest μ taken as mislabeled", PlotPoints::from(pts)).color(BAD));
            p.hline(HLine::new("random", rate).color(palette::GREY));
        });
}

fn table_ui(view: &StrengthView, ui: &mut egui::Ui, by_sigma: bool) {
    let id = if by_sigma {
        "ps_high_sigma"
    } else {
        "ps_low_mu"
    };
    egui::Grid::new(id).striped(true).show(ui, |ui| {
        ui.strong("#");
        ui.strong("μ");
        ui.strong("σ");
        ui.strong("prompt (end)");
        ui.strong("chosen");
        ui.strong("rejected");
        ui.end_row();
        for p in view.extremes(10, by_sigma) {
            let pair = &view.pairs[p];
            let flag = if view.mislabeled.as_ref().is_some_and(|m| m[p]) {
                " ×"
            } else {
                ""
            };
            ui.label(format!("{}{flag}", pair.index));
            ui.label(format!("{:.2}", view.mu[p]));
            ui.label(format!("{:.2}", view.sigma[p]));
            let prompt: String = {
                let chars: Vec<char> = pair.prompt.chars().collect();
                chars[chars.len().saturating_sub(50)..].iter().collect()
            };
            ui.label(short(&prompt, 50)).on_hover_text(&pair.prompt);
            ui.label(short(&pair.chosen, 60))
                .on_hover_text(&pair.chosen);
            ui.label(short(&pair.rejected, 60))
                .on_hover_text(&pair.rejected);
            ui.end_row();
        }
    });
}

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
    use crate::experiment::DataSource;
    let data = match &shell.run.data.source {
        DataSource::Synthetic(w) => format!("{} pairs, flip {}", w.pairs, w.flip_rate),
        other => other.label(),
    };
    format!("{data}, M {}, seed {}", config.models, shell.run.seed)
}

impl Panel for StrengthPanel {
    fn name(&self) -> &'static str {
        "strength"
    }

    fn title(&self) -> &'static str {
        "Preference strength"
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
