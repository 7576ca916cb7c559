//! Runs of the same length trained together as stacked bag-of-words models ([`BowStack`]):
//! the ensemble's members (every fold of them) and the band-alone retraining runs. Runs whose
//! step counts match form a group; a group trains as one model, one optimizer step at a time
//! like any run. Run k keeps everything its own run would have: its seeded initial weights,
//! its own training pairs and shuffle order, its dropout masks, its per-weight gradient
//! clipping and its evaluations; AdamW is elementwise, so one optimizer over a stack updates
//! every run as its own optimizer would (a test compares with runs made one by one).
use std::sync::Arc;

use burn::module::Module;

use crate::experiment::runner::{Span, Stride};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use web_time::Instant;

use crate::compute::Compute;
use crate::data::encode::{EncodedPair, pad_pairs};
use crate::experiment::config::{OptimizerConfig, Run};
use crate::experiment::error::ExperimentError;
use crate::experiment::events::{Event, Phase};
use crate::experiment::jobs::Job;
use crate::experiment::metrics::pairwise_accuracy;
use crate::experiment::prepare::PreparedData;
use crate::experiment::rm::fused_adamw::FusedAdamW;
use crate::experiment::rm::order::BatchOrder;
use crate::experiment::rm::step::{EVAL_BATCH_PAIRS, PairBatch, adamw, read_floats};
use crate::experiment::rm::{RmEvent, RmTrainConfig};
use crate::model::bow_stack::BowStack;
use crate::model::init::step_seed;
use crate::rm::loss::{mean_bt_loss, preference_loss, preference_loss_value};

/// True when runs of this config can train stacked: plain Bradley–Terry bag-of-words runs
/// without a contrastive term (others train one after another).
pub fn stackable(config: &RmTrainConfig) -> bool {
    config.model.arch == crate::model::Arch::Bow && !config.contrastive.active()
}

/// A run that finished inside a stack, with what its own run would have reported.
pub struct StackedResult {
    /// Index into the job list.
    pub job: usize,
    /// Reward gap (dataset orientation) under the final weights, indexed by position: scored
    /// at the job's training positions and the positions it was asked for, NaN elsewhere.
    pub gaps: Vec<f32>,
    /// Last validation accuracy (gold where the data has it).
    pub validation_accuracy: f32,
    /// Loss on its own training pairs at the end.
    pub train_set_loss: f32,
    /// Validation accuracy over steps.
    pub curve: Vec<(usize, f32)>,
    /// Its share of the group's training seconds.
    pub train_seconds: f64,
}

/// Runs with the same step count and batch size, trained as one stack.
struct Group {
    /// Job index of each run.
    jobs: Vec<usize>,
    total_steps: usize,
    batch_pairs: usize,
}

/// Some of a group's runs, stacked: natively on the CPU a group's runs are split over the
/// cores (runs are independent, so the split changes no result).
struct Part {
    /// The group's run indices this part holds.
    members: std::ops::Range<usize>,
    stack: BowStack,
    /// The stack before its last update: what a diverged step falls back to.
    previous: BowStack,
    optim: StackOptimizer,
    orders: Vec<BatchOrder>,
    /// This step's loss, measured and waiting for every part's check before the update.
    pending: Option<Tensor<1>>,
}

/// AdamW for a stack: fused on the host for the CPU backend, burn's elsewhere (the same
/// arithmetic; a test holds them together).
enum StackOptimizer {
    Fused(FusedAdamW),
    Burn(ModuleOptimizer),
}

impl StackOptimizer {
    fn new(compute: &Compute, config: &OptimizerConfig) -> Self {
        if compute.backend_name() == "flex" {
            Self::Fused(FusedAdamW::new(config))
        } else {
            // Clipping is per run (in each step); the optimizer must not clip a whole stack.
            Self::Burn(adamw(&OptimizerConfig {
                grad_clip_norm: 0.0,
                ..config.clone()
            }))
        }
    }

    fn step(
        &mut self,
        lr: f64,
        stack: BowStack,
        grads: GradientsParams,
    ) -> Result<BowStack, ExperimentError> {
        match self {
            Self::Fused(o) => o.step(lr, stack, grads),
            Self::Burn(o) => Ok(o.step(lr, stack, grads)),
        }
    }
}

/// Which optimizer step of which group, with its gradient clip and learning rate.
#[derive(Clone, Copy)]
struct StepAt {
    group: usize,
    step: usize,
    clip: f64,
    lr: f64,
}

/// What one part's forward pass measured.
struct PartStep {
    loss_sum: f64,
    correct: usize,
    gaps: usize,
    /// The first run (in the part) whose loss is not finite, with that loss.
    bad: Option<f64>,
}

/// What one part's scoring gave: per run, the reward of every chosen and rejected response.
type PartScores = Vec<(Vec<f32>, Vec<f32>)>;

/// The group being trained.
struct Training {
    group: usize,
    parts: Vec<Part>,
    step: usize,
    total_steps: usize,
    train_seconds: f64,
    /// Validation accuracy over steps, per run of the group.
    curves: Vec<Vec<(usize, f32)>>,
}

/// How many parts to split `members` runs into: one per core (at most) for the CPU backend natively;
/// one on a GPU and in the browser.
fn part_count(compute: &Compute, members: usize) -> usize {
    if cfg!(target_arch = "wasm32") || compute.backend_name() != "flex" {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    cores.clamp(1, members.max(1))
}

/// Run `f` on every part: on one thread per part natively when there are several, else in
/// turn (the futures finish at once on the CPU backend; in the browser they are awaited).
async fn each_part<'a, T: Send>(
    parts: &'a mut [Part],
    f: impl Fn(&'a mut Part) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>> + Sync,
) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    if parts.len() > 1 {
        return std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter_mut()
                .map(|part| {
                    let f = &f;
                    scope.spawn(move || pollster::block_on(f(part)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
    }
    let mut out = Vec::with_capacity(parts.len());
    for part in parts.iter_mut() {
        out.push(f(part).await);
    }
    out
}
/// Jobs trained group by group, each group as stacked models.
pub struct StackedJobs {
    compute: Compute,
    data: Arc<PreparedData>,
    jobs: Vec<Job>,
    /// Positions each job is scored at when it finishes (its training pairs included).
    finals: Vec<Vec<usize>>,
    groups: Vec<Group>,
    next: usize,
    current: Option<Training>,
}

impl StackedJobs {
    /// Group `jobs` by step count and batch size, keeping their order within a group. The jobs
    /// must be stackable plain Bradley–Terry runs with one training config (seed aside): no
    /// per-pair targets, no feature measurement. `scored[j]`: the positions whose gaps job j
    /// hands back when it finishes, besides its training pairs (missing: none).
    pub fn new(
        compute: Compute,
        data: Arc<PreparedData>,
        jobs: Vec<Job>,
        scored: &[Vec<usize>],
    ) -> Result<Self, ExperimentError> {
        if !Self::can_stack(&jobs) {
            return Err(ExperimentError::Config(
                "only plain bag-of-words runs with one training config can train stacked".into(),
            ));
        }
        let finals = jobs
            .iter()
            .enumerate()
            .map(|(j, job)| {
                let mut p = job.plan.train.clone();
                p.extend(scored.get(j).into_iter().flatten());
                p.sort_unstable();
                p.dedup();
                p
            })
            .collect();
        let mut groups: Vec<Group> = Vec::new();
        for (j, job) in jobs.iter().enumerate() {
            let config = &job.config.experiment;
            let steps = config.total_steps(job.plan.train.len());
            // Runs in one stack take batches of one size (a run with fewer training pairs than
            // batch_size takes them all each step).
            let pairs = config.batch_size.min(job.plan.train.len());
            match groups
                .iter_mut()
                .find(|g| g.total_steps == steps && g.batch_pairs == pairs)
            {
                Some(g) => g.jobs.push(j),
                None => groups.push(Group {
                    jobs: vec![j],
                    total_steps: steps,
                    batch_pairs: pairs,
                }),
            }
        }
        Ok(Self {
            compute,
            data,
            jobs,
            finals,
            groups,
            next: 0,
            current: None,
        })
    }

    /// True when `jobs` can train stacked: stackable runs ([`stackable`]) with one training
    /// config (seed aside), no per-pair targets and no feature measurement.
    pub fn can_stack(jobs: &[Job]) -> bool {
        let Some(first) = jobs.first() else {
            return false;
        };
        stackable(&first.config.experiment)
            && jobs.iter().all(|j| {
                j.config.experiment == first.config.experiment
                    && j.plan.targets.is_empty()
                    && !j.plan.measure_features
            })
    }

    /// The jobs, in their original order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// Number of stacked groups.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// True once every group has trained and scored.
    pub fn is_finished(&self) -> bool {
        self.current.is_none() && self.next >= self.groups.len()
    }

    /// The group the next step belongs to, and with [`Stride::Epoch`] its epoch (counted by the
    /// group's first run: cross-fitted folds may differ by a pair): `[group, epoch]`.
    pub fn span(&self, stride: Stride) -> Option<Span> {
        let (group, step) = match &self.current {
            Some(t) => (t.group, t.step),
            None if self.next < self.groups.len() => (self.next, 0),
            None => return None,
        };
        let mut span = vec![group];
        if stride == Stride::Epoch {
            let first = &self.jobs[*self.groups[group].jobs.first()?];
            let per = first
                .config
                .experiment
                .steps_per_epoch(first.plan.train.len());
            span.push(step / per);
        }
        Some(span)
    }

    /// Optimizer steps done and planned (one stacked step trains every run of a group).
    pub fn progress(&self) -> (usize, usize) {
        let started = self.next - usize::from(self.current.is_some());
        let total = self.groups.iter().map(|g| g.total_steps).sum();
        let done = self.groups[..started]
            .iter()
            .map(|g| g.total_steps)
            .sum::<usize>()
            + self.current.as_ref().map_or(0, |t| t.step);
        (done, total)
    }

    fn wrap(&self, job: usize, inner: Event) -> Event {
        Event::Job {
            job,
            jobs: self.jobs.len(),
            phase: self.jobs[job].phase.clone(),
            inner: Box::new(inner),
        }
    }

    /// A group's own events (its start and steps): one phase for all its runs.
    fn wrap_group(&self, group: usize, inner: Event) -> Event {
        let runs = self.groups[group].jobs.len();
        let first = &self.jobs[self.groups[group].jobs[0]].phase;
        let of = match first {
            Phase::Member { fold: Some(_), .. } => "member folds",
            Phase::Member { fold: None, .. } => "members",
            Phase::Band { .. } => "bands",
            Phase::Method { .. } => "methods",
            Phase::Stage { .. } | Phase::Stacked { .. } => "runs",
        };
        Event::Job {
            job: group,
            jobs: self.groups.len(),
            phase: Phase::Stacked {
                runs,
                of: of.into(),
            },
            inner: Box::new(inner),
        }
    }

    fn config(&self, group: usize) -> &RmTrainConfig {
        &self.jobs[self.groups[group].jobs[0]].config.experiment
    }

    fn runs(&self, group: usize) -> Vec<&Run<RmTrainConfig>> {
        self.groups[group]
            .jobs
            .iter()
            .map(|&j| &self.jobs[j].config)
            .collect()
    }

    fn start(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let group = self.next;
        let config = self.config(group).clone();
        let device = self.compute.train_device();
        let vocab = self.data.tokenizer.vocab_size();
        let runs = self.runs(group);
        let models: Vec<_> = runs
            .iter()
            .map(|r| config.model.init_seeded(vocab, 0, r.seed, &device))
            .collect();
        let count = part_count(&self.compute, models.len());
        let mut parts = Vec::with_capacity(count);
        for p in 0..count {
            let members = p * models.len() / count..(p + 1) * models.len() / count;
            let stack = BowStack::from_members(&models[members.clone()], config.model.dropout)
                .ok_or_else(|| {
                    ExperimentError::Config("stacked runs must be bag-of-words models".into())
                })?;
            parts.push(Part {
                orders: runs[members.clone()]
                    .iter()
                    .map(|r| BatchOrder::new(r.seed))
                    .collect(),
                members,
                previous: stack.clone(),
                pending: None,
                stack,
                optim: StackOptimizer::new(&self.compute, &config.optimizer),
            });
        }
        let total_steps = self.groups[group].total_steps;
        let n = self.groups[group].jobs.len();
        self.current = Some(Training {
            group,
            parts,
            step: 0,
            total_steps,
            train_seconds: 0.0,
            curves: vec![Vec::new(); n],
        });
        self.next += 1;
        Ok(vec![self.wrap_group(
            group,
            Event::started(&self.compute, total_steps),
        )])
    }

    /// One stacked optimizer step (starting the next group first when none trains), with the
    /// evaluations that fall due. Returns the events and the runs that finished.
    pub async fn step(&mut self) -> Result<(Vec<Event>, Vec<StackedResult>), ExperimentError> {
        let mut events = Vec::new();
        if self.current.is_none() {
            if self.next >= self.groups.len() {
                return Ok((events, Vec::new()));
            }
            events.extend(self.start()?);
        }
        let Some(mut t) = self.current.take() else {
            return Ok((events, Vec::new()));
        };
        let step_event = match self.train_step(&mut t).await {
            Ok(e) => e,
            Err(e) => {
                self.current = Some(t);
                return Err(e);
            }
        };
        events.push(self.wrap_group(t.group, step_event));
        let last = t.step >= t.total_steps;
        if t.step.is_multiple_of(self.config(t.group).eval_every) || last {
            match self.evaluate(&mut t).await {
                Ok(evals) => events.extend(evals),
                Err(e) => {
                    self.current = Some(t);
                    return Err(e);
                }
            }
        }
        if !last {
            self.current = Some(t);
            return Ok((events, Vec::new()));
        }
        let (done_events, finished) = self.finish(t).await?;
        events.extend(done_events);
        Ok((events, finished))
    }

    async fn train_step(&self, t: &mut Training) -> Result<Event, ExperimentError> {
        let config = self.config(t.group);
        let lr = config.optimizer.lr_at(t.step, t.total_steps);
        let step = t.step;
        let t0 = Instant::now();
        let group = t.group;
        // Every part measures its loss first; only when all are finite does any part update,
        // so a diverged run leaves the whole stack as it was.
        let clip = config.optimizer.grad_clip_norm;
        let at = StepAt {
            group,
            step,
            clip,
            lr,
        };
        let results = self.forward_then_update(&mut t.parts, at).await;
        let (mut loss_sum, mut correct, mut gaps, mut bad) = (0.0, 0, 0, None);
        for r in results {
            let r = r?;
            loss_sum += r.loss_sum;
            correct += r.correct;
            gaps += r.gaps;
            bad = bad.or(r.bad);
        }
        if let Some(value) = bad {
            // As a single run does: the loss was measured before this update, so the weights of
            // the last applied update produced it; fall back to the stack before that update.
            for part in &mut t.parts {
                part.pending = None;
                part.stack = part.previous.clone();
            }
            t.step = t.step.saturating_sub(1);
            return Err(ExperimentError::NonFinite {
                step: t.step + 2,
                value: value as f32,
                last_good: t.step,
                lr,
            });
        }
        t.train_seconds += t0.elapsed().as_secs_f64();
        t.step += 1;
        Ok(RmEvent::Step {
            step: t.step,
            loss: (loss_sum / self.groups[group].jobs.len().max(1) as f64) as f32,
            train_accuracy: correct as f32 / gaps.max(1) as f32,
            lr,
            contrastive_loss: None,
            difference_loss: None,
        }
        .into())
    }

    /// Every part's forward pass, then, when every loss is finite, every part's update. Natively
    /// with several parts each part runs on its own thread and the threads meet between the
    /// two halves; otherwise the parts run in turn.
    async fn forward_then_update(
        &self,
        parts: &mut [Part],
        at: StepAt,
    ) -> Vec<Result<PartStep, ExperimentError>> {
        #[cfg(not(target_arch = "wasm32"))]
        if parts.len() > 1 {
            return self.forward_then_update_threaded(parts, at);
        }
        let mut results = Vec::with_capacity(parts.len());
        for part in parts.iter_mut() {
            results.push(self.part_forward(part, at).await);
        }
        let all_good = results
            .iter()
            .all(|r| matches!(r, Ok(s) if s.bad.is_none()));
        for (part, r) in parts.iter_mut().zip(results.iter_mut()) {
            if !all_good {
                part.pending = None;
            } else if let Err(e) = Self::part_update(part, at).await {
                *r = Err(e);
            }
        }
        results
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn forward_then_update_threaded(
        &self,
        parts: &mut [Part],
        at: StepAt,
    ) -> Vec<Result<PartStep, ExperimentError>> {
        use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
        use std::sync::atomic::{AtomicBool, Ordering};
        let meet = std::sync::Barrier::new(parts.len());
        let bad = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter_mut()
                .map(|part| {
                    let (meet, bad) = (&meet, &bad);
                    scope.spawn(move || {
                        // A panic must still reach the meeting point, or the others wait forever.
                        let forward = catch_unwind(AssertUnwindSafe(|| {
                            pollster::block_on(self.part_forward(part, at))
                        }));
                        if !matches!(&forward, Ok(Ok(s)) if s.bad.is_none()) {
                            bad.store(true, Ordering::SeqCst);
                        }
                        meet.wait();
                        let result = forward.unwrap_or_else(|e| resume_unwind(e));
                        if bad.load(Ordering::SeqCst) {
                            part.pending = None;
                            return result;
                        }
                        pollster::block_on(Self::part_update(part, at)).and(result)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| resume_unwind(e)))
                .collect()
        })
    }

    /// The forward pass of one part's runs at `step`: each on its own batch with its own
    /// dropout mask; the loss waits in the part for [`Self::part_update`].
    async fn part_forward(&self, part: &mut Part, at: StepAt) -> Result<PartStep, ExperimentError> {
        let StepAt { group, step, .. } = at;
        let config = self.config(group);
        let pad = self.data.tokenizer.pad_id();
        let jobs = &self.groups[group].jobs[part.members.clone()];
        let batches: Vec<PairBatch> = part
            .orders
            .iter_mut()
            .zip(jobs)
            .map(|(order, &j)| {
                let positions = order.next_batch(&self.jobs[j].plan.train, config.batch_size);
                let encoded: Vec<&EncodedPair> =
                    positions.iter().map(|&p| &self.data.encoded[p]).collect();
                PairBatch::new(&encoded, pad)
            })
            .collect();
        let pairs = self.groups[group].batch_pairs;
        let members = batches.len();
        let seeds: Vec<u64> = jobs
            .iter()
            .map(|&j| step_seed(self.jobs[j].config.seed, step))
            .collect();
        let padded: Vec<_> = batches.iter().map(|b| &b.padded).collect();
        let masks = part.stack.dropout_masks(&seeds, 2 * pairs);
        let rewards = part.stack.forward(&padded, masks);
        let gaps = rewards.clone().slice([0..members, 0..pairs])
            - rewards.slice([0..members, pairs..2 * pairs]);
        let gaps = gaps.reshape([members * pairs]);
        part.pending = Some(preference_loss(gaps.clone(), None, None).sum() * (1.0 / pairs as f64));
        let values = read_floats(gaps.detach()).await?;
        let mut out = PartStep {
            loss_sum: 0.0,
            correct: 0,
            gaps: values.len(),
            bad: None,
        };
        for member in values.chunks(pairs.max(1)) {
            let l = member
                .iter()
                .map(|&g| preference_loss_value(f64::from(g), 0.0, 0.0))
                .sum::<f64>()
                / pairs.max(1) as f64;
            if !l.is_finite() && out.bad.is_none() {
                out.bad = Some(l);
            }
            out.loss_sum += l;
            out.correct += member.iter().filter(|&&g| g > 0.0).count();
        }
        Ok(out)
    }

    /// Backward and update of one part: each run's gradients clipped on their own (per weight
    /// tensor, as a run's optimizer clips), then AdamW.
    async fn part_update(part: &mut Part, at: StepAt) -> Result<(), ExperimentError> {
        let StepAt { clip, lr, .. } = at;
        let Some(loss) = part.pending.take() else {
            return Ok(());
        };
        let mut grads = GradientsParams::from_grads(loss.backward(), &part.stack);
        if clip > 0.0 {
            part.stack.clip_member_grads(&mut grads, clip as f32);
        }
        part.previous = part.stack.clone();
        part.stack = part.optim.step(lr, part.stack.clone(), grads)?;
        Ok(())
    }

    /// Score each run of a part at its own positions (`positions[k]` for the part's k-th run;
    /// no dropout, no gradients).
    async fn score(
        &self,
        part: &mut Part,
        positions: &[&[usize]],
    ) -> Result<PartScores, ExperimentError> {
        let plain = self.compute.train_device().without_autodiff();
        let stack = part.stack.valid().to_device(&plain);
        let own = &positions[part.members.clone()];
        let pad = self.data.tokenizer.pad_id();
        let mut out = vec![(Vec::new(), Vec::new()); own.len()];
        let longest = own.iter().map(|p| p.len()).max().unwrap_or(0);
        for start in (0..longest).step_by(EVAL_BATCH_PAIRS) {
            // Every run scores the same number of pairs per pass: a run with fewer left repeats
            // one of its pairs, and those extra scores are dropped.
            let take: Vec<Vec<&EncodedPair>> = own
                .iter()
                .map(|p| {
                    let end = (start + EVAL_BATCH_PAIRS).min(longest);
                    (start..end)
                        .map(|i| &self.data.encoded[p.get(i).or(p.first()).copied().unwrap_or(0)])
                        .collect()
                })
                .collect();
            let n = take[0].len();
            let batches: Vec<_> = take.iter().map(|t| pad_pairs(t, pad)).collect();
            let rewards = stack.forward(&batches.iter().collect::<Vec<_>>(), None);
            let r = read_floats(rewards).await?;
            crate::compute::yield_to_host().await;
            for (k, (chosen, rejected)) in out.iter_mut().enumerate() {
                let real = own[k].len().saturating_sub(start).min(n);
                let row = &r[k * 2 * n..(k + 1) * 2 * n];
                chosen.extend_from_slice(&row[..real]);
                rejected.extend_from_slice(&row[n..n + real]);
            }
        }
        Ok(out)
    }

    /// Score each run of the group at its own positions, in the group's run order.
    async fn score_group(
        &self,
        t: &mut Training,
        positions: &[&[usize]],
    ) -> Result<PartScores, ExperimentError> {
        let scored = each_part(&mut t.parts, |part| Box::pin(self.score(part, positions))).await;
        let mut out = Vec::new();
        for part in scored {
            out.extend(part?);
        }
        Ok(out)
    }

    /// Every run's validation measurement (what its own run reports at this step).
    async fn evaluate(&self, t: &mut Training) -> Result<Vec<Event>, ExperimentError> {
        let jobs = self.groups[t.group].jobs.clone();
        let validation: Vec<&[usize]> = jobs
            .iter()
            .map(|&j| self.jobs[j].plan.validation.as_slice())
            .collect();
        let scores = self.score_group(t, &validation).await?;
        let use_gold = self.data.has_gold();
        let mut events = Vec::with_capacity(jobs.len());
        for (k, (&j, (chosen, rejected))) in jobs.iter().zip(scores).enumerate() {
            let pairs: Vec<_> = validation[k].iter().map(|&p| &self.data.pairs[p]).collect();
            let gaps: Vec<f32> = chosen.iter().zip(&rejected).map(|(c, r)| c - r).collect();
            let accuracy = pairwise_accuracy(&pairs, &gaps, use_gold);
            t.curves[k].push((t.step, accuracy));
            let eval = RmEvent::Eval {
                step: t.step,
                validation_accuracy: accuracy,
                validation_label_accuracy: pairwise_accuracy(&pairs, &gaps, false),
                validation_loss: mean_bt_loss(&gaps),
                chosen_rewards: chosen,
                rejected_rewards: rejected,
            };
            events.push(self.wrap(j, eval.into()));
        }
        Ok(events)
    }

    /// The step and the step count of the group training now, if one is.
    pub fn training_step(&self) -> Option<(usize, usize)> {
        self.current.as_ref().map(|t| (t.step, t.total_steps))
    }

    /// Every run of the group training now scores its final positions as it stands: `(job,
    /// gap at every input position, NaN where not scored)`; training goes on unchanged.
    pub async fn snapshot(&mut self) -> Result<Vec<(usize, Vec<f32>)>, ExperimentError> {
        let Some(mut t) = self.current.take() else {
            return Ok(Vec::new());
        };
        let jobs = self.groups[t.group].jobs.clone();
        let finals: Vec<&[usize]> = jobs.iter().map(|&j| self.finals[j].as_slice()).collect();
        let scores = self.score_group(&mut t, &finals).await;
        self.current = Some(t);
        let mut out = Vec::with_capacity(jobs.len());
        for (&j, (chosen, rejected)) in jobs.iter().zip(scores?) {
            let mut gaps = vec![f32::NAN; self.data.encoded.len()];
            for ((&p, c), r) in self.finals[j].iter().zip(&chosen).zip(&rejected) {
                gaps[p] = c - r;
            }
            out.push((j, gaps));
        }
        Ok(out)
    }

    /// Score every prepared pair with every run, and close each run as its own run would.
    async fn finish(
        &self,
        mut t: Training,
    ) -> Result<(Vec<Event>, Vec<StackedResult>), ExperimentError> {
        let jobs = self.groups[t.group].jobs.clone();
        let finals: Vec<&[usize]> = jobs.iter().map(|&j| self.finals[j].as_slice()).collect();
        let scores = self.score_group(&mut t, &finals).await?;
        let share = t.train_seconds / jobs.len().max(1) as f64;
        let config = self.config(t.group);
        let mut events = Vec::new();
        let mut results = Vec::with_capacity(jobs.len());
        for (k, (&j, (chosen, rejected))) in jobs.iter().zip(scores).enumerate() {
            let mut gaps = vec![f32::NAN; self.data.encoded.len()];
            for ((&p, c), r) in self.finals[j].iter().zip(&chosen).zip(&rejected) {
                gaps[p] = c - r;
            }
            let train = &self.jobs[j].plan.train;
            let train_pairs: Vec<_> = train.iter().map(|&p| &self.data.pairs[p]).collect();
            let train_gaps: Vec<f32> = train.iter().map(|&p| gaps[p]).collect();
            let curve = std::mem::take(&mut t.curves[k]);
            let validation_accuracy = curve.last().map_or(f32::NAN, |&(_, a)| a);
            let done = RmEvent::Done {
                step: t.step,
                train_accuracy: pairwise_accuracy(&train_pairs, &train_gaps, false),
                validation_accuracy,
                wall_time_s: share,
                train_pairs_per_s: if share > 0.0 {
                    (t.step * config.batch_size.min(train.len())) as f64 / share
                } else {
                    0.0
                },
            };
            events.push(self.wrap(j, done.into()));
            results.push(StackedResult {
                job: j,
                train_set_loss: mean_bt_loss(&train_gaps),
                gaps,
                validation_accuracy,
                curve,
                train_seconds: share,
            });
        }
        Ok((events, results))
    }
}
