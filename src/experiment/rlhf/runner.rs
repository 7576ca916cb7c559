//! Iterative RLHF, step-wise: the runners of the other kinds chained round after round. First a
//! PPO run trains the first reward model (RM_0; on text after the gold model) and warms the policy
//! up (SFT): the start of every arm, which forks from it. Then, each round r and each arm:
//! sample π_{r−1} (meta groups, held-out groups, gold-labelled pairs) → the round's reward model
//! (MetaRM arm: a reward-model run on the original pairs with the meta step on those groups;
//! vanilla arm: RM_0 kept) → PPO-max against it (critic and reward normalisation from it) → π_r,
//! judged against SFT by gold. The arms run in turn within a round and share every seed.
//! Arms persist across stages, so this runner keeps them and steps their runners itself rather
//! than handing artifacts down a [`crate::experiment::pipeline::Pipeline`].
use std::sync::Arc;

use web_time::Instant;

use super::config::{Arm, KlReference, PolicyInit, RlhfConfig, RmInit};
use super::eval::{gold_at_kl, spread, win_tie_lose};
use super::event::RlhfEvent;
use super::report::{
    CurvePoint, FeaturePoint, HeadToHead, HistRow, RlhfReport, RoundRow, SpreadRow,
};
use crate::compute::Compute;
use crate::data::rng::Rng;
use crate::experiment::KindEvent;
use crate::experiment::config::Run;
use crate::experiment::error::ExperimentError;
use crate::experiment::events::Event;
use crate::experiment::metarm::MetaSampling;
use crate::experiment::metarm::measure::{ShiftMeasures, measure, unit_histogram};
use crate::experiment::metarm::sample::{PolicySamples, draw, draw_groups, meta_set};
use crate::experiment::pca::{Projection, convex_hull};
use crate::experiment::ppo::proxy::Proxy;
use crate::experiment::ppo::{PpoConfig, PpoEvent, PpoRunner};
use crate::experiment::prepare::Upload;
use crate::experiment::rm::{RmEvent, RmRunner, TrainPlan};
use crate::experiment::runner::{Progress, Runner, Span, StepFuture, Stride, report_value};
use crate::rl::metrics::{distinct_2, mean_std, self_bleu_2};

/// Bins of the |Δr| histograms.
const HIST_BINS: usize = 20;

/// Where the run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// RM_0 (and the gold model on text) trains, then SFT.
    Base,
    /// The arms fork; SFT is sampled for the judge and the shift views.
    Start,
    /// Sample π_{r−1} of an arm and set up its round's reward model.
    Sample { round: usize, arm: usize },
    /// The MetaRM arm's reward model trains.
    Rm { round: usize, arm: usize },
    /// Measure the round's reward model and set PPO up.
    PpoSetup { round: usize, arm: usize },
    /// PPO iterations of the arm.
    Ppo { round: usize, arm: usize },
    /// Judge π_r.
    Eval { round: usize, arm: usize },
    /// The head-to-head, the feature map and the histograms.
    Finish,
    /// Done.
    Done,
}

/// A round's files, kept when asked ([`RlhfRunner::keep_models`]).
pub struct RoundFiles {
    /// 1-based round.
    pub round: usize,
    /// The arm.
    pub arm: Arm,
    /// The reward model PPO optimised this round (a model file).
    pub reward_model: Arc<Vec<u8>>,
    /// The policy and critic after the round (as `ppo --out` writes them).
    pub policy: Vec<(&'static str, Vec<u8>)>,
}

/// One arm.
struct ArmState {
    arm: Arm,
    ppo: PpoRunner,
    /// The reward model PPO optimises this round.
    rm: Proxy,
    /// Its held-out accuracy on the original pairs.
    rm_accuracy: Option<f32>,
    /// This round's MetaRM reward-model run (MetaRM arm).
    rm_run: Option<RmRunner>,
    /// What π_{r−1} gave this round.
    samples: PolicySamples,
    /// The round's reward model on those samples.
    measures: ShiftMeasures,
    /// Its last judged responses to the judge's prompts, and their gold.
    judged: Vec<f32>,
    /// PPO iterations at the round's start.
    round_start: usize,
}

/// An iterative RLHF run.
pub struct RlhfRunner {
    run: Run<RlhfConfig>,
    compute: Compute,
    base: PpoRunner,
    arms: Vec<ArmState>,
    stage: Stage,
    rng: Rng,
    report: RlhfReport,
    /// The judge's prompts (fixed for the whole run) and SFT's gold on them.
    judge_prompts: Vec<usize>,
    sft_gold: Vec<f32>,
    tie_band: f64,
    /// Raw |Δr| rows: (round, source, values), normalised at the end.
    abs_dr: Vec<(usize, String, Vec<f32>)>,
    /// RM_0 features of each source: (source, arm, round, rows).
    features: Vec<(String, String, usize, Vec<Vec<f32>>)>,
    keep_models: bool,
    files: Vec<RoundFiles>,
    started: bool,
    seconds: f64,
    round_seconds: f64,
    /// RM and PPO steps taken by the arms.
    arm_steps: usize,
}

/// |x| of each value.
fn abs_of(values: &[f32]) -> Vec<f32> {
    values.iter().map(|x| x.abs()).collect()
}

impl RlhfRunner {
    /// Set up the run: the PPO run that trains RM_0 and warms the policy up.
    pub fn setup(
        run: Run<RlhfConfig>,
        compute: Compute,
        upload: Option<&Upload>,
    ) -> Result<Self, ExperimentError> {
        run.validate().map_err(ExperimentError::Config)?;
        let c = &run.experiment;
        if c.policy_init == PolicyInit::Restart && c.kl_reference == KlReference::Previous {
            return Err(ExperimentError::Config(
                "policy_init = restart with kl_reference = previous: a restarted policy would start at the last round's reference, not SFT; use kl_reference = sft".into(),
            ));
        }
        // Rounds draw no best-of-n curve (it samples the world's reference, not a round's policy).
        let ppo = PpoConfig {
            bon_trials: 0,
            ..c.ppo.clone()
        };
        let base = PpoRunner::setup(run.with(ppo), compute.clone(), upload, None)?;
        Ok(Self {
            rng: Rng::derived(run.seed, "rlhf"),
            report: RlhfReport {
                config: run.clone(),
                ..Default::default()
            },
            run,
            compute,
            base,
            arms: Vec::new(),
            stage: Stage::Base,
            judge_prompts: Vec::new(),
            sft_gold: Vec::new(),
            tie_band: 0.0,
            abs_dr: Vec::new(),
            features: Vec::new(),
            keep_models: false,
            files: Vec::new(),
            started: false,
            seconds: 0.0,
            round_seconds: 0.0,
            arm_steps: 0,
        })
    }

    /// Keep each round's reward model and policy as files ([`Self::round_files`]; the CLI
    /// saves them).
    pub fn keep_models(&mut self, keep: bool) {
        self.keep_models = keep;
    }

    /// The rounds' files kept so far.
    pub fn round_files(&self) -> &[RoundFiles] {
        &self.files
    }

    /// The report so far (complete once finished).
    pub fn report(&self) -> &RlhfReport {
        &self.report
    }

    fn c(&self) -> &RlhfConfig {
        &self.run.experiment
    }

    /// The next stage after `stage` of arm `arm` in `round`.
    fn next_arm_stage(&self, round: usize, arm: usize) -> Stage {
        if arm + 1 < self.arms.len() {
            Stage::Sample {
                round,
                arm: arm + 1,
            }
        } else if round < self.c().rounds {
            Stage::Sample {
                round: round + 1,
                arm: 0,
            }
        } else {
            Stage::Finish
        }
    }

    /// The start's events as they are (its reward models' under their stage's phase), without
    /// its own lifecycle.
    fn passed_on(events: Vec<Event>) -> Vec<Event> {
        events
            .into_iter()
            .filter(|e| !matches!(e, Event::Started { .. } | Event::Finished { .. }))
            .collect()
    }

    /// Fork the arms and sample SFT for the judge and the shift views.
    async fn start(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let c = self.c().clone();
        let rm0 = self
            .base
            .proxy()
            .cloned()
            .ok_or_else(|| ExperimentError::Config("RM_0 is not trained yet".into()))?;
        let rm0_accuracy = self.base.proxy_accuracy();
        for &arm in &c.arms {
            self.arms.push(ArmState {
                arm,
                ppo: self.base.fork()?,
                rm: rm0.clone(),
                rm_accuracy: rm0_accuracy,
                rm_run: None,
                samples: PolicySamples::default(),
                measures: ShiftMeasures::default(),
                judged: Vec::new(),
                round_start: 0,
            });
        }
        // The judge: fixed prompts, SFT's responses to them and their gold.
        let prompts = self.base.all_prompts();
        self.judge_prompts = (0..c.eval.draws)
            .map(|_| prompts[self.rng.below(prompts.len())])
            .collect();
        let sft = self
            .base
            .sample_words(&self.judge_prompts, &mut self.rng)
            .await?;
        let items: Vec<(usize, Vec<usize>)> = self.judge_prompts.iter().copied().zip(sft).collect();
        self.sft_gold = self.base.env().gold(&items).await?;
        let gold: Vec<f64> = self.sft_gold.iter().map(|&g| f64::from(g)).collect();
        let (mean, sd) = mean_std(&gold);
        self.tie_band = c.eval.tie_band * sd;
        self.report.rm0_accuracy = rm0_accuracy;
        self.report.sft_gold = mean;
        self.report.tie_band_gold = self.tie_band;
        let take = c.eval.feature_points.min(items.len());
        let pi0 = rm0.features(&items[..take]).await?;
        self.features.push(("pi_0".into(), String::new(), 0, pi0));
        if let Some(run) = self.base.proxy_runner() {
            let held: Vec<usize> = run
                .plan()
                .validation
                .iter()
                .copied()
                .take(c.eval.feature_points)
                .collect();
            let (chosen, rejected) = run.pair_features(&held).await?;
            self.features
                .push(("chosen".into(), String::new(), 0, chosen));
            self.features
                .push(("rejected".into(), String::new(), 0, rejected));
        }
        let mut events = vec![
            RlhfEvent::Start {
                rm0_accuracy,
                sft_gold: mean,
                tie_band_gold: self.tie_band,
            }
            .into(),
        ];
        // The shift at the start: RM_0 on SFT's pairs (shared by every arm).
        let (row, _) = self.spread_of(None, 0).await?;
        self.abs_dr.push((0, "rm0_pi0".into(), abs_of(&row.values)));
        events.push(RlhfEvent::Spread(row).into());
        Ok(events)
    }

    /// RM_0's Δr over fresh pairs of `arm`'s policy (SFT's when `None`); the row and the pairs'
    /// responses (two per draw, in order).
    async fn spread_of(
        &mut self,
        arm: Option<usize>,
        round: usize,
    ) -> Result<(SpreadRow, Vec<(usize, Vec<usize>)>), ExperimentError> {
        let pairs = self.c().eval.spread_pairs;
        let prompts = self.base.all_prompts();
        let (runner, name, step) = match arm {
            Some(a) => (
                &self.arms[a].ppo,
                self.arms[a].arm.name().to_string(),
                self.arms[a].ppo.steps_done(),
            ),
            None => (&self.base, String::new(), 0),
        };
        let twos = draw_groups(runner, &prompts, pairs, 2, &mut self.rng).await?;
        let items: Vec<(usize, Vec<usize>)> = twos
            .iter()
            .flat_map(|g| g.responses.iter().map(move |r| (g.prompt, r.clone())))
            .collect();
        let rm0 = self
            .base
            .proxy()
            .ok_or_else(|| ExperimentError::Config("RM_0 is not trained yet".into()))?;
        let scores = rm0.score(&items).await?;
        let dr: Vec<f32> = scores.chunks(2).map(|c| c[0] - c[1]).collect();
        let (variance, quantiles) = spread(&dr);
        let row = SpreadRow {
            arm: name,
            round,
            step,
            variance,
            quantiles,
            values: dr.clone(),
        };
        self.report.spread.push(row.clone());
        Ok((row, items))
    }

    /// Sample π_{r−1} of arm `a` and set its round's reward model up.
    async fn sample(&mut self, round: usize, a: usize) -> Result<Vec<Event>, ExperimentError> {
        let c = self.c().clone();
        let prompts = self.base.all_prompts();
        let arm = self.arms[a].arm;
        // The vanilla arm trains nothing on the meta groups: it draws only what it is measured on.
        let sampling = MetaSampling {
            groups: if arm == Arm::Metarm {
                c.sampling.groups
            } else {
                0
            },
            ..c.sampling.clone()
        };
        let samples = draw(
            &self.arms[a].ppo,
            &prompts,
            &sampling,
            c.ppo.proxy.k,
            &mut self.rng,
        )
        .await?;
        self.arms[a].samples = samples;
        self.arms[a].round_start = self.arms[a].ppo.steps_done();
        if arm == Arm::Metarm {
            let rm0 = self
                .base
                .proxy()
                .ok_or_else(|| ExperimentError::Config("RM_0 is not trained yet".into()))?;
            let set = meta_set(&self.arms[a].samples.train, c.ppo.proxy.k, rm0)?;
            let vanilla = self
                .base
                .proxy_runner()
                .ok_or_else(|| ExperimentError::Config("RM_0's training run is missing".into()))?;
            let plan = TrainPlan {
                meta: Some(Arc::new(set)),
                measure_features: false,
                ..vanilla.plan().clone()
            };
            let mut rm = RmRunner::with_plan(
                vanilla.config().clone(),
                self.compute.clone(),
                vanilla.shared_data(),
                plan,
            )?;
            if c.rm_init == RmInit::Continue
                && round > 1
                && let Some(last) = &self.arms[a].rm_run
            {
                rm.start_from(last.model())?;
            }
            self.arms[a].rm_run = Some(rm);
        }
        Ok(vec![
            RlhfEvent::Stage {
                round,
                arm: arm.name().into(),
                what: if arm == Arm::Metarm {
                    "training this round's MetaRM reward model".into()
                } else {
                    "keeping the first reward model".into()
                },
            }
            .into(),
        ])
    }

    /// One step of the MetaRM arm's reward model.
    async fn rm_step(
        &mut self,
        round: usize,
        a: usize,
    ) -> Result<(Vec<Event>, bool), ExperimentError> {
        let Some(rm) = &mut self.arms[a].rm_run else {
            return Ok((Vec::new(), true));
        };
        let mut events = Vec::new();
        for e in rm.step().await? {
            if let Event::Kind(KindEvent::Rm(RmEvent::Step {
                step,
                loss,
                difference_loss,
                ..
            })) = e
            {
                events.push(
                    RlhfEvent::RmStep {
                        round,
                        step,
                        steps: rm.total_steps(),
                        loss,
                        difference_loss,
                    }
                    .into(),
                );
            }
        }
        self.arm_steps += 1;
        Ok((events, rm.is_finished()))
    }

    /// Measure the round's reward model on π_{r−1}'s samples and set PPO up against it.
    async fn ppo_setup(&mut self, round: usize, a: usize) -> Result<Vec<Event>, ExperimentError> {
        let c = self.c().clone();
        let rm0 = self
            .base
            .proxy()
            .cloned()
            .ok_or_else(|| ExperimentError::Config("RM_0 is not trained yet".into()))?;
        let state = &mut self.arms[a];
        if let Some(run) = &state.rm_run {
            state.rm = Proxy::in_space(run.model().clone(), rm0.space().clone(), rm0.config());
            state.rm_accuracy = run.report().validation_accuracy;
        }
        state.measures = measure(&state.rm, &state.samples.heldout, &state.samples.pairs).await?;
        if round > 1 {
            if c.policy_init == PolicyInit::Restart {
                state.ppo.policy_to_reference();
            }
            if c.kl_reference == KlReference::Previous {
                state.ppo.reference_to_policy();
            }
        }
        let critic = state.ppo.set_proxy(state.rm.clone()).await?;
        state.ppo.extend(c.ppo.steps);
        Ok(vec![
            RlhfEvent::Stage {
                round,
                arm: state.arm.name().into(),
                what: format!("PPO against this round's reward model (critic: {critic})"),
            }
            .into(),
        ])
    }

    /// One PPO iteration of arm `a` (and a spread checkpoint when one is due).
    async fn ppo_step(
        &mut self,
        round: usize,
        a: usize,
    ) -> Result<(Vec<Event>, bool), ExperimentError> {
        let c = self.c().clone();
        let name = self.arms[a].arm.name().to_string();
        let mut events = Vec::new();
        for e in self.arms[a].ppo.step().await? {
            if let Event::Kind(KindEvent::Ppo(PpoEvent::Step(metrics))) = e {
                self.report.curves.push(CurvePoint {
                    arm: name.clone(),
                    round,
                    step: metrics.step,
                    kl: metrics.kl,
                    gold: metrics.gold,
                    proxy: metrics.proxy,
                });
                events.push(
                    RlhfEvent::PpoStep {
                        arm: name.clone(),
                        round,
                        metrics,
                    }
                    .into(),
                );
            }
        }
        self.arm_steps += 1;
        let state = &self.arms[a];
        let done_in_round = state.ppo.steps_done() - state.round_start;
        let every = (c.ppo.steps / c.eval.spread_per_round.max(1)).max(1);
        let at_end = done_in_round == c.ppo.steps;
        if c.eval.spread_per_round > 0 && (done_in_round.is_multiple_of(every) || at_end) {
            let (row, items) = self.spread_of(Some(a), round).await?;
            // The round's histograms on the MetaRM arm's π_r (the first arm's without one):
            // RM_0 on its pairs, and the round's own reward model on the same pairs.
            let shown = self.arms[a].arm == Arm::Metarm || (a == 0 && !c.has(Arm::Metarm));
            if at_end && shown {
                self.abs_dr
                    .push((round, "rm0_pi_r".into(), abs_of(&row.values)));
                let scores = self.arms[a].rm.score(&items).await?;
                let own: Vec<f32> = scores.chunks(2).map(|s| s[0] - s[1]).collect();
                let source = match self.arms[a].arm {
                    Arm::Metarm => "metarm_rm_r_pi_r",
                    Arm::Vanilla => "vanilla_rm_pi_r",
                };
                self.abs_dr.push((round, source.into(), abs_of(&own)));
            }
            events.push(RlhfEvent::Spread(row).into());
        }
        let finished = self.arms[a].ppo.steps_done() >= self.arms[a].round_start + c.ppo.steps;
        Ok((events, finished))
    }

    /// Judge π_r of arm `a`: a round row.
    async fn eval(&mut self, round: usize, a: usize) -> Result<Vec<Event>, ExperimentError> {
        let c = self.c().clone();
        let prompts = self.judge_prompts.clone();
        let words = self.arms[a]
            .ppo
            .sample_words(&prompts, &mut self.rng)
            .await?;
        let items: Vec<(usize, Vec<usize>)> = prompts.iter().copied().zip(words).collect();
        let gold = self.base.env().gold(&items).await?;
        let proxy = self.arms[a].rm.score(&items).await?;
        let (win, tie, lose) = win_tie_lose(&gold, &self.sft_gold, self.tie_band);
        let all = self.base.all_prompts();
        let groups = draw_groups(
            &self.arms[a].ppo,
            &all,
            c.eval.diversity_groups,
            c.ppo.proxy.k,
            &mut self.rng,
        )
        .await?;
        let grouped: Vec<Vec<Vec<usize>>> = groups.iter().map(|g| g.responses.clone()).collect();
        let responses: Vec<Vec<usize>> = items.iter().map(|(_, w)| w.clone()).collect();
        let take = c.eval.feature_points.min(items.len());
        if let Some(rm0) = self.base.proxy() {
            let rows = rm0.features(&items[..take]).await?;
            self.features
                .push(("pi_r".into(), self.arms[a].arm.name().into(), round, rows));
        }
        let state = &mut self.arms[a];
        let curve = state.ppo.curves();
        let kl = curve.last().map_or(f64::NAN, |s| s.kl);
        let mean =
            |xs: &[f32]| xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len().max(1) as f64;
        state.judged = gold.clone();
        let row = RoundRow {
            round,
            arm: state.arm.name().into(),
            gold: mean(&gold),
            proxy: mean(&proxy),
            kl,
            original_accuracy: state.rm_accuracy,
            shifted_accuracy: state.measures.shifted_accuracy,
            j: state.measures.j,
            mean_abs_dr: state.measures.mean_abs_dr,
            win,
            tie,
            lose,
            distinct_2: distinct_2(&responses),
            self_bleu_2: self_bleu_2(&grouped),
            matched_kl: kl,
            gold_at_matched_kl: gold_at_kl(curve, kl, c.ppo.smooth),
            ppo_steps: state.ppo.steps_done(),
        };
        if self.keep_models {
            let reward_model = match &state.rm_run {
                Some(r) => r.model_file()?,
                None => self
                    .base
                    .proxy_runner()
                    .ok_or_else(|| ExperimentError::Config("RM_0's run is missing".into()))?
                    .model_file()?,
            };
            self.files.push(RoundFiles {
                round,
                arm: state.arm,
                reward_model,
                policy: state.ppo.model_files()?,
            });
        }
        self.report.rounds.push(row);
        let mut events = Vec::new();
        // Once every arm has finished the round: compare the arms at the smaller KL.
        if a + 1 == self.arms.len() {
            self.match_kl(round);
            for r in self.report.rounds.iter().filter(|r| r.round == round) {
                events.push(RlhfEvent::Round(r.clone()).into());
            }
            self.report.round_seconds.push(self.round_seconds);
            self.round_seconds = 0.0;
        }
        Ok(events)
    }

    /// Set `matched_kl` and `gold_at_matched_kl` of `round`'s rows: each arm's gold where its
    /// PPO curve reaches the smaller of the arms' KLs at the round's end.
    fn match_kl(&mut self, round: usize) {
        let smooth = self.c().ppo.smooth;
        let matched = self
            .report
            .rounds
            .iter()
            .filter(|r| r.round == round)
            .map(|r| r.kl)
            .fold(f64::INFINITY, f64::min);
        for row in self.report.rounds.iter_mut().filter(|r| r.round == round) {
            if let Some(state) = self.arms.iter().find(|s| s.arm.name() == row.arm) {
                row.matched_kl = matched;
                row.gold_at_matched_kl = gold_at_kl(state.ppo.curves(), matched, smooth);
            }
        }
    }

    /// The head-to-head, the histograms and the feature map; the report is complete.
    fn finish(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        if let (Some(m), Some(v)) = (
            self.arms.iter().find(|s| s.arm == Arm::Metarm),
            self.arms.iter().find(|s| s.arm == Arm::Vanilla),
        ) {
            let (win, tie, lose) = win_tie_lose(&m.judged, &v.judged, self.tie_band);
            let h = HeadToHead {
                policy: "metarm".into(),
                opponent: "vanilla".into(),
                win,
                tie,
                lose,
            };
            self.report.head_to_head = Some(h.clone());
            events.push(RlhfEvent::HeadToHead(h).into());
        }
        // |Δr| over [0, 1]: RM_0's rows by RM_0's largest, each other reward model's by its own.
        let rm0_max = self
            .abs_dr
            .iter()
            .filter(|(_, s, _)| s.starts_with("rm0"))
            .flat_map(|(_, _, v)| v.iter().copied())
            .fold(0.0f32, f32::max);
        let rows: Vec<HistRow> = self
            .abs_dr
            .iter()
            .map(|(round, source, values)| {
                let scale = if source.starts_with("rm0") {
                    rm0_max
                } else {
                    values.iter().copied().fold(0.0f32, f32::max)
                };
                HistRow {
                    round: *round,
                    source: source.clone(),
                    shares: unit_histogram(values, scale, HIST_BINS),
                }
            })
            .collect();
        self.report.abs_dr_hist = rows.clone();
        events.push(RlhfEvent::Histograms { rows }.into());
        // The map: axes of the original pairs' features; every source projected on them.
        let original: Vec<Vec<f32>> = self
            .features
            .iter()
            .filter(|(s, ..)| s == "chosen" || s == "rejected")
            .flat_map(|(.., rows)| rows.iter().cloned())
            .collect();
        if let Some(projection) = Projection::fit(&original) {
            let mut points = Vec::new();
            for (source, arm, round, rows) in &self.features {
                for r in rows {
                    let [x, y] = projection.apply(r);
                    points.push(FeaturePoint {
                        source: source.clone(),
                        arm: arm.clone(),
                        round: *round,
                        x,
                        y,
                    });
                }
            }
            let hull = convex_hull(
                &original
                    .iter()
                    .map(|r| projection.apply(r))
                    .collect::<Vec<_>>(),
            );
            self.report.features = points.clone();
            self.report.hull = hull.clone();
            events.push(RlhfEvent::Features { points, hull }.into());
        }
        self.report.wall_time_s = self.seconds;
        let summary = self.report.summary();
        events.extend(Event::closing(
            RlhfEvent::Done {
                report: Box::new(self.report.clone()),
            },
            self.seconds,
            summary,
        ));
        events
    }

    async fn step_inner(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let t0 = Instant::now();
        let mut events = Vec::new();
        if !self.started {
            self.started = true;
            events.push(Event::started(&self.compute, self.progress().total));
            let c = self.c();
            events.push(
                RlhfEvent::Setup {
                    rounds: c.rounds,
                    arms: c.arms.iter().map(|a| a.name().to_string()).collect(),
                    ppo_steps: c.ppo.steps,
                    data: self.run.data.source.label(),
                }
                .into(),
            );
        }
        match self.stage {
            Stage::Base => {
                let inner = self.base.step().await?;
                events.extend(Self::passed_on(inner));
                if self.base.ready_for_ppo() {
                    self.stage = Stage::Start;
                }
            }
            Stage::Start => {
                events.extend(self.start().await?);
                self.stage = Stage::Sample { round: 1, arm: 0 };
            }
            Stage::Sample { round, arm } => {
                events.extend(self.sample(round, arm).await?);
                self.stage = if self.arms[arm].rm_run.is_some() && self.arms[arm].arm == Arm::Metarm
                {
                    Stage::Rm { round, arm }
                } else {
                    Stage::PpoSetup { round, arm }
                };
            }
            Stage::Rm { round, arm } => {
                let (e, done) = self.rm_step(round, arm).await?;
                events.extend(e);
                if done {
                    self.stage = Stage::PpoSetup { round, arm };
                }
            }
            Stage::PpoSetup { round, arm } => {
                events.extend(self.ppo_setup(round, arm).await?);
                self.stage = Stage::Ppo { round, arm };
            }
            Stage::Ppo { round, arm } => {
                let (e, done) = self.ppo_step(round, arm).await?;
                events.extend(e);
                if done {
                    self.stage = Stage::Eval { round, arm };
                }
            }
            Stage::Eval { round, arm } => {
                events.extend(self.eval(round, arm).await?);
                self.stage = self.next_arm_stage(round, arm);
            }
            Stage::Finish => {
                let spent = t0.elapsed().as_secs_f64();
                self.seconds += spent;
                events.extend(self.finish());
                self.stage = Stage::Done;
                return Ok(events);
            }
            Stage::Done => {}
        }
        let spent = t0.elapsed().as_secs_f64();
        self.seconds += spent;
        self.round_seconds += spent;
        Ok(events)
    }

    /// Steps of one arm's round: its reward model's (MetaRM arm) and PPO's.
    fn round_steps(&self, arm: Arm) -> usize {
        let rm = match arm {
            Arm::Metarm => self.base.proxy_runner().map_or(0, RmRunner::total_steps),
            Arm::Vanilla => 0,
        };
        rm + self.c().ppo.steps
    }
}

impl Runner for RlhfRunner {
    fn step(&mut self) -> StepFuture<'_> {
        Box::pin(self.step_inner())
    }

    fn is_finished(&self) -> bool {
        self.stage == Stage::Done
    }

    /// The first reward model's and SFT's steps, then each arm's reward-model and PPO steps.
    fn progress(&self) -> Progress {
        let base = self.base.progress();
        let base_total = base.total.saturating_sub(self.c().ppo.steps);
        let base_done = base.done.min(base_total);
        let per_round: usize = self.c().arms.iter().map(|&a| self.round_steps(a)).sum();
        Progress {
            done: base_done + self.arm_steps,
            total: base_total + per_round * self.c().rounds,
        }
    }

    fn report_json(&self) -> serde_json::Value {
        report_value(&self.report)
    }

    /// By epoch (a round): `[round]`, the start (the first reward model and SFT) being round 0;
    /// by job (a stage): the start's own stages under `[0, …]`, then `[round, arm, part]` (part
    /// 0: the reward model, 1: PPO and judging).
    fn span(&self, stride: Stride) -> Option<Span> {
        let (round, arm, part) = match self.stage {
            // The start (RM_0, SFT) is round 0; by job, its own stages.
            Stage::Base if stride == Stride::Job => {
                let mut span = vec![0];
                span.extend(self.base.span(stride)?);
                return Some(span);
            }
            Stage::Base | Stage::Start => return Some(vec![0]),
            Stage::Sample { round, arm } | Stage::Rm { round, arm } => (round, arm, 0),
            Stage::PpoSetup { round, arm }
            | Stage::Ppo { round, arm }
            | Stage::Eval { round, arm } => (round, arm, 1),
            Stage::Finish | Stage::Done => return None,
        };
        Some(match stride {
            Stride::Epoch => vec![round],
            Stride::Job => vec![round, arm, part],
        })
    }
}
