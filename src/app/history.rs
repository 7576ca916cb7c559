//! What the UI remembers of a run: built only from events, so charts show real computation.
use crate::experiment::{Event, KindEvent, RmEvent};

/// Held-out features of a finished run, projected to 2-D (PCA) for the scatter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureView {
    /// Which run (e.g. "baseline", "simcse").
    pub label: String,
    /// Projected chosen responses.
    pub chosen: Vec<[f64; 2]>,
    /// Projected rejected responses.
    pub rejected: Vec<[f64; 2]>,
    /// Linear-probe AUROC over all held-out pairs.
    pub separation: Option<f32>,
}

/// Curves and latest distributions of one run.
#[derive(Clone, Debug, Default)]
pub struct RunHistory {
    /// What the run is called in comparisons (its contrastive method).
    pub label: String,
    /// Held-out features at the end of the run.
    pub features: Option<FeatureView>,
    /// Steps the run will take.
    pub total_steps: usize,
    /// Last step seen.
    pub step: usize,
    /// `(step, loss)` per optimizer step.
    pub loss: Vec<[f64; 2]>,
    /// `(step, batch accuracy)` per optimizer step.
    pub train_accuracy: Vec<[f64; 2]>,
    /// `(step, validation accuracy)` per evaluation.
    pub validation_accuracy: Vec<[f64; 2]>,
    /// Validation rewards of chosen responses at the last evaluation.
    pub chosen_rewards: Vec<f32>,
    /// Validation rewards of rejected responses at the last evaluation.
    pub rejected_rewards: Vec<f32>,
    /// Data and model, from the reward-model setup event.
    pub setup: Option<String>,
    /// Backend and adapter, from the Started event.
    pub backend: Option<String>,
    /// Backend fallback or other notices.
    pub notices: Vec<String>,
    /// The error that stopped the run, if any.
    pub error: Option<String>,
    /// Final line, once done.
    pub done: Option<String>,
    /// The trained model file, once the run hands it out.
    pub model: Option<std::sync::Arc<Vec<u8>>>,
}

impl RunHistory {
    /// Fold one event in: the lifecycle and the reward-model payload (multi-run experiments
    /// have their own views).
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Started {
                backend,
                adapter,
                total_steps,
                ..
            } => {
                self.total_steps = *total_steps;
                self.backend = Some(format!("{backend} ({adapter})"));
            }
            Event::Notice { message } => self.notices.push(message.clone()),
            Event::Error { message } => self.error = Some(message.clone()),
            Event::Kind(KindEvent::Rm(rm)) => self.apply_rm(rm),
            _ => {}
        }
    }

    fn apply_rm(&mut self, event: &RmEvent) {
        match event {
            RmEvent::Setup {
                data,
                train_pairs,
                validation_pairs,
                params,
                skipped_lines,
                dropped_ties,
                ..
            } => {
                let mut skipped = String::new();
                if *skipped_lines > 0 {
                    skipped.push_str(&format!(", {skipped_lines} bad lines skipped"));
                }
                if *dropped_ties > 0 {
                    skipped.push_str(&format!(", {dropped_ties} ties dropped"));
                }
                self.setup = Some(format!(
                    "{data}: {train_pairs} train / {validation_pairs} validation pairs{skipped} · {params} parameters"
                ));
            }
            RmEvent::Step {
                step,
                loss,
                train_accuracy,
                ..
            } => {
                self.step = *step;
                self.loss.push([*step as f64, f64::from(*loss)]);
                self.train_accuracy
                    .push([*step as f64, f64::from(*train_accuracy)]);
            }
            RmEvent::Eval {
                step,
                validation_accuracy,
                chosen_rewards,
                rejected_rewards,
                ..
            } => {
                self.validation_accuracy
                    .push([*step as f64, f64::from(*validation_accuracy)]);
                self.chosen_rewards = chosen_rewards.clone();
                self.rejected_rewards = rejected_rewards.clone();
            }
            RmEvent::Done {
                train_accuracy,
                validation_accuracy,
                wall_time_s,
                train_pairs_per_s,
                ..
            } => {
                self.done = Some(format!(
                    "done: validation accuracy {validation_accuracy:.3}, train accuracy {train_accuracy:.3}, {wall_time_s:.1} s, {train_pairs_per_s:.0} pairs/s"
                ));
            }
            RmEvent::Model { bytes } => self.model = Some(bytes.clone()),
            RmEvent::Features {
                chosen,
                rejected,
                separation_auroc,
            } => {
                let rows: Vec<Vec<f32>> = chosen.iter().chain(rejected).cloned().collect();
                let mut projected = crate::experiment::pca::project_2d(&rows);
                let rejected = projected.split_off(chosen.len().min(projected.len()));
                self.features = Some(FeatureView {
                    label: self.label.clone(),
                    chosen: projected,
                    rejected,
                    separation: *separation_auroc,
                });
            }
        }
    }

    /// One-line description of data, model and backend (reward-model runs; the other kinds
    /// show their own).
    pub fn summary(&self) -> Option<String> {
        let setup = self.setup.as_ref()?;
        Some(match &self.backend {
            Some(b) => format!("{setup} · {b}"),
            None => setup.clone(),
        })
    }

    /// Fraction of steps done, for the progress bar.
    pub fn progress(&self) -> f32 {
        if self.total_steps == 0 {
            0.0
        } else {
            (self.step as f32 / self.total_steps as f32).clamp(0.0, 1.0)
        }
    }

    /// Latest validation accuracy.
    pub fn latest_validation_accuracy(&self) -> Option<f64> {
        self.validation_accuracy.last().map(|p| p[1])
    }
}

/// Shared bins for two samples: `(centres, counts_a, counts_b, width)`.
pub fn histogram_pair(a: &[f32], b: &[f32], bins: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, f64) {
    let all = a
        .iter()
        .chain(b)
        .filter(|x| x.is_finite())
        .map(|&x| f64::from(x));
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if !lo.is_finite() || bins == 0 {
        return (Vec::new(), Vec::new(), Vec::new(), 1.0);
    }
    let width = ((hi - lo) / bins as f64).max(1e-6);
    let count = |xs: &[f32]| {
        let mut c = vec![0.0; bins];
        for &x in xs.iter().filter(|x| x.is_finite()) {
            let i = (((f64::from(x) - lo) / width) as usize).min(bins - 1);
            c[i] += 1.0;
        }
        c
    };
    let centres = (0..bins).map(|i| lo + (i as f64 + 0.5) * width).collect();
    (centres, count(a), count(b), width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_folds_events_in_order() {
        let mut h = RunHistory::default();
        h.apply(
            &RmEvent::Step {
                step: 1,
                loss: 0.7,
                train_accuracy: 0.5,
                lr: 1e-3,
                contrastive_loss: None,
                difference_loss: None,
            }
            .into(),
        );
        h.apply(
            &RmEvent::Step {
                step: 2,
                loss: 0.6,
                train_accuracy: 0.75,
                lr: 1e-3,
                contrastive_loss: None,
                difference_loss: None,
            }
            .into(),
        );
        h.apply(
            &RmEvent::Eval {
                step: 2,
                validation_accuracy: 0.8,
                validation_label_accuracy: 0.7,
                validation_loss: 0.5,
                chosen_rewards: vec![1.0, 2.0],
                rejected_rewards: vec![0.0],
            }
            .into(),
        );
        assert_eq!(h.step, 2);
        assert_eq!(
            h.loss,
            vec![[1.0, 0.699999988079071], [2.0, 0.6000000238418579]]
        );
        assert_eq!(h.latest_validation_accuracy(), Some(0.800000011920929));
        assert_eq!(h.chosen_rewards, vec![1.0, 2.0]);
    }

    #[test]
    fn histogram_counts_everything_once() {
        let (centres, a, b, width) = histogram_pair(&[0.0, 0.1, 1.0], &[0.5, f32::NAN], 4);
        assert_eq!(centres.len(), 4);
        assert!((width - 0.25).abs() < 1e-12);
        assert_eq!(a, vec![2.0, 0.0, 0.0, 1.0]);
        assert_eq!(b, vec![0.0, 0.0, 1.0, 0.0]);
    }
}
