//! The denoising comparison's settings: methods, flips, smoothing, margins, subsets — the config
//! of `denoise` and of the app's panel.
use serde::{Deserialize, Serialize};

use crate::experiment::rm::RmTrainConfig;
use crate::experiment::strength::StrengthConfig;
use crate::rm::denoise::{DenoiseSpec, FlipRule, SmoothScope};

/// A reward-model training method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Plain Bradley–Terry.
    Baseline,
    /// Flip the low-strength pairs.
    Flip,
    /// Label smoothing.
    Smooth,
    /// Adaptive margin on all pairs.
    Margin,
    /// Flip + margin.
    FlipMargin,
    /// Smoothing (on μ < 0 by default) + margin on all pairs.
    SmoothMargin,
    /// Flip exactly the pairs known to be mislabeled (needs ground truth): the ceiling.
    Oracle,
}

impl Method {
    /// Every method, in the order of the paper's figures.
    pub const ALL: [Method; 7] = [
        Method::Baseline,
        Method::Flip,
        Method::Smooth,
        Method::Margin,
        Method::FlipMargin,
        Method::SmoothMargin,
        Method::Oracle,
    ];

    /// Its CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Baseline => "baseline",
            Method::Flip => "flip",
            Method::Smooth => "smooth",
            Method::Margin => "margin",
            Method::FlipMargin => "flip+margin",
            Method::SmoothMargin => "smooth+margin",
            Method::Oracle => "oracle",
        }
    }

    /// Parse a comma-separated list (`baseline,flip,flip+margin`).
    pub fn parse_list(arg: &str) -> Result<Vec<Method>, String> {
        arg.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                Method::ALL
                    .into_iter()
                    .find(|m| m.name() == s)
                    .ok_or_else(|| {
                        format!(
                            "unknown method '{s}': use {}",
                            Method::ALL.map(Method::name).join(", ")
                        )
                    })
            })
            .collect()
    }
}

/// Which training pairs the methods train on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "subset", rename_all = "snake_case")]
pub enum TrainSubset {
    /// All training pairs.
    #[default]
    All,
    /// Only the strongest `fraction` by μ (the top-band overfit experiment, Fig 6).
    Top {
        /// Fraction in (0, 1].
        fraction: f64,
    },
}

/// A method comparison: the config of `denoise` and of the app's Denoising panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DenoiseConfig {
    /// The ensemble that measures μ (band retraining is skipped here).
    pub strength: StrengthConfig,
    /// Training of every method run (seeds are `seed + s`).
    pub rm: RmTrainConfig,
    /// Methods to compare.
    pub methods: Vec<Method>,
    /// Seeds per method (≥ 1; report figures with ≥ 3).
    pub seeds: usize,
    /// The flip rule of Flip and Flip+Margin.
    pub flip: FlipRule,
    /// Label-smoothing α of Smooth and Smooth+Margin.
    pub smoothing: f64,
    /// Where smoothing applies.
    pub smoothing_scope: SmoothScope,
    /// Margin scale λ of the margin methods.
    pub margin_scale: f64,
    /// Use max(μ, 0) as the margin.
    pub margin_clamp: bool,
    /// Which training pairs the methods see.
    pub subset: TrainSubset,
}

impl Default for DenoiseConfig {
    fn default() -> Self {
        let strength = StrengthConfig {
            band_retrain: false,
            ..StrengthConfig::default()
        };
        Self {
            rm: RmTrainConfig {
                eval_every: 50,
                ..strength.rm.clone()
            },
            strength,
            // Every method but the oracle, which needs ground truth.
            methods: Method::ALL
                .into_iter()
                .filter(|m| *m != Method::Oracle)
                .collect(),
            seeds: 3,
            flip: FlipRule::Bottom { fraction: 0.2 },
            smoothing: 0.9,
            smoothing_scope: SmoothScope::MuNegative,
            margin_scale: 1.0,
            margin_clamp: false,
            subset: TrainSubset::All,
        }
    }
}

impl DenoiseConfig {
    /// The recipe of one method.
    pub fn spec(&self, method: Method) -> DenoiseSpec {
        let margin = DenoiseSpec {
            margin_scale: self.margin_scale,
            margin_clamp: self.margin_clamp,
            ..Default::default()
        };
        let smooth = DenoiseSpec {
            smoothing: self.smoothing,
            smoothing_scope: self.smoothing_scope,
            ..Default::default()
        };
        match method {
            Method::Baseline | Method::Oracle => DenoiseSpec::default(),
            Method::Flip => DenoiseSpec {
                flip: self.flip,
                ..Default::default()
            },
            Method::Smooth => smooth,
            Method::Margin => margin,
            Method::FlipMargin => DenoiseSpec {
                flip: self.flip,
                ..margin
            },
            Method::SmoothMargin => DenoiseSpec {
                smoothing: self.smoothing,
                smoothing_scope: self.smoothing_scope,
                ..margin
            },
        }
    }

    /// Check everything a user can set.
    pub fn validate(&self) -> Result<(), String> {
        self.strength.validate()?;
        self.rm.validate()?;
        if self.methods.is_empty() {
            return Err("methods is empty: name at least one, e.g. baseline,flip".into());
        }
        if self.seeds == 0 {
            return Err("seeds = 0: train each method at least once (3 for figures)".into());
        }
        if let TrainSubset::Top { fraction } = self.subset
            && !(fraction > 0.0 && fraction <= 1.0)
        {
            return Err(format!("subset fraction = {fraction}: must be in (0, 1]"));
        }
        for m in &self.methods {
            self.spec(*m).validate()?;
        }
        Ok(())
    }
}

impl crate::experiment::config::KindConfig for DenoiseConfig {
    fn kind(&self) -> &'static str {
        "denoise"
    }

    fn check(&self) -> Result<(), String> {
        self.validate()
    }
}
