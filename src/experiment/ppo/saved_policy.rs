//! A policy as `ppo --out` saved it (`policy.json`, for the transformer also `policy.bin`, and the
//! run's `report.json`), read back so a later run can sample from it (MetaRM's meta set), and
//! loaded into a PPO run of the same world.
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde_json::Value;

use super::PpoConfig;
use super::runner::{Agent, PpoRunner};
use crate::experiment::config::Run;
use crate::experiment::error::ExperimentError;

/// The files of a saved policy.
#[derive(Clone, Debug)]
pub struct SavedPolicy {
    /// `policy.json`.
    pub json: Value,
    /// `policy.bin` (the transformer's weights).
    pub weights: Option<Vec<u8>>,
    /// The run that trained it (the `config` of its `report.json`).
    pub run: Run<PpoConfig>,
}

fn not_a_policy(why: String) -> ExperimentError {
    ExperimentError::Config(format!(
        "not a policy: {why}; give the folder `rlhf-lab ppo --out DIR` (or an rlhf round's policy folder) wrote"
    ))
}

impl SavedPolicy {
    /// Read the files' bytes: `policy.json`, `policy.bin` (transformer) and `report.json`.
    pub fn from_files(
        policy_json: &[u8],
        weights: Option<Vec<u8>>,
        report_json: &[u8],
    ) -> Result<Self, ExperimentError> {
        let json: Value = serde_json::from_slice(policy_json)
            .map_err(|e| not_a_policy(format!("policy.json is not JSON ({e})")))?;
        match json.get("kind").and_then(Value::as_str) {
            Some("factorised") => {
                if !json.get("logits").is_some_and(Value::is_array) {
                    return Err(not_a_policy("policy.json has no \"logits\" list".into()));
                }
            }
            Some("transformer") => {
                if weights.is_none() {
                    return Err(not_a_policy(
                        "a transformer policy needs its weights, policy.bin, beside policy.json"
                            .into(),
                    ));
                }
            }
            other => {
                return Err(not_a_policy(format!(
                    "policy.json's \"kind\" is {}, not \"factorised\" or \"transformer\"",
                    other.map_or("missing".into(), |k| format!("'{k}'"))
                )));
            }
        }
        let report: Value = serde_json::from_slice(report_json)
            .map_err(|e| not_a_policy(format!("report.json is not JSON ({e})")))?;
        let config = report
            .get("config")
            .cloned()
            .ok_or_else(|| not_a_policy("report.json has no \"config\"".into()))?;
        let run: Run<PpoConfig> = serde_json::from_value(config)
            .map_err(|e| not_a_policy(format!("report.json's config is not a PPO run's ({e})")))?;
        Ok(Self { json, weights, run })
    }

    /// `factorised` or `transformer`.
    pub fn kind(&self) -> &str {
        self.json.get("kind").and_then(Value::as_str).unwrap_or("")
    }
}

/// The error for a policy that does not fit this run's world.
fn other_world(why: String) -> ExperimentError {
    ExperimentError::Config(format!(
        "the policy is of another world: {why}; use the world it was trained in"
    ))
}

impl PpoRunner {
    /// Act with `saved`'s policy from now on (it must be of this run's world: the same prompts,
    /// actions and shape).
    pub fn load_policy(&mut self, saved: &SavedPolicy) -> Result<(), ExperimentError> {
        match (&mut self.agent, saved.kind()) {
            (Agent::Factorised(a), "factorised") => {
                // JSON has no −∞: the logits of actions a state forbids (EOS before the shortest
                // length) are written as null.
                let logits: Vec<Option<f64>> = serde_json::from_value(saved.json["logits"].clone())
                    .map_err(|e| not_a_policy(format!("policy.json's logits: {e}")))?;
                let logits: Vec<f64> = logits
                    .into_iter()
                    .map(|l| l.unwrap_or(f64::NEG_INFINITY))
                    .collect();
                if logits.len() != a.policy.logits.len() {
                    return Err(other_world(format!(
                        "it has {} logits, this world's factorised policy {}",
                        logits.len(),
                        a.policy.logits.len()
                    )));
                }
                if logits.iter().any(|x| x.is_nan()) {
                    return Err(not_a_policy("policy.json's logits hold NaN".into()));
                }
                a.policy.logits = logits;
                Ok(())
            }
            (Agent::Lm(lm), "transformer") => {
                let space = lm.space();
                let field = |name: &str| saved.json.get(name).cloned().unwrap_or(Value::Null);
                let mismatch = [
                    ("vocab_size", serde_json::json!(space.vocab_size)),
                    ("prompts", serde_json::json!(space.prompts)),
                    ("actions", serde_json::json!(space.words)),
                    ("max_new", serde_json::json!(space.max_new)),
                ]
                .into_iter()
                .find(|(name, here)| field(name) != *here);
                if let Some((name, _)) = mismatch {
                    return Err(other_world(format!(
                        "its {name} differ from this run's (a policy reads the prompts and token ids of its own data and tokenizer)"
                    )));
                }
                let shape: crate::model::policy::PolicyConfig =
                    serde_json::from_value(field("policy_model"))
                        .map_err(|e| not_a_policy(format!("policy.json's policy_model: {e}")))?;
                shape.validate().map_err(not_a_policy)?;
                let bytes = saved.weights.clone().unwrap_or_default();
                let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
                    .map_err(|e| not_a_policy(format!("policy.bin: {e}")))?;
                let cpu = Device::flex();
                let model = shape
                    .init_seeded(&space.allowed(), 0, &cpu)
                    .try_load_record(record)
                    .map_err(|e| other_world(format!("policy.bin does not fit its shape: {e}")))?;
                let device = self.compute.train_device();
                let model = model.to_device(&device);
                lm.set_policy(if device.is_autodiff() {
                    model.train()
                } else {
                    model
                });
                Ok(())
            }
            (_, kind) => Err(other_world(format!(
                "it is a {kind} policy and this run's policy is {}",
                match self.policy_kind() {
                    super::config::PolicyKind::Factorised => "factorised",
                    super::config::PolicyKind::Transformer => "a transformer",
                }
            ))),
        }
    }
}
