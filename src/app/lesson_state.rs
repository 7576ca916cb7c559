//! The app's lesson and file state: loading lesson presets and config files, the link of what is
//! shown, panels hidden for a lesson, and the files it saves (exports, reports, configs).
use super::{RlhfApp, export, put_slot, take_slot};
use crate::compute::Compute;
use crate::experiment::{Event, RunConfig, link, presets};

/// What a lesson can hide (`hide=` in a link): the settings column, the tab bar, the lesson
/// box at the top of each tab, the dataset settings, and "Look at the data".
pub const HIDEABLE: [&str; 5] = ["settings", "tabs", "lesson", "dataset", "data"];

impl RlhfApp {
    /// The app on the lesson preset `name` (`gui --preset`, the default page).
    pub fn with_preset(name: &str, compute: Option<Compute>) -> Result<Self, String> {
        let mut app = Self::new(RunConfig::default(), compute);
        app.load_preset(name)?;
        Ok(app)
    }

    /// Load the lesson preset `name`: its data, seed and knobs, and show its tab.
    pub fn load_preset(&mut self, name: &str) -> Result<(), String> {
        let preset = presets::find(name)?;
        let config = preset.run_config()?;
        self.load_config(config);
        let tab = self.shell.tab;
        self.shell.presets.insert(tab, preset.name);
        Ok(())
    }

    /// Load a config file's text (a partial config merges over its tab's preset).
    pub fn load_config_text(&mut self, json: &str) -> Result<(), String> {
        let (preset, parsed) = presets::over_preset(json)?;
        self.load_config(parsed.config);
        self.shell.notes.extend(parsed.note);
        let tab = self.shell.tab;
        self.shell.presets.insert(tab, preset);
        Ok(())
    }

    /// Hide controls and panels for a lesson; an unknown name is an error listing the known.
    pub fn set_hidden(&mut self, names: &[String]) -> Result<(), String> {
        for n in names {
            if !HIDEABLE.contains(&n.as_str()) {
                return Err(format!(
                    "hide={n}: unknown; use any of {}",
                    HIDEABLE.join(",")
                ));
            }
        }
        self.shell.hidden = names.to_vec();
        Ok(())
    }

    /// The lesson preset of the tab shown.
    pub fn preset(&self) -> &str {
        self.shell
            .presets
            .get(self.shell.tab)
            .map_or(self.shell.tab, String::as_str)
    }

    /// The link of what is shown: `preset=…` and the knobs that differ from it.
    pub fn link(&self) -> String {
        let config = self.run_config();
        link::write(
            self.preset(),
            &config,
            self.shell.link_autostart,
            &self.shell.hidden,
        )
    }

    /// Save what charts and buttons asked to export: files at once, pictures once the screen
    /// is grabbed.
    pub(super) fn handle_exports(&mut self, ctx: &egui::Context) {
        // The shortcut works wherever the button is, or is hidden for a lesson.
        if ctx.input_mut(|i| i.consume_shortcut(&super::lesson::PNG_SHORTCUT)) {
            super::lesson::request_tab_png(ctx, &self.shell);
        }
        for e in export::take(ctx) {
            match e {
                export::Export::File { name, bytes } => self.shell.save(&name, bytes),
                export::Export::Png { name, rect } => {
                    let slot = self.shell.shot.clone();
                    let ppp = ctx.pixels_per_point();
                    let waker = ctx.clone();
                    let callback = egui::ScreenshotCallback::new(move |image| {
                        put_slot(&slot, (name, export::png(&image, rect, ppp)));
                        waker.request_repaint();
                    });
                    ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(callback));
                    ctx.request_repaint();
                }
            }
        }
    }

    /// Fold in what background file work left: a config file picked, where a saved file went, a
    /// screen grab cut for a PNG.
    pub(super) fn poll_files(&mut self) {
        match take_slot(&self.shell.picked_config) {
            Some(Ok(json)) => {
                if let Err(e) = self.load_config_text(&json) {
                    self.shell
                        .errors
                        .push(format!("the config file was not loaded: {e}"));
                }
            }
            Some(Err(e)) => self.shell.errors.push(e),
            None => {}
        }
        match take_slot(&self.shell.saved) {
            Some(Ok(line)) => self.shell.notes.push(line),
            Some(Err(e)) => self.shell.errors.push(e),
            None => {}
        }
        match take_slot(&self.shell.shot) {
            Some((name, Ok(bytes))) => self.shell.save(&name, bytes),
            Some((name, Err(e))) => self.shell.errors.push(format!("{name}: {e}")),
            None => {}
        }
    }
}

/// Whether `event` is a run's report (its kind's closing event).
pub(super) fn is_report(event: &Event) -> bool {
    event
        .kind()
        .is_some_and(crate::experiment::KindEvent::is_report)
}
