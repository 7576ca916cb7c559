//! The Iterative RLHF tab's charts: gold over PPO steps per arm, round by round (gold, win/tie/
//! lose against SFT), the MetaRM reward model's training, the first reward model's Δr spread at
//! checkpoints, the |Δr| histograms and the feature map with the original data's hull.
use egui::Color32;
use egui_plot::{
    Bar, BarChart, BoxElem, BoxPlot, BoxSpread, HLine, Line, PlotPoints, Points, Polygon, VLine,
};

use super::export;
use super::plot_style::{self, palette};
use super::rlhf_view::RlhfView;

/// The MetaRM arm's colour.
pub const METARM: Color32 = palette::BLUE;
/// The vanilla arm's colour.
pub const VANILLA: Color32 = palette::ORANGE;
/// SFT, the starting point.
const SFT: Color32 = palette::GREY;
const ROUND_LINE: Color32 = Color32::from_rgba_premultiplied(120, 120, 120, 90);

/// An arm's colour.
pub fn arm_color(arm: &str) -> Color32 {
    if arm == "metarm" { METARM } else { VANILLA }
}

fn round_lines(view: &RlhfView, p: &mut egui_plot::PlotUi<'_>) {
    for r in 1..view.rounds {
        p.vline(
            VLine::new("round boundary", (r * view.ppo_steps) as f64)
                .color(ROUND_LINE)
                .width(1.0),
        );
    }
}

/// Gold (and the round's reward model's score) over PPO steps, one line per arm.
pub fn gold_ui(view: &RlhfView, ui: &mut egui::Ui, h: f32) {
    plot_style::chart_title_ui(
        ui,
        "Gold reward over PPO steps",
        "Each arm's policy, scored by the world's true reward (gold) on every PPO step's batch, across all rounds (grey lines: where a round starts; the MetaRM arm gets a new reward model there). The dashed line is SFT's gold, where both arms start.",
        &["rlhf_gold"],
        &|| {
            let series: Vec<(String, Vec<[f64; 2]>)> = view
                .arms
                .iter()
                .map(|a| (format!("{a} gold"), view.series(a, |s| s.gold)))
                .collect();
            let refs: Vec<(&str, &[[f64; 2]])> = series
                .iter()
                .map(|(n, s)| (n.as_str(), s.as_slice()))
                .collect();
            export::series_csv("step", "gold", &refs)
        },
    );
    let mut legend: Vec<(String, Color32)> = view
        .arms
        .iter()
        .map(|a| (format!("{a}: gold"), arm_color(a)))
        .collect();
    legend.push(("SFT's gold".into(), SFT));
    plot_style::legend_owned_ui(ui, &legend);
    plot_style::plot("rlhf_gold", h, "PPO step (all rounds)", "gold reward").show(ui, |p| {
        round_lines(view, p);
        if let Some((_, sft, _)) = view.start {
            p.hline(
                HLine::new("SFT's gold", sft)
                    .color(SFT)
                    .style(egui_plot::LineStyle::dashed_loose()),
            );
        }
        for arm in &view.arms {
            let pts = plot_style::smooth(&view.series(arm, |s| s.gold), 0.8);
            p.line(
                Line::new(format!("{arm}: gold"), PlotPoints::from(pts))
                    .color(arm_color(arm))
                    .width(2.0),
            );
        }
    });
}

/// Gold and proxy at each round's end, per arm (round 0: SFT's gold).
pub fn round_rewards_ui(view: &RlhfView, ui: &mut egui::Ui, h: f32) {
    if view.rows.is_empty() {
        return;
    }
    plot_style::chart_title_ui(
        ui,
        "Gold and proxy at each round's end",
        "Each arm's policy after each round: its mean gold reward (solid) and its mean score by that round's reward model (dashed; the MetaRM arm's reward model changes every round, so its scale does too). Round 0 is SFT's gold. A proxy climbing while gold stalls or falls is over-optimisation.",
        &["rlhf_rounds"],
        &|| {
            let mut out = String::from("round,arm,gold,proxy\n");
            for r in &view.rows {
                out.push_str(&format!("{},{},{},{}\n", r.round, r.arm, r.gold, r.proxy));
            }
            out
        },
    );
    let mut legend: Vec<(String, Color32)> = Vec::new();
    for arm in &view.arms {
        legend.push((
            format!("{arm}: gold (solid), proxy (dashed)"),
            arm_color(arm),
        ));
    }
    plot_style::legend_owned_ui(ui, &legend);
    plot_style::plot("rlhf_rounds", h, "round", "reward")
        .x_axis_formatter(|mark, _| {
            let r = mark.value.round();
            if (mark.value - r).abs() < 1e-6 && r >= 0.0 {
                format!("{r}")
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            for arm in &view.arms {
                let rows = view.rows_of(arm);
                let mut gold: Vec<[f64; 2]> =
                    view.start.map(|s| vec![[0.0, s.1]]).unwrap_or_default();
                gold.extend(rows.iter().map(|r| [r.round as f64, r.gold]));
                let proxy: Vec<[f64; 2]> = rows.iter().map(|r| [r.round as f64, r.proxy]).collect();
                p.line(
                    Line::new(format!("{arm}: gold"), PlotPoints::from(gold.clone()))
                        .color(arm_color(arm))
                        .width(2.0),
                );
                p.points(
                    Points::new(format!("{arm}: gold"), gold)
                        .color(arm_color(arm))
                        .radius(3.0),
                );
                p.line(
                    Line::new(format!("{arm}: proxy"), PlotPoints::from(proxy))
                        .color(arm_color(arm))
                        .style(egui_plot::LineStyle::dashed_loose())
                        .width(1.5),
                );
            }
        });
}

/// Round by round: gold at each round's end and win/tie/lose against SFT.
pub fn rounds_ui(view: &RlhfView, ui: &mut egui::Ui, h: f32) {
    plot_style::chart_title_ui(
        ui,
        "Each round's policy against SFT, judged by gold",
        "For a fixed set of prompts, one answer of the round's policy and one of SFT's: a win when the policy's has more gold reward (beyond the tie band), a tie within it, a loss otherwise — the paper's Table 2, with gold as the judge. Left bar of each round: MetaRM arm; right: vanilla arm.",
        &["rlhf_wtl"],
        &|| {
            let mut out = String::from("round,arm,win,tie,lose,gold,gold_at_matched_kl\n");
            for r in &view.rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    r.round, r.arm, r.win, r.tie, r.lose, r.gold, r.gold_at_matched_kl
                ));
            }
            out
        },
    );
    plot_style::legend_ui(
        ui,
        &[
            ("win", palette::BLUE),
            ("tie", palette::GREY),
            ("lose", palette::VERMILLION),
        ],
    );
    let offset = |arm: &str| {
        if view.arms.len() < 2 {
            0.0
        } else if arm == view.arms[0] {
            -0.2
        } else {
            0.2
        }
    };
    let bars = |f: fn(&crate::experiment::rlhf::RoundRow) -> f64| -> Vec<Bar> {
        view.rows
            .iter()
            .map(|r| {
                Bar::new(r.round as f64 + offset(&r.arm), f(r))
                    .width(0.35)
                    .name(format!("round {} · {}", r.round, r.arm))
            })
            .collect()
    };
    plot_style::plot(
        "rlhf_wtl",
        h,
        "round (left: first arm, right: second)",
        "share of prompts",
    )
    .include_y(0.0)
    .include_y(1.0)
    .x_axis_formatter(|mark, _| {
        let r = mark.value.round();
        if (mark.value - r).abs() < 1e-6 && r >= 1.0 {
            format!("round {r}")
        } else {
            String::new()
        }
    })
    .show(ui, |p| {
        let win = BarChart::new("win", bars(|r| r.win)).color(palette::BLUE);
        let tie = BarChart::new("tie", bars(|r| r.tie))
            .color(palette::GREY)
            .stack_on(&[&win]);
        let lose = BarChart::new("lose", bars(|r| r.lose))
            .color(palette::VERMILLION)
            .stack_on(&[&win, &tie]);
        p.bar_chart(win);
        p.bar_chart(tie);
        p.bar_chart(lose);
    });
}

/// The MetaRM reward model's training: J of each step's meta groups, per round.
pub fn metarm_ui(view: &RlhfView, ui: &mut egui::Ui, h: f32) {
    if view.rm_steps.is_empty() {
        return;
    }
    plot_style::chart_title_ui(
        ui,
        "MetaRM's difference loss J while each round's reward model trains",
        "J measures how far apart the reward model sets the last policy's answers to one prompt (σ of the reward gaps, averaged; from (k−1)/2k when it cannot tell them apart). Each step first moves the model a little up J's slope, then takes the ordinary preference-loss step from there.",
        &["rlhf_j"],
        &|| {
            let mut out = String::from("round,step,loss,j\n");
            for (round, step, loss, j) in &view.rm_steps {
                out.push_str(&format!(
                    "{round},{step},{loss},{}\n",
                    j.map_or(String::new(), |j| j.to_string())
                ));
            }
            out
        },
    );
    let rounds: Vec<usize> = {
        let mut r: Vec<usize> = view.rm_steps.iter().map(|s| s.0).collect();
        r.dedup();
        r
    };
    let names: Vec<String> = rounds.iter().map(|r| format!("round {r}")).collect();
    let entries: Vec<(&str, Color32)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), palette::sequential(i, rounds.len().max(2))))
        .collect();
    plot_style::legend_ui(ui, &entries);
    plot_style::plot("rlhf_j", h, "reward-model step", "J").show(ui, |p| {
        for (i, round) in rounds.iter().enumerate() {
            let pts: Vec<[f64; 2]> = view
                .rm_steps
                .iter()
                .filter(|s| s.0 == *round)
                .filter_map(|s| s.3.map(|j| [s.1 as f64, f64::from(j)]))
                .collect();
            p.line(
                Line::new(
                    names[i].clone(),
                    PlotPoints::from(plot_style::smooth(&pts, 0.8)),
                )
                .color(palette::sequential(i, rounds.len().max(2)))
                .width(2.0),
            );
        }
    });
}

/// The first reward model's Δr over each checkpoint's pairs of answers: boxes per checkpoint.
pub fn spread_ui(view: &RlhfView, ui: &mut egui::Ui, h: f32) {
    plot_style::chart_title_ui(
        ui,
        "Distribution shift: the first reward model's reward gaps as PPO goes on",
        "At checkpoints, two answers of the policy to the same prompt, scored by the first reward model (fixed): each violin is the spread of the gaps Δr between them (its width: how many pairs have that gap), with a narrow box inside (quartiles, median, 5–95 % whiskers). A narrowing violin means the reward model no longer tells the policy's answers apart ([MR] Fig 1); a widening one that it spreads them more than gold would.",
        &["rlhf_spread"],
        &|| {
            let mut out = String::from("arm,round,step,variance,q05,q25,median,q75,q95\n");
            for s in &view.spread {
                let q = s.quantiles;
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{}\n",
                    s.arm, s.round, s.step, s.variance, q[0], q[1], q[2], q[3], q[4]
                ));
            }
            out
        },
    );
    let mut legend: Vec<(String, Color32)> = view
        .arms
        .iter()
        .map(|a| (a.clone(), arm_color(a)))
        .collect();
    legend.push(("SFT".into(), SFT));
    plot_style::legend_owned_ui(ui, &legend);
    let width = (view.ppo_steps.max(10) as f64) * 0.12;
    plot_style::plot(
        "rlhf_spread",
        h,
        "PPO step (all rounds)",
        "Δr by the first reward model",
    )
    .show(ui, |p| {
        round_lines(view, p);
        for name in view.arms.iter().map(String::as_str).chain([""]) {
            let shift = match view.arms.iter().position(|a| a == name) {
                Some(0) => -width * 0.55,
                Some(_) => width * 0.55,
                None => 0.0,
            };
            let color = if name.is_empty() {
                SFT
            } else {
                arm_color(name)
            };
            let label = if name.is_empty() { "SFT" } else { name };
            for s in view.spread.iter().filter(|s| s.arm == name) {
                let outline =
                    super::rlhf_view::violin(&s.values, s.step as f64 + shift, width * 0.5);
                // egui fills convex shapes only: the violin as the trapezoids between two
                // levels, then its outline.
                let n = outline.len();
                for i in 0..(n / 2).saturating_sub(1) {
                    let quad = vec![
                        outline[i],
                        outline[i + 1],
                        outline[n - 2 - i],
                        outline[n - 1 - i],
                    ];
                    p.polygon(
                        Polygon::new(label, PlotPoints::from(quad))
                            .fill_color(color.gamma_multiply(0.35))
                            .stroke(egui::Stroke::NONE),
                    );
                }
                if n >= 3 {
                    let mut closed = outline.clone();
                    closed.push(outline[0]);
                    p.line(
                        Line::new(label, PlotPoints::from(closed))
                            .color(color)
                            .width(1.0),
                    );
                }
            }
            let boxes: Vec<BoxElem> = view
                .spread
                .iter()
                .filter(|s| s.arm == name)
                .map(|s| {
                    let q = s.quantiles;
                    BoxElem::new(
                        s.step as f64 + shift,
                        BoxSpread::new(q[0], q[1], q[2], q[3], q[4]),
                    )
                    .box_width(width * 0.2)
                    .name(format!("{label} step {}", s.step))
                })
                .collect();
            p.box_plot(BoxPlot::new(label, boxes).color(color));
        }
    });
}

/// |Δr| histograms over [0, 1] of the latest round that has them.
pub fn hist_ui(view: &RlhfView, ui: &mut egui::Ui, h: f32) {
    let Some(round) = view.hist.iter().map(|r| r.round).max() else {
        return;
    };
    plot_style::chart_title_ui(
        ui,
        "How far apart the reward models set the policy's answers (|Δr|)",
        "Histograms of |Δr| between two answers to one prompt, as a share of pairs per bin: the first reward model on SFT's answers, the first reward model on the last round's policy, and that round's MetaRM reward model on the same answers. Each reward model's |Δr| is divided by its largest, so all lie in [0, 1] ([MR] Fig 5 / Part II Fig 16).",
        &["rlhf_hist"],
        &|| {
            let mut out = String::from("round,source,bin_low,share\n");
            for r in &view.hist {
                let n = r.shares.len().max(1) as f64;
                for (i, s) in r.shares.iter().enumerate() {
                    out.push_str(&format!("{},{},{},{s}\n", r.round, r.source, i as f64 / n));
                }
            }
            out
        },
    );
    let sources = [
        ("rm0_pi0", "first RM on SFT's answers", SFT),
        ("rm0_pi_r", "first RM on the last policy", VANILLA),
        (
            "metarm_rm_r_pi_r",
            "that round's MetaRM on the last policy",
            METARM,
        ),
        (
            "vanilla_rm_pi_r",
            "the kept RM on the last policy",
            palette::PURPLE,
        ),
    ];
    let shown: Vec<(&str, &str, Color32, Vec<f64>)> = sources
        .iter()
        .filter_map(|(key, name, color)| {
            let row = view
                .hist
                .iter()
                .rfind(|r| r.source == *key && (r.round == round || *key == "rm0_pi0"))?;
            Some((*key, *name, *color, row.shares.clone()))
        })
        .collect();
    let entries: Vec<(&str, Color32)> = shown.iter().map(|(_, n, c, _)| (*n, *c)).collect();
    plot_style::legend_ui(ui, &entries);
    plot_style::plot(
        "rlhf_hist",
        h,
        &format!("|Δr| / its largest (round {round})"),
        "share of pairs",
    )
    .include_y(0.0)
    .show(ui, |p| {
        // Each bin's bars side by side, one per source.
        let sources = shown.len().max(1) as f64;
        for (k, (_, name, color, shares)) in shown.iter().enumerate() {
            let n = shares.len().max(1) as f64;
            let width = 0.9 / (n * sources);
            let bars: Vec<Bar> = shares
                .iter()
                .enumerate()
                .map(|(i, &s)| {
                    let x = (i as f64 + 0.05) / n + (k as f64 + 0.5) * width;
                    Bar::new(x, s).width(width)
                })
                .collect();
            p.bar_chart(BarChart::new(*name, bars).color(*color));
        }
    });
}

/// The feature map: the first reward model's features of the original answers, SFT's and each
/// round's policy's, on the original answers' two main axes, with their hull.
pub fn map_ui(view: &RlhfView, ui: &mut egui::Ui, h: f32) {
    if view.features.is_empty() {
        return;
    }
    plot_style::chart_title_ui(
        ui,
        "Where the policy's answers land in the reward model's feature space",
        "The first reward model's features of answers, flattened to two dimensions (the main axes of the original chosen and rejected answers; grey outline: their convex hull, the region the reward model learned from). SFT's answers sit inside it; each round's policy (darker = later round) walks away from it — the reward model is judging answers unlike any it saw.",
        &["rlhf_map"],
        &|| {
            let mut out = String::from("source,arm,round,x,y\n");
            for p in &view.features {
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    p.source, p.arm, p.round, p.x, p.y
                ));
            }
            out
        },
    );
    let rounds = view.rounds.max(1);
    let mut legend: Vec<(String, Color32)> = vec![
        ("original chosen".into(), palette::CHOSEN),
        ("original rejected".into(), palette::REJECTED),
        ("SFT".into(), SFT),
    ];
    for r in 1..=rounds {
        legend.push((
            format!("round {r} (circles: metarm, squares: vanilla)"),
            palette::sequential(r - 1, rounds.max(2)),
        ));
    }
    plot_style::legend_owned_ui(ui, &legend);
    plot_style::plot("rlhf_map", h * 1.3, "first main axis", "second main axis").show(ui, |p| {
        if view.hull.len() >= 3 {
            p.polygon(
                Polygon::new("original data's hull", PlotPoints::from(view.hull.clone()))
                    .fill_color(Color32::from_rgba_premultiplied(120, 120, 120, 20))
                    .stroke(egui::Stroke::new(1.5, palette::GREY)),
            );
        }
        let points = |source: &str, arm: &str, round: usize| -> Vec<[f64; 2]> {
            view.features
                .iter()
                .filter(|f| f.source == source && f.arm == arm && f.round == round)
                .map(|f| [f.x, f.y])
                .collect()
        };
        for (source, name, color) in [
            ("chosen", "original chosen", palette::CHOSEN),
            ("rejected", "original rejected", palette::REJECTED),
            ("pi_0", "SFT", SFT),
        ] {
            p.points(
                Points::new(name, points(source, "", 0))
                    .color(color)
                    .radius(2.0),
            );
        }
        for r in 1..=rounds {
            let color = palette::sequential(r - 1, rounds.max(2));
            for arm in &view.arms {
                let shape = if arm == "metarm" {
                    egui_plot::MarkerShape::Circle
                } else {
                    egui_plot::MarkerShape::Square
                };
                p.points(
                    Points::new(format!("round {r} · {arm}"), points("pi_r", arm, r))
                        .color(color)
                        .shape(shape)
                        .radius(2.5),
                );
            }
        }
    });
}

/// The round rows as a table.
pub fn table_ui(view: &RlhfView, ui: &mut egui::Ui) {
    if view.rows.is_empty() {
        return;
    }
    plot_style::title_ui(
        ui,
        "Round by round",
        "gold, proxy: the round's policy by the world's true reward and by the round's reward model. KL: to SFT. The reward model's accuracy on the original held-out pairs and on pairs of the last policy's answers labelled by gold (shifted), J and mean |Δr| on that policy's answers. W/T/L: against SFT by gold. distinct-2 and self-BLEU-2: diversity (self-BLEU: lower = more diverse).",
    );
    egui::Grid::new("rlhf_rows").striped(true).show(ui, |ui| {
        for head in [
            "round",
            "arm",
            "gold",
            "proxy",
            "KL",
            "orig. acc",
            "shifted acc",
            "J",
            "|Δr|",
            "W/T/L",
            "distinct-2",
            "self-BLEU-2",
            "gold @ matched KL",
        ] {
            ui.strong(head);
        }
        ui.end_row();
        for r in &view.rows {
            ui.label(r.round.to_string());
            ui.colored_label(arm_color(&r.arm), &r.arm);
            ui.label(format!("{:.2}", r.gold));
            ui.label(format!("{:.2}", r.proxy));
            ui.label(format!("{:.2}", r.kl));
            ui.label(
                r.original_accuracy
                    .map_or("n/a".into(), |a| format!("{a:.3}")),
            );
            ui.label(format!("{:.3}", r.shifted_accuracy));
            ui.label(format!("{:.4}", r.j));
            ui.label(format!("{:.3}", r.mean_abs_dr));
            ui.label(format!(
                "{:.0}/{:.0}/{:.0}",
                r.win * 100.0,
                r.tie * 100.0,
                r.lose * 100.0
            ));
            ui.label(format!("{:.3}", r.distinct_2));
            ui.label(format!("{:.3}", r.self_bleu_2));
            ui.label(format!(
                "{:.2} (KL {:.2})",
                r.gold_at_matched_kl, r.matched_kl
            ));
            ui.end_row();
        }
    });
    if let Some(h) = &view.head_to_head {
        ui.label(format!(
            "last round, {} against {} by gold: win {:.0} %, tie {:.0} %, lose {:.0} %",
            h.policy,
            h.opponent,
            h.win * 100.0,
            h.tie * 100.0,
            h.lose * 100.0
        ));
    }
}
