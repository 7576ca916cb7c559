//! The page's status marker (`#rlhf-status`), which page tests and tools read: the browser entry
//! point ([`crate::web`]) writes the run's state there, and the app layer its downloads. A module
//! of its own below both, so the app never imports the entry point.

/// The page's status marker, if the page has one.
pub fn status_element() -> Option<web_sys::Element> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("rlhf-status"))
}

/// Name the file the page last handed out as a download, with its size, on the marker's
/// `data-saved` (`NAME BYTES`), so tests and tools can see an export happen.
pub fn mark_saved(name: &str, bytes: usize) {
    if let Some(el) = status_element() {
        let _ = el.set_attribute("data-saved", &format!("{name} {bytes}"));
    }
}
