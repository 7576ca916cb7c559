//! The PPO tab: a proxy reward model trained on the world's pairs, then a policy pushed against
//! it, with the world's gold reward measured beside it at every step — over-optimisation you can
//! watch (proxy vs gold vs √KL), the collapse detector's flags, the reward distribution drifting
//! away from the reference policy's, samples, and one response token by token.
use egui_plot::{Bar, BarChart, BoxElem, BoxPlot, BoxSpread, Line, PlotPoints, Points, VLine};

use super::export;
use super::plot_style::{self, palette};
use super::ppo_view::{PpoView, quartiles};
use super::{Panel, Shell, panel_common, settings};
use crate::experiment::ppo::PpoConfig;
use crate::experiment::ppo::config::RewardNorm;
use crate::experiment::ppo::config::{PolicyKind, PpoPreset};
use crate::experiment::{Artifacts, Event, ExperimentConfig};

const PROXY: egui::Color32 = palette::ORANGE;
const GOLD: egui::Color32 = palette::BLUE;
const KL: egui::Color32 = palette::GREEN;
const FLAG: egui::Color32 = egui::Color32::from_rgba_premultiplied(100, 40, 0, 90);
const EXTRA: egui::Color32 = palette::PURPLE;
const SKY: egui::Color32 = palette::SKY;

/// The PPO tab.
#[derive(Default)]
pub struct PpoPanel {
    /// Its knobs.
    pub config: PpoConfig,
    /// What its run has shown so far.
    pub view: PpoView,
    /// The preset last chosen (its paragraph shows under the buttons).
    pub preset: Option<PpoPreset>,
}

/// The preset buttons (from `assets/presets/ppo.json`): a preset sets its PPO switches and
/// keeps everything else; the chosen one's paragraph shows below them.
fn presets_ui(c: &mut PpoConfig, chosen: &mut Option<PpoPreset>, ui: &mut egui::Ui) {
    ui.strong("Preset");
    let presets = match PpoPreset::all() {
        Ok(p) => p,
        Err(e) => {
            ui.colored_label(super::plot_style::ERROR, e);
            return;
        }
    };
    ui.horizontal_wrapped(|ui| {
        for p in &presets {
            let on = chosen.as_ref().is_some_and(|c| c.name == p.name);
            if ui
                .selectable_label(on, &p.name)
                .on_hover_text(&p.about)
                .clicked()
            {
                match p.apply(c) {
                    Ok(next) => {
                        *c = next;
                        *chosen = Some(p.clone());
                    }
                    Err(e) => *chosen = Some(PpoPreset::error(e)),
                }
            }
        }
    });
    if let Some(p) = chosen {
        ui.label(egui::RichText::new(&p.about).small());
    }
}

const TEXT_TRACK: &str = "Text data has no known gold reward, so a larger reward model trained on \
every pair plays gold, and the proxy is a smaller one trained on a few hundred pairs whose labels gold \
re-draws. The policy is the transformer, first fitted to the chosen responses (SFT).";

fn settings(c: &mut PpoConfig, ui: &mut egui::Ui) {
    ui.strong("Run");
    ui.horizontal(|ui| {
        ui.label("policy:");
        ui.radio_value(&mut c.policy, PolicyKind::Factorised, "factorised")
            .on_hover_text("A table of word probabilities per prompt and position: exact KL, fast");
        ui.radio_value(&mut c.policy, PolicyKind::Transformer, "transformer")
            .on_hover_text("A small causal language model, first fitted to the reference (SFT)");
    });
    if c.policy == PolicyKind::Transformer {
        ui.add(
            settings::slider(&mut c.sft_steps, 10..=2000)
                .logarithmic(true)
                .text("SFT steps"),
        )
        .on_hover_text("Supervised steps that fit the policy to the chosen responses before PPO starts: the reference policy that KL is measured against");
        ui.add(
            settings::slider(&mut c.lm_lr, 1e-5..=1e-2)
                .logarithmic(true)
                .text("transformer learning rate"),
        )
        .on_hover_text("Step size of the transformer policy's optimizer, in SFT and in PPO");
    }
    ui.add(
        settings::slider(&mut c.steps, 10..=2000)
            .logarithmic(true)
            .text("steps"),
    )
    .on_hover_text("PPO iterations: each samples a batch of responses, scores them with the proxy reward model and updates the policy");
    ui.add(
        settings::slider(&mut c.rollouts, 16..=1024)
            .logarithmic(true)
            .text("responses / step"),
    )
    .on_hover_text("Responses sampled per PPO iteration (the rollout batch): more give steadier updates, each step costs more");
    if c.policy == PolicyKind::Factorised {
        ui.add(
            settings::slider(&mut c.lr, 1e-3..=1.0)
                .logarithmic(true)
                .text("learning rate"),
        )
        .on_hover_text("Step size of the factorised policy's updates");
    }
    ui.strong("PPO-max switches");
    ui.add(settings::slider(&mut c.kl_coef, 0.0..=2.0).text("KL penalty β"))
        .on_hover_text("Subtracts β × KL(policy, reference) from each reward: the leash that keeps the policy near its starting point, where the proxy reward model is still right");
    ui.horizontal(|ui| {
        ui.label("reward:")
            .on_hover_text("What the proxy's scores become before PPO uses them");
        ui.radio_value(&mut c.reward_norm, RewardNorm::None, "raw")
            .on_hover_text("The proxy's scores as they are");
        ui.radio_value(&mut c.reward_norm, RewardNorm::Scale, "scaled")
            .on_hover_text("Divided by their running standard deviation");
        ui.radio_value(&mut c.reward_norm, RewardNorm::Normalise, "normalised")
            .on_hover_text(
                "Running mean subtracted and divided by the running standard deviation (PPO-max)",
            );
    });
    ui.add(settings::slider(&mut c.reward_clip, 0.0..=5.0).text("reward clip δ (0 = off)"))
        .on_hover_text("Rewards cut to [−δ, δ] after normalising: one outlier score cannot dominate an update (PPO-max)");
    ui.add(settings::slider(&mut c.policy_clip, 0.0..=0.5).text("PPO clip ε (0 = off)"))
        .on_hover_text("The policy ratio is clipped to [1 − ε, 1 + ε]: no single update moves the policy far (0 = plain policy gradient)");
    ui.checkbox(&mut c.critic, "critic (GAE); off: REINFORCE")
        .on_hover_text("A value model estimates each token's expected reward, and advantages come from generalised advantage estimation; off, each response's reward minus a baseline");
    ui.add_enabled(
        c.critic,
        settings::slider(&mut c.value_clip, 0.0..=1.0).text("value clip (0 = off)"),
    )
    .on_hover_text("The critic's new values stay within this distance of its old ones per update");
    ui.checkbox(&mut c.advantage_norm, "whiten advantages")
        .on_hover_text(
            "Advantages shifted to mean 0 and scaled to standard deviation 1 in each batch",
        );
    ui.add(settings::slider(&mut c.grad_clip, 0.0..=5.0).text("gradient clip (0 = off)"))
        .on_hover_text("The gradient's norm is cut to this before each update");
    ui.add(settings::slider(&mut c.entropy_coef, 0.0..=0.1).text("entropy bonus"))
        .on_hover_text("Rewards the policy for keeping its choices spread out: a slower collapse onto a few responses");
    ui.add(settings::slider(&mut c.bon_trials, 0..=64).text("best-of-n trials (0 = off)"))
        .on_hover_text("Also measure best-of-n sampling (keep the best of n responses by the proxy) for comparison with PPO at the same KL");
}

fn flags(view: &PpoView, p: &mut egui_plot::PlotUi<'_>) {
    for &s in &view.collapse_steps {
        p.vline(VLine::new("collapse flag", s as f64).color(FLAG).width(1.0));
    }
}

fn reward_charts(view: &PpoView, ui: &mut egui::Ui, h: f32) {
    let by_step =
        |f: fn(&crate::experiment::ppo::PpoStep) -> f64| view.series(|s| s.step as f64, f);
    plot_style::chart_title_ui(
        ui,
        "Proxy and gold reward per PPO step",
        "The mean reward of each step's batch of responses: the proxy (the reward model the policy is trained against) and gold (the world's true reward). Over-optimisation is the proxy rising while gold stalls or falls. Orange lines: steps the collapse detector flagged.",
        &["ppo_rewards"],
        &|| {
            let (proxy, gold) = (by_step(|s| s.proxy), by_step(|s| s.gold));
            export::series_csv("step", "reward", &[("proxy", &proxy), ("gold", &gold)])
        },
    );
    plot_style::legend_ui(
        ui,
        &[
            ("proxy (what the policy optimises)", PROXY),
            ("gold (what we really want)", GOLD),
            ("collapse flag", FLAG),
        ],
    );
    plot_style::plot("ppo_rewards", h, "PPO step", "reward").show(ui, |p| {
        flags(view, p);
        p.line(
            Line::new(
                "proxy (what the policy optimises)",
                PlotPoints::from(view.series(|s| s.step as f64, |s| s.proxy)),
            )
            .color(PROXY)
            .width(2.0),
        );
        p.line(
            Line::new(
                "gold (what we really want)",
                PlotPoints::from(view.series(|s| s.step as f64, |s| s.gold)),
            )
            .color(GOLD)
            .width(2.0),
        );
    });
    let by_kl = |f: fn(&crate::experiment::ppo::PpoStep) -> f64| view.series(|s| s.sqrt_kl, f);
    plot_style::chart_title_ui(
        ui,
        "Proxy and gold against √KL",
        "The same rewards against √KL, how far the policy has moved from where it started (Gao et al. plot it this way). Big dots: best-of-n on the proxy from the reference policy (n = 1, 2, 4, …); small dots: flagged steps.",
        &["ppo_sqrt_kl"],
        &|| {
            let (proxy, gold) = (by_kl(|s| s.proxy), by_kl(|s| s.gold));
            let bon = |f: fn(&crate::experiment::ppo::bon::BonPoint) -> f64| -> Vec<[f64; 2]> {
                view.best_of_n.iter().map(|b| [b.sqrt_kl, f(b)]).collect()
            };
            let (bp, bg) = (bon(|b| b.proxy), bon(|b| b.gold));
            export::series_csv(
                "sqrt_kl",
                "reward",
                &[
                    ("PPO proxy", &proxy),
                    ("PPO gold", &gold),
                    ("best-of-n proxy", &bp),
                    ("best-of-n gold", &bg),
                ],
            )
        },
    );
    plot_style::legend_ui(
        ui,
        &[
            ("PPO proxy", PROXY),
            ("PPO gold", GOLD),
            ("best-of-n: big dots", palette::GREY),
            ("collapse flag (on gold)", FLAG),
        ],
    );
    plot_style::plot("ppo_sqrt_kl", h, "√KL, policy vs reference", "reward").show(ui, |p| {
        p.line(
            Line::new(
                "PPO proxy",
                PlotPoints::from(view.series(|s| s.sqrt_kl, |s| s.proxy)),
            )
            .color(PROXY)
            .width(2.0),
        );
        p.line(
            Line::new(
                "PPO gold",
                PlotPoints::from(view.series(|s| s.sqrt_kl, |s| s.gold)),
            )
            .color(GOLD)
            .width(2.0),
        );
        let flagged: Vec<[f64; 2]> = view
            .curves
            .iter()
            .filter(|s| s.collapse)
            .map(|s| [s.sqrt_kl, s.gold])
            .collect();
        if !flagged.is_empty() {
            p.points(
                Points::new("collapse flag (on gold)", flagged)
                    .color(FLAG)
                    .radius(3.0),
            );
        }
        if !view.best_of_n.is_empty() {
            let pts = |f: fn(&crate::experiment::ppo::bon::BonPoint) -> f64| -> Vec<[f64; 2]> {
                view.best_of_n.iter().map(|b| [b.sqrt_kl, f(b)]).collect()
            };
            p.points(
                Points::new("best-of-n proxy", pts(|b| b.proxy))
                    .color(PROXY)
                    .radius(4.0),
            );
            p.points(
                Points::new("best-of-n gold", pts(|b| b.gold))
                    .color(GOLD)
                    .radius(4.0),
            );
        }
    });
}

fn drift_charts(view: &PpoView, exact: bool, ui: &mut egui::Ui, h: f32) {
    let by_step =
        |f: fn(&crate::experiment::ppo::PpoStep) -> f64| view.series(|s| s.step as f64, f);
    plot_style::chart_title_ui(
        ui,
        "KL to the reference policy",
        if exact {
            "How far the policy has moved from the reference, in nats per response: exact (this policy allows it) and estimated from the sampled responses."
        } else {
            "How far the policy has moved from the reference, in nats per response, estimated from the sampled responses (a language model has no exact KL)."
        },
        &["ppo_kl"],
        &|| {
            let (kl, sampled) = (by_step(|s| s.kl), by_step(|s| s.kl_sampled));
            export::series_csv("step", "kl", &[("KL exact", &kl), ("KL sampled", &sampled)])
        },
    );
    plot_style::legend_ui(ui, &[("KL exact", KL), ("KL sampled", SKY)]);
    plot_style::plot("ppo_kl", h, "PPO step", "KL (nats per response)").show(ui, |p| {
        flags(view, p);
        if exact {
            p.line(
                Line::new(
                    "KL exact",
                    PlotPoints::from(view.series(|s| s.step as f64, |s| s.kl)),
                )
                .color(KL)
                .width(2.0),
            );
        }
        p.line(
            Line::new(
                "KL sampled",
                PlotPoints::from(view.series(|s| s.step as f64, |s| s.kl_sampled)),
            )
            .color(SKY)
            .width(1.0),
        );
    });
    plot_style::chart_title_ui(
        ui,
        "What collapse looks like",
        "When the policy collapses onto what the proxy likes, its responses get longer (or stuck at the length limit), the entropy of its token choices falls and fewer distinct word pairs (distinct-2) appear.",
        &["ppo_length", "ppo_entropy"],
        &|| {
            let (length, entropy, distinct) = (
                by_step(|s| s.length),
                by_step(|s| s.entropy),
                by_step(|s| s.distinct_2),
            );
            export::series_csv(
                "step",
                "value",
                &[
                    ("mean length", &length),
                    ("entropy per token", &entropy),
                    ("distinct-2", &distinct),
                ],
            )
        },
    );
    ui.columns(2, |cols| {
        plot_style::legend_ui(&mut cols[0], &[("mean length", EXTRA)]);
        plot_style::plot("ppo_length", h * 0.8, "PPO step", "words").show(&mut cols[0], |p| {
            flags(view, p);
            p.line(
                Line::new(
                    "mean length",
                    PlotPoints::from(view.series(|s| s.step as f64, |s| s.length)),
                )
                .color(EXTRA)
                .width(2.0),
            );
        });
        plot_style::legend_ui(
            &mut cols[1],
            &[("entropy per token", KL), ("distinct-2", SKY)],
        );
        plot_style::plot("ppo_entropy", h * 0.8, "PPO step", "nats / share")
            .include_y(0.0)
            .show(&mut cols[1], |p| {
                flags(view, p);
                p.line(
                    Line::new(
                        "entropy per token",
                        PlotPoints::from(view.series(|s| s.step as f64, |s| s.entropy)),
                    )
                    .color(KL)
                    .width(2.0),
                );
                p.line(
                    Line::new(
                        "distinct-2",
                        PlotPoints::from(view.series(|s| s.step as f64, |s| s.distinct_2)),
                    )
                    .color(SKY)
                    .width(2.0),
                );
            });
    });
    plot_style::chart_title_ui(
        ui,
        "Distribution shift: rewards at checkpoints",
        "The batch's rewards at checkpoints (the first is the reference policy): boxes are quartiles, whiskers min and max. Watch the proxy's box climb away from gold's as the policy drifts from the data the reward model saw.",
        &["ppo_shift"],
        &|| {
            let mut out = String::from("step,reward,min,q1,median,q3,max\n");
            for c in &view.checkpoints {
                for (name, xs) in [("gold", &c.gold), ("proxy", &c.proxy)] {
                    if let Some(q) = quartiles(xs) {
                        out.push_str(&format!(
                            "{},{name},{},{},{},{},{}\n",
                            c.step, q[0], q[1], q[2], q[3], q[4]
                        ));
                    }
                }
            }
            out
        },
    );
    let boxes = |gold: bool| -> Vec<BoxElem> {
        view.checkpoints
            .iter()
            .filter_map(|c| {
                let q = quartiles(if gold { &c.gold } else { &c.proxy })?;
                let x = c.step as f64
                    + if gold {
                        0.0
                    } else {
                        (view.steps.max(10) as f64) * 0.02
                    };
                Some(
                    BoxElem::new(x, BoxSpread::new(q[0], q[1], q[2], q[3], q[4]))
                        .box_width((view.steps.max(10) as f64) * 0.018)
                        .name(format!("step {}", c.step)),
                )
            })
            .collect()
    };
    plot_style::legend_ui(ui, &[("gold", GOLD), ("proxy", PROXY)]);
    plot_style::plot("ppo_shift", h, "PPO step", "reward").show(ui, |p| {
        p.box_plot(BoxPlot::new("gold", boxes(true)).color(GOLD));
        p.box_plot(BoxPlot::new("proxy", boxes(false)).color(PROXY));
    });
}

fn samples_ui(view: &PpoView, ui: &mut egui::Ui, h: f32) {
    ui.label("Responses of the latest step, with what each reward says");
    egui::Grid::new("ppo_samples").striped(true).show(ui, |ui| {
        ui.strong("prompt");
        ui.strong("response");
        ui.strong("proxy");
        ui.strong("gold");
        ui.end_row();
        for s in &view.samples {
            ui.label(&s.prompt);
            ui.label(&s.response);
            ui.label(format!("{:.2}", s.proxy));
            ui.label(format!("{:.2}", s.gold));
            ui.end_row();
        }
    });
    if view.tokens.is_empty() {
        return;
    }
    plot_style::chart_title_ui(
        ui,
        "The first response, token by token",
        "Every token pays the KL penalty; the reward model's score arrives on the last token only, and the advantage carries it back to the earlier tokens.",
        &["ppo_tokens"],
        &|| {
            let mut out = String::from("position,token,kl_penalty,reward,advantage\n");
            for (i, t) in view.tokens.iter().enumerate() {
                out.push_str(&format!(
                    "{i},\"{}\",{},{},{}\n",
                    t.token.replace('"', "\"\""),
                    t.kl_penalty,
                    t.reward,
                    t.advantage
                ));
            }
            out
        },
    );
    let names: Vec<String> = view.tokens.iter().map(|t| t.token.clone()).collect();
    let bars = |f: fn(&crate::experiment::ppo::event::TokenView) -> f32, offset: f64| -> Vec<Bar> {
        view.tokens
            .iter()
            .enumerate()
            .map(|(i, t)| Bar::new(i as f64 + offset, f64::from(f(t))).width(0.25))
            .collect()
    };
    plot_style::legend_ui(
        ui,
        &[("KL penalty", KL), ("reward", PROXY), ("advantage", GOLD)],
    );
    plot_style::plot("ppo_tokens", h, "token", "value")
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            p.bar_chart(BarChart::new("KL penalty", bars(|t| t.kl_penalty, -0.27)).color(KL));
            p.bar_chart(BarChart::new("reward", bars(|t| t.reward, 0.0)).color(PROXY));
            p.bar_chart(BarChart::new("advantage", bars(|t| t.advantage, 0.27)).color(GOLD));
        });
}

fn status(view: &PpoView) -> String {
    match (&view.report, view.curves.last()) {
        (Some(r), _) => format!(
            "gold {:.2}, peak {:.2} (step {}), final {:.2} · proxy {:.2} to {:.2} · KL {:.2}",
            r.gold_initial,
            r.gold_peak,
            r.gold_peak_step,
            r.gold_final,
            r.proxy_initial,
            r.proxy_final,
            r.kl_final
        ),
        (None, Some(s)) => format!(
            "step {}/{} · proxy {:.2} · gold {:.2} · KL {:.2}",
            s.step + 1,
            view.steps,
            s.proxy,
            s.gold,
            s.kl
        ),
        (None, None) if !view.sft.is_empty() => format!(
            "SFT of the transformer policy: step {}/{} · loss {:.3}",
            view.sft.len(),
            view.sft_steps,
            view.sft.last().map_or(f64::NAN, |p| p[1])
        ),
        (None, None) if view.progress.jobs > 0 => format!(
            "training the proxy reward model: step {}/{}",
            view.progress.step, view.progress.steps
        ),
        _ => String::new(),
    }
}

impl Panel for PpoPanel {
    fn name(&self) -> &'static str {
        "ppo"
    }

    fn title(&self) -> &'static str {
        "PPO & over-optimisation"
    }

    fn job_stride(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "a stage",
            "the rest of the stage in progress: training the gold or proxy reward model, warming up the policy, or PPO",
        ))
    }

    fn experiment(&self) -> ExperimentConfig {
        ExperimentConfig::Ppo(self.config.clone())
    }

    fn load(&mut self, experiment: &ExperimentConfig) -> bool {
        match experiment {
            ExperimentConfig::Ppo(c) => {
                self.config = c.clone();
                true
            }
            _ => false,
        }
    }

    fn settings_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui) {
        presets_ui(&mut self.config, &mut self.preset, ui);
        if !matches!(
            shell.run.data.source,
            crate::experiment::DataSource::Synthetic(_)
        ) {
            ui.label(TEXT_TRACK);
            if ui
                .button("use the text track's settings")
                .on_hover_text(
                    "transformer policy, a bag-of-words proxy, prompts and responses of 24 tokens",
                )
                .clicked()
            {
                self.config = self.config.clone().for_text();
            }
        }
        settings(&mut self.config, ui);
    }

    fn central_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui) {
        ui.heading("PPO against a proxy reward model: over-optimisation you can watch");
        let mine = shell.runs(self.name());
        panel_common::banners_ui(shell, ui, mine);
        panel_common::controls_ui(shell, ui, mine, self.view.fraction(), &status(&self.view));
        if let Some(m) = &shell.handoff.reward_model {
            let forget = ui
                .horizontal(|ui| {
                    ui.label(format!(
                        "proxy: the reward model handed over from the Reward model tab ({} bytes); no proxy is trained",
                        m.len()
                    ));
                    ui.button("Train a new proxy instead").clicked()
                })
                .inner;
            if forget {
                shell.handoff.reward_model = None;
            }
        }
        if let Some(a) = self.view.proxy_accuracy {
            ui.label(format!(
                "proxy reward model: held-out accuracy {a:.3} against gold"
            ));
        }
        ui.separator();
        let h = ((ui.available_height() - 140.0) / 2.0).clamp(110.0, 220.0);
        if self.view.curves.is_empty() {
            plot_style::placeholder_ui(
                ui,
                h,
                "Proxy and gold reward per PPO step will appear here, then against √KL, the drift and the samples: press Train. First the proxy reward model trains on the world's pairs, then PPO starts.",
            );
            return;
        }
        let view = &self.view;
        let exact = self.config.policy == PolicyKind::Factorised;
        egui::ScrollArea::vertical().show(ui, |ui| {
            reward_charts(view, ui, h);
            drift_charts(view, exact, ui, h);
            samples_ui(view, ui, h);
        });
    }

    fn clear(&mut self) {
        self.view = PpoView::default();
    }

    /// The reward model the Reward model tab handed over, when it did.
    fn artifacts(&self, shell: &Shell) -> Artifacts {
        Artifacts {
            reward_model: shell.handoff.reward_model.clone(),
            ..Default::default()
        }
    }

    fn apply(&mut self, event: &Event) {
        self.view.apply(event);
    }
}
