//! Browser entry point: WebGPU compute (CPU fallback), eframe drawn with glow (WebGL2), the run
//! state in the URL as a short link (`#preset=strength&models=4`, see [`crate::experiment::link`];
//! the older `?config=<json>` still reads), and a DOM/console marker per event for page tests.
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::app::RlhfApp;
use crate::compute::init_web;
use crate::experiment::{Event, link};
use crate::page::status_element;

/// The page's query and fragment, split and decoded (the fragment's keys come last and win).
fn link_params() -> Vec<(String, String)> {
    let location = web_sys::window().map(|w| w.location());
    let part = |f: fn(&web_sys::Location) -> Result<String, JsValue>| {
        location
            .as_ref()
            .and_then(|l| f(l).ok())
            .unwrap_or_default()
    };
    let mut params = link::split(&part(web_sys::Location::search));
    params.extend(link::split(&part(web_sys::Location::hash)));
    params
}

/// Write a line to the status element and the console (what page tests read), with the units of
/// work done in `data-step`.
fn mark(text: &str, step: usize) {
    mark_text(text);
    if let Some(el) = status_element() {
        let _ = el.set_attribute("data-step", &step.to_string());
        // Where the time went: inside the run's steps, and in the page's turns.
        let busy = crate::app::controller::busy_ms();
        let _ = el.set_attribute("data-busy-ms", &format!("{busy:.0}"));
        let away = crate::compute::away_ms();
        let _ = el.set_attribute("data-away-ms", &format!("{away:.0}"));
    }
}

/// Set the marker's `data-state` (`idle`, `running`, `done` or `error`) and, for an error, its
/// message in `data-error` (removed otherwise), so tests and tools read the page's state.
fn mark_state(state: &str, error: Option<&str>) {
    if let Some(el) = status_element() {
        let _ = el.set_attribute("data-state", state);
        match error {
            Some(message) => {
                let _ = el.set_attribute("data-error", message);
            }
            None => {
                let _ = el.remove_attribute("data-error");
            }
        }
    }
}

/// Mark the page as failed with `message` (text, state and message).
fn mark_error(message: &str) {
    mark_text(&format!("error: {message}"));
    mark_state("error", Some(message));
}

/// Write a line to the status element and the console, leaving `data-step` as it is.
fn mark_text(text: &str) {
    web_sys::console::log_1(&format!("rlhf-lab: {text}").into());
    if let Some(el) = status_element() {
        el.set_text_content(Some(text));
    }
}

/// The status marker follows the run lifecycle only: every kind of experiment reports through it
/// the same way (`progress d/t`, then `done <summary>` or `error: …`).
fn event_marker(event: &Event) {
    match event {
        Event::Started {
            backend, adapter, ..
        } => {
            mark(&format!("started backend={backend} adapter={adapter}"), 0);
            mark_state("running", None);
            if let Some(el) = status_element() {
                let _ = el.set_attribute("data-backend", backend);
            }
        }
        Event::Progress { done, total } => mark(&format!("progress {done}/{total}"), *done),
        Event::Notice { message } => {
            web_sys::console::log_1(&format!("rlhf-lab notice: {message}").into())
        }
        Event::Error { message } => mark_error(message),
        Event::Finished { summary, .. } => {
            mark_text(&format!("done {summary}"));
            mark_state("done", None);
        }
        Event::Job { .. } | Event::Kind(_) => {}
    }
}

/// Put the link in the address bar (as its fragment, so the page does not reload) and the
/// preset on the status marker.
fn write_link(link: &str, preset: &str) {
    if let Some(w) = web_sys::window()
        && let Ok(history) = w.history()
    {
        let path = w.location().pathname().unwrap_or_default();
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}#{link}")));
    }
    if let Some(el) = status_element() {
        let _ = el.set_attribute("data-preset", preset);
    }
}

/// The page's address without query or fragment (what Copy link puts the link after).
fn page_address() -> Option<String> {
    let location = web_sys::window()?.location();
    Some(format!(
        "{}{}",
        location.origin().ok()?,
        location.pathname().ok()?
    ))
}

fn has_webgpu() -> bool {
    web_sys::window()
        .map(|w| {
            let gpu =
                js_sys::Reflect::get(&w.navigator(), &"gpu".into()).unwrap_or(JsValue::UNDEFINED);
            !gpu.is_undefined() && !gpu.is_null()
        })
        .unwrap_or(false)
}

/// Start the web app.
pub fn start() {
    console_error_panic_hook::set_once();
    // The link: a lesson preset and knobs over it (the rm tab's lesson when it names none).
    let link = link::read(&link_params());
    let mut app = RlhfApp::new(link.config, None);
    app.shell.presets.insert(app.shell.tab, link.preset.clone());
    app.shell.notes.extend(link.note);
    let mut errors = link.errors;
    if let Err(e) = app.set_hidden(&link.hide) {
        errors.push(e);
    }
    if !errors.is_empty() {
        // A bad link never starts a run in its place; the banner and the marker say why.
        mark_error(&format!("the link is not valid: {}", errors.join("; ")));
        app.shell.errors.extend(errors);
    }
    app.shell.autostart = link.autostart && app.shell.errors.is_empty();
    app.shell.link_autostart = link.autostart;
    app.shell.page = page_address();
    app.shell.on_event = Some(Box::new(event_marker));
    app.shell.on_link = Some(Box::new(write_link));
    let slot = app.shell.compute.clone();
    let backend = app.shell.run.backend;
    wasm_bindgen_futures::spawn_local(async move {
        let compute = init_web(backend, has_webgpu()).await;
        let ready = format!(
            "compute ready backend={} adapter={}",
            compute.backend_name(),
            compute.adapter
        );
        // An error already on the marker (a bad link) stays until the page is left.
        let failed = status_element()
            .and_then(|e| e.get_attribute("data-state"))
            .is_some_and(|s| s == "error");
        if failed {
            web_sys::console::log_1(&format!("rlhf-lab: {ready}").into());
        } else {
            mark(&ready, 0);
        }
        if let Some(n) = &compute.notice {
            web_sys::console::log_1(&format!("rlhf-lab notice: {n}").into());
        }
        if let Ok(mut g) = slot.lock() {
            *g = Some(compute);
        }
    });
    wasm_bindgen_futures::spawn_local(async move {
        let Some(canvas) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("the_canvas_id"))
            .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            mark_error("no <canvas id=\"the_canvas_id\"> in the page");
            return;
        };
        // glow (WebGL2) draws the UI; burn computes on WebGPU. eframe's WebGPU canvas fails in
        // headless browsers and would share (and can lose) the compute device.
        let options = eframe::WebOptions {
            renderer: eframe::Renderer::Glow,
            ..Default::default()
        };
        let result = eframe::WebRunner::new()
            .start(canvas, options, Box::new(move |_cc| Ok(Box::new(app))))
            .await;
        if let Err(e) = result {
            mark_error(&format!("the UI could not start: {e:?}"));
        }
    });
}
