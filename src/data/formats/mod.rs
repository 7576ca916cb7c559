//! The record layouts a preference file may use, one file each: how each is recognised from a
//! record's fields, and how a record becomes [`PreferencePair`]s.
//!
//! A file is read in one layout: the first record that any layout recognises fixes it (or
//! `--format NAME` does). The four layouts of the TRL family (HH transcripts, implicit prompt,
//! TRL standard, TRL conversational) may be mixed line by line, as TRL allows; any other mix is
//! an error at the first record that does not fit.
//!
//! Errors here are plain strings without a place; the loader prefixes the source and line.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::pair::PreferencePair;

pub mod hh;
pub mod hh_strength;
pub mod implicit;
pub mod messages;
pub mod nectar;
pub mod pku_safe;
pub mod rated;
pub mod shp;
pub mod stack_exchange;
pub mod summarize;
pub mod trl_conversational;
pub mod trl_standard;
pub mod ultrafeedback;
pub mod value;

pub use hh::split_hh_transcript;
pub use messages::ASSISTANT_MARKER;
pub use rated::Pairing;

use value::kind;

/// A supported record layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `{"chosen": "\n\nHuman: …\n\nAssistant: …", "rejected": "…"}`: full transcripts.
    #[serde(rename = "hh")]
    HhTranscript,
    /// `{"chosen": str, "rejected": str}` sharing a prefix, no prompt and no HH markers.
    #[serde(rename = "implicit")]
    ImplicitPrompt,
    /// `{"prompt": str, "chosen": str, "rejected": str}`.
    TrlStandard,
    /// `chosen`/`rejected` lists of `{"role", "content"}` messages; prompt list, string or none.
    TrlConversational,
    /// The paper's release: `chosen`/`rejected` lists of strings plus strength fields.
    HhStrength,
    /// `{"question", "response_j", "response_k"}`.
    StackExchange,
    /// `{"history", "human_ref_A", "human_ref_B", "labels"}`.
    Shp,
    /// `{"info": {"post"}, "summaries": [{"text"}], "choice"}`.
    Summarize,
    /// `{"prompt", "response_0", "response_1", "better_response_id"}`.
    #[serde(rename = "pku-saferlhf")]
    PkuSafe,
    /// `{"instruction", "completions": [{"response", "overall_score"}]}`.
    #[serde(rename = "ultrafeedback")]
    UltraFeedback,
    /// `{"prompt", "answers": [{"answer", "rank"}]}`.
    Nectar,
}

/// Every layout, in the order auto-detection tries them (most specific keys first).
pub const ALL: [Format; 11] = [
    Format::Summarize,
    Format::Shp,
    Format::StackExchange,
    Format::PkuSafe,
    Format::UltraFeedback,
    Format::Nectar,
    Format::HhStrength,
    Format::TrlConversational,
    Format::TrlStandard,
    Format::HhTranscript,
    Format::ImplicitPrompt,
];

impl Format {
    /// The name `--format` takes and reports print.
    pub fn name(self) -> &'static str {
        match self {
            Format::HhTranscript => "hh",
            Format::ImplicitPrompt => "implicit",
            Format::TrlStandard => "trl-standard",
            Format::TrlConversational => "trl-conversational",
            Format::HhStrength => "hh-strength",
            Format::StackExchange => "stack-exchange",
            Format::Shp => "shp",
            Format::Summarize => "summarize",
            Format::PkuSafe => "pku-saferlhf",
            Format::UltraFeedback => "ultrafeedback",
            Format::Nectar => "nectar",
        }
    }

    /// A short human-readable name, for reports and the UI.
    pub fn label(self) -> &'static str {
        match self {
            Format::HhTranscript => "HH-RLHF transcript",
            Format::ImplicitPrompt => "implicit prompt (shared prefix)",
            Format::TrlStandard => "TRL standard",
            Format::TrlConversational => "TRL conversational",
            Format::HhStrength => "HH-RLHF with preference strength (the paper's release)",
            Format::StackExchange => "StackExchange-paired",
            Format::Shp => "Stanford Human Preferences (SHP)",
            Format::Summarize => "OpenAI summarize-from-feedback (TL;DR)",
            Format::PkuSafe => "PKU-SafeRLHF",
            Format::UltraFeedback => "UltraFeedback (rated completions)",
            Format::Nectar => "Nectar (ranked answers)",
        }
    }

    /// The fields that identify the layout, for messages and the README.
    pub fn shape(self) -> &'static str {
        match self {
            Format::HhTranscript => "chosen/rejected transcripts with \"\\n\\nAssistant:\"",
            Format::ImplicitPrompt => "chosen/rejected strings sharing a prefix",
            Format::TrlStandard => "prompt/chosen/rejected strings",
            Format::TrlConversational => "chosen/rejected lists of {role, content}",
            Format::HhStrength => "chosen/rejected lists of strings",
            Format::StackExchange => "question/response_j/response_k",
            Format::Shp => "history/human_ref_A/human_ref_B/labels",
            Format::Summarize => "info.post/summaries/choice",
            Format::PkuSafe => "prompt/response_0/response_1/better_response_id",
            Format::UltraFeedback => "instruction/completions[{response, overall_score}]",
            Format::Nectar => "prompt/answers[{answer, rank}]",
        }
    }

    /// Parses a `--format` name.
    pub fn from_name(name: &str) -> Result<Self, String> {
        ALL.into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| format!("unknown format \"{name}\". {}", supported()))
    }

    /// Whether the layout belongs to the TRL family, whose members may be mixed in one file.
    pub fn is_trl_family(self) -> bool {
        matches!(
            self,
            Format::HhTranscript
                | Format::ImplicitPrompt
                | Format::TrlStandard
                | Format::TrlConversational
        )
    }

    /// Whether this layout recognises the record's fields.
    pub fn detects(self, object: &Map<String, Value>) -> bool {
        match self {
            Format::HhTranscript => hh::detect(object),
            Format::ImplicitPrompt => implicit::detect(object),
            Format::TrlStandard => trl_standard::detect(object),
            Format::TrlConversational => trl_conversational::detect(object),
            Format::HhStrength => hh_strength::detect(object),
            Format::StackExchange => stack_exchange::detect(object),
            Format::Shp => shp::detect(object),
            Format::Summarize => summarize::detect(object),
            Format::PkuSafe => pku_safe::detect(object),
            Format::UltraFeedback => ultrafeedback::detect(object),
            Format::Nectar => nectar::detect(object),
        }
    }

    fn parse(
        self,
        object: &Map<String, Value>,
        options: &ParseOptions,
        record: usize,
    ) -> Result<Parsed, String> {
        match self {
            Format::HhTranscript => hh::parse(object),
            Format::ImplicitPrompt => implicit::parse(object),
            Format::TrlStandard => trl_standard::parse(object),
            Format::TrlConversational => trl_conversational::parse(object),
            Format::HhStrength => hh_strength::parse(object),
            Format::StackExchange => stack_exchange::parse(object),
            Format::Shp => shp::parse(object),
            Format::Summarize => summarize::parse(object),
            Format::PkuSafe => pku_safe::parse(object),
            Format::UltraFeedback => ultrafeedback::parse(object, options, record),
            Format::Nectar => nectar::parse(object, options, record),
        }
    }
}

/// `Supported layouts: hh (…), …` for error messages.
pub fn supported() -> String {
    let names: Vec<String> = ALL
        .iter()
        .map(|f| format!("{} ({})", f.name(), f.shape()))
        .collect();
    format!("Supported layouts: {}.", names.join("; "))
}

/// How records become pairs beyond their own fields.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ParseOptions {
    /// Read every record in this layout instead of detecting it.
    pub format: Option<Format>,
    /// How rated multi-completion records become pairs.
    pub pairing: Pairing,
    /// Rated records: the smallest rating gap that makes a pair (equal ratings never do).
    pub min_rating_gap: f64,
    /// Seed of the random choices of [`Pairing::BestVsRandom`] (fixed, so the data do not
    /// change with a run's seed).
    pub seed: u64,
}

/// The pairs one record produced (`index` 0; the loader numbers them) and how many candidate
/// pairs it dropped as ties.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    /// The pairs.
    pub pairs: Vec<PreferencePair>,
    /// Candidate pairs dropped because their ratings were equal (or closer than the minimum).
    pub ties: usize,
}

impl Parsed {
    /// One pair with the record's other fields as metadata.
    pub fn one(prompt: String, chosen: String, rejected: String, meta: Map<String, Value>) -> Self {
        let mut pair = PreferencePair::new(0, prompt, chosen, rejected);
        pair.meta = meta;
        Self {
            pairs: vec![pair],
            ties: 0,
        }
    }
}

/// Tracks the layout of one file while its records are read.
#[derive(Clone, Debug, Default)]
pub struct Reader {
    options: ParseOptions,
    /// The layout fixed by `--format` or by the first recognised record, and that record's
    /// place (for messages).
    fixed: Option<(Format, String)>,
}

impl Reader {
    /// A reader with `options` (`options.format` fixes the layout from the start).
    pub fn new(options: ParseOptions) -> Self {
        Self {
            options,
            fixed: options.format.map(|f| (f, "--format".to_owned())),
        }
    }

    /// The layout in use, once known.
    pub fn layout(&self) -> Option<Format> {
        self.fixed.as_ref().map(|(f, _)| *f)
    }

    /// Parses one record; `record` is its ordinal and `place` names it (`line 3`) for later
    /// messages about mixed layouts.
    pub fn parse(
        &mut self,
        value: &Value,
        record: usize,
        place: &str,
    ) -> Result<(Format, Parsed), String> {
        let object = value::object(value)?;
        let format = match &self.fixed {
            Some((fixed, _)) if self.options.format.is_some() => *fixed,
            Some((fixed, from)) => {
                let seen = detect(object);
                match seen {
                    Some(f) if f == *fixed => f,
                    Some(f) if f.is_trl_family() && fixed.is_trl_family() => f,
                    Some(f) => {
                        return Err(format!(
                            "this record is in the {} layout ({}), but the file's layout, from {from}, is {} ({}). One file must use one layout: split it, or pass --format {}.",
                            f.name(),
                            f.shape(),
                            fixed.name(),
                            fixed.shape(),
                            fixed.name()
                        ));
                    }
                    None if fixed.is_trl_family() => trl_family(object)?,
                    None => *fixed,
                }
            }
            None => match detect(object) {
                Some(f) => {
                    self.fixed = Some((f, place.to_owned()));
                    f
                }
                None => trl_family(object)?,
            },
        };
        if self.options.format.is_some() && !format.detects(object) {
            let parsed = format.parse(object, &self.options, record).map_err(|e| {
                let hint = detect(object).map_or(String::new(), |f| {
                    format!(
                        " The record looks like {} (--format {}).",
                        f.label(),
                        f.name()
                    )
                });
                format!("with --format {}: {e}{hint}", format.name())
            })?;
            return Ok((format, parsed));
        }
        Ok((format, format.parse(object, &self.options, record)?))
    }
}

/// The first layout (in [`ALL`]'s order) that recognises the record.
pub fn detect(object: &Map<String, Value>) -> Option<Format> {
    ALL.into_iter().find(|f| f.detects(object))
}

/// A record no layout recognises: in the TRL family when it has `chosen`/`rejected`/`prompt`
/// (then the error says which field is wrong), otherwise an unknown layout.
fn trl_family(object: &Map<String, Value>) -> Result<Format, String> {
    if !["chosen", "rejected", "prompt"]
        .iter()
        .any(|k| object.contains_key(*k))
    {
        return Err(format!(
            "unknown layout: the record has {}. {} Name one with --format NAME, or rename the \
             fields.",
            value::keys_seen(object),
            supported()
        ));
    }
    const TRL: &str = "Expected HH-RLHF ({\"chosen\",\"rejected\"} transcripts), TRL standard \
         ({\"prompt\",\"chosen\",\"rejected\"} strings) or TRL conversational (lists of \
         {\"role\",\"content\"}).";
    let missing = |field: &str| {
        format!(
            "missing field \"{field}\". {TRL} The record has {}.",
            value::keys_seen(object)
        )
    };
    let chosen = object.get("chosen").ok_or_else(|| missing("chosen"))?;
    let rejected = object.get("rejected").ok_or_else(|| missing("rejected"))?;
    let is_text_or_list = |v: &Value| matches!(v, Value::String(_) | Value::Array(_));
    Err(match (chosen, rejected) {
        // Their own parsers name what is wrong (a marker on one side only, an empty list).
        (Value::String(_), Value::String(_)) if hh::no_prompt(object) => {
            return Ok(Format::ImplicitPrompt);
        }
        (Value::Array(_), Value::Array(_)) => return Ok(Format::TrlConversational),
        (Value::String(_), Value::String(_)) => format!(
            "field \"prompt\" is {}; with string \"chosen\" and \"rejected\" it must be a string \
             (TRL standard) or absent (HH-RLHF transcripts).",
            object.get("prompt").map_or("absent", kind)
        ),
        (c, r) if is_text_or_list(c) && is_text_or_list(r) => format!(
            "field \"chosen\" is {} but \"rejected\" is {}; both must be strings or both lists \
             of {{\"role\",\"content\"}} messages.",
            kind(c),
            kind(r)
        ),
        (c, r) => {
            let (field, value) = if is_text_or_list(c) {
                ("rejected", r)
            } else {
                ("chosen", c)
            };
            format!(
                "field \"{field}\" is {}; expected a string or a list of \
                 {{\"role\",\"content\"}} messages.",
                kind(value)
            )
        }
    })
}
