//! The Iterative RLHF tab: rounds of (sample the last policy → reward model → PPO-max), a MetaRM
//! arm beside a vanilla one, with the distribution shift drawn — gold per step and per round,
//! win/tie/lose against SFT, the first reward model's reward gaps narrowing or widening, |Δr|
//! histograms, and the map of where the policy's answers land.
use super::rlhf_charts as charts;
use super::rlhf_view::RlhfView;
use super::{Panel, Shell, panel_common, plot_style, settings};
use crate::experiment::Event;
use crate::experiment::ExperimentConfig;
use crate::experiment::ppo::config::PolicyKind;
use crate::experiment::rlhf::RlhfConfig;
use crate::experiment::rlhf::config::{Arm, KlReference, PolicyInit, RmInit};

/// The Iterative RLHF tab.
#[derive(Default)]
pub struct RlhfPanel {
    /// Its knobs.
    pub config: RlhfConfig,
    /// What its run has shown so far.
    pub view: RlhfView,
}

fn arm_box(c: &mut RlhfConfig, arm: Arm, text: &str, hint: &str, ui: &mut egui::Ui) {
    let mut on = c.has(arm);
    if ui.checkbox(&mut on, text).on_hover_text(hint).changed() {
        if on {
            c.arms.push(arm);
            c.arms.sort_unstable();
        } else if c.arms.len() > 1 {
            c.arms.retain(|&a| a != arm);
        }
    }
}

fn settings(c: &mut RlhfConfig, ui: &mut egui::Ui) {
    ui.strong("Rounds");
    ui.add(settings::slider(&mut c.rounds, 1..=6).text("rounds"))
        .on_hover_text("Each round samples the last policy, trains that round's reward model and runs PPO against it (the paper ran 4–5; its best was round 3 or 4)");
    ui.add(
        settings::slider(&mut c.ppo.steps, 10..=500)
            .logarithmic(true)
            .text("PPO steps per round"),
    )
    .on_hover_text("PPO iterations each round, the same for both arms");
    ui.horizontal(|ui| {
        arm_box(c, Arm::Metarm, "metarm arm", "Every round a new reward model: the original pairs plus MetaRM's meta step on the last policy's answers", ui);
        arm_box(c, Arm::Vanilla, "vanilla arm", "The first reward model kept for every round: plain PPO, the paper's 'vanilla PPO'", ui);
    });
    settings::meta_ui(&mut c.ppo.proxy, ui, None);
    ui.add(
        settings::slider(&mut c.sampling.groups, 10..=2000)
            .logarithmic(true)
            .text("groups/round"),
    )
    .on_hover_text("Prompts the last policy answers k times each, for the meta set of a round");
    settings::arch_ui(&mut c.ppo.proxy.model, ui, "rlhf_arch");
    ui.strong("Choices the paper leaves open");
    ui.horizontal(|ui| {
        ui.label("RM starts:");
        ui.radio_value(&mut c.rm_init, RmInit::Fresh, "fresh")
            .on_hover_text("Each round's reward model starts from the same seed as the first: rounds differ only by their meta sets");
        ui.radio_value(&mut c.rm_init, RmInit::Continue, "from the last")
            .on_hover_text("Each round's reward model continues from the last round's, trained again on the pairs");
    });
    ui.horizontal(|ui| {
        ui.label("policy starts:");
        ui.radio_value(&mut c.policy_init, PolicyInit::Continue, "where it was")
            .on_hover_text("Each round continues from the last round's policy (rounds add up)");
        ui.radio_value(&mut c.policy_init, PolicyInit::Restart, "from SFT")
            .on_hover_text(
                "Each round starts again from SFT: what that round's reward model alone reaches",
            );
    });
    ui.horizontal(|ui| {
        ui.label("KL measured to:");
        ui.radio_value(&mut c.kl_reference, KlReference::Sft, "SFT")
            .on_hover_text("The KL penalty always measures the distance from SFT: one axis for all rounds and both arms");
        ui.radio_value(&mut c.kl_reference, KlReference::Previous, "the last policy")
            .on_hover_text("Each round's leash starts where the policy stands");
    });
    ui.strong("PPO");
    ui.horizontal(|ui| {
        ui.label("policy:");
        ui.radio_value(&mut c.ppo.policy, PolicyKind::Factorised, "factorised")
            .on_hover_text("A table of word probabilities per prompt and position: exact KL, fast");
        ui.radio_value(&mut c.ppo.policy, PolicyKind::Transformer, "transformer")
            .on_hover_text("A small causal language model, first fitted to the reference (SFT)");
    });
    ui.add(settings::slider(&mut c.ppo.kl_coef, 0.0..=2.0).text("KL penalty β"))
        .on_hover_text("Subtracts β × KL(policy, reference) from each reward (PPO-max: 0.05)");
    ui.add(settings::slider(&mut c.eval.tie_band, 0.0..=1.0).text("judge's tie band"))
        .on_hover_text("The judge calls two answers a tie when their gold rewards differ by less than this many standard deviations of SFT's gold");
}

impl Panel for RlhfPanel {
    fn name(&self) -> &'static str {
        "rlhf"
    }

    fn title(&self) -> &'static str {
        "Iterative RLHF & MetaRM"
    }

    fn job_stride(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "a stage",
            "the rest of the stage in progress: the first reward model and SFT, then each round's reward model or PPO for one arm",
        ))
    }

    fn epoch_stride(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "a round",
            "to the end of the round in progress: every arm's reward model, PPO and judging (before the rounds: the epoch of the first reward model in training)",
        ))
    }

    fn experiment(&self) -> ExperimentConfig {
        ExperimentConfig::Rlhf(self.config.clone())
    }

    fn load(&mut self, experiment: &ExperimentConfig) -> bool {
        match experiment {
            ExperimentConfig::Rlhf(c) => {
                self.config = c.clone();
                true
            }
            _ => false,
        }
    }

    fn settings_ui(&mut self, _shell: &mut Shell, ui: &mut egui::Ui) {
        settings(&mut self.config, ui);
    }

    fn central_ui(&mut self, shell: &mut Shell, ui: &mut egui::Ui) {
        ui.heading("Iterative RLHF: a reward model kept sharp as the policy drifts");
        let mine = shell.runs(self.name());
        panel_common::banners_ui(shell, ui, mine);
        panel_common::controls_ui(shell, ui, mine, self.view.fraction(), &self.view.status());
        if let Some((rm0, sft, band)) = self.view.start {
            ui.label(format!(
                "first reward model: held-out accuracy {}; SFT's gold {sft:.2}; the judge calls a tie within ±{band:.2} gold",
                rm0.map_or("n/a".into(), |a| format!("{a:.3}"))
            ));
        }
        ui.separator();
        let h = ((ui.available_height() - 160.0) / 2.0).clamp(110.0, 220.0);
        if self.view.curves.is_empty() {
            plot_style::placeholder_ui(
                ui,
                h,
                "Gold over PPO steps for both arms will appear here, then each round's win/tie/lose against SFT, the reward gaps of the first reward model, the |Δr| histograms and the map of where the policy's answers land: press Train. First the first reward model trains on the world's pairs (and a transformer policy is fitted to the reference), then the rounds start.",
            );
            return;
        }
        let view = &self.view;
        egui::ScrollArea::vertical().show(ui, |ui| {
            charts::gold_ui(view, ui, h);
            charts::round_rewards_ui(view, ui, h * 0.8);
            charts::rounds_ui(view, ui, h);
            charts::metarm_ui(view, ui, h * 0.8);
            charts::spread_ui(view, ui, h);
            charts::hist_ui(view, ui, h);
            charts::map_ui(view, ui, h);
            charts::table_ui(view, ui);
        });
    }

    fn clear(&mut self) {
        self.view = RlhfView::default();
    }

    fn apply(&mut self, event: &Event) {
        self.view.apply(event);
    }
}
