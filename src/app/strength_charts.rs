//! The charts of the preference-strength tab: μ and σ histograms (Fig 1, earlier runs as
//! outlines), 20 groups (Fig 2), the band-alone models (Fig 4), the search for mislabelled pairs
//! (PR curve, earlier runs too) and the tables of extreme pairs. Hovering a bar lists its pairs.
use egui_plot::{Bar, BarChart, HLine, Line, PlotPoints, Points, VLine};

use super::compare::Compare;
use super::plot_style::{self, BarTip, palette};
use super::strength_view::StrengthView;

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
pub(super) fn histogram_ui(
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

pub(super) fn groups_ui(view: &StrengthView, ui: &mut egui::Ui, height: f32) {
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

pub(super) fn bands_ui(view: &StrengthView, ui: &mut egui::Ui, height: f32) {
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

pub(super) fn pr_ui(view: &StrengthView, earlier: &Compare<Drawn>, ui: &mut egui::Ui, height: f32) {
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

pub(super) fn table_ui(view: &StrengthView, ui: &mut egui::Ui, by_sigma: bool) {
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
