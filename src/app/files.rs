//! Files the user opens and saves from the app: natively through the file dialog, in the browser
//! as a download. The result lands in a slot the app polls (`Ok` holds what to say or the text).
use super::{Slot, put_slot, spawn_work};

/// Ask where to save `bytes` (natively) or download them as `name` (browser); the slot gets a
/// line saying where they went, or why not.
pub fn save_bytes(name: &str, bytes: Vec<u8>, done: Slot<Result<String, String>>) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let dialog = rfd::AsyncFileDialog::new()
            .set_file_name(name)
            .set_title("Save as");
        spawn_work(async move {
            let Some(f) = dialog.save_file().await else {
                return;
            };
            let path = f.path().to_path_buf();
            let result = std::fs::write(&path, bytes)
                .map(|_| format!("saved {}", path.display()))
                .map_err(|e| format!("could not write {}: {e}", path.display()));
            put_slot(&done, result);
        });
    }
    #[cfg(target_arch = "wasm32")]
    {
        put_slot(
            &done,
            download(name, &bytes).map(|_| format!("downloaded {name}")),
        );
    }
}

/// Ask for a folder (natively) and write `files` into a new folder `name` inside it; the slot
/// gets a line saying where they went, or why not.
#[cfg(not(target_arch = "wasm32"))]
pub fn save_folder(
    name: &str,
    files: Vec<crate::recipe::RecipeFile>,
    done: Slot<Result<String, String>>,
) {
    let dialog = rfd::AsyncFileDialog::new().set_title(format!("Write {name} into…"));
    let name = name.to_string();
    spawn_work(async move {
        let Some(parent) = dialog.pick_folder().await else {
            return;
        };
        let dir = parent.path().join(&name);
        let result = crate::recipe::write_folder(&files, &dir)
            .map(|_| format!("wrote {} (start with its README.md)", dir.display()));
        put_slot(&done, result);
    });
}

/// Hand `bytes` to the browser as a file download called `name`.
#[cfg(target_arch = "wasm32")]
fn download(name: &str, bytes: &[u8]) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let fail = |e: wasm_bindgen::JsValue| format!("the browser refused the download ({e:?})");
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no page to download from")?;
    let a = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .map_err(|_| "no link element".to_string())?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    crate::page::mark_saved(name, bytes.len());
    Ok(())
}

/// Open a text file (native: the file dialog; browser: the file picker); the slot gets its text.
pub fn open_text(title: &str, extensions: &[&str], done: Slot<Result<String, String>>) {
    let dialog = rfd::AsyncFileDialog::new()
        .add_filter("config", extensions)
        .set_title(title);
    spawn_work(async move {
        let Some(f) = dialog.pick_file().await else {
            return;
        };
        let bytes = f.read().await;
        let name = f.file_name();
        put_slot(
            &done,
            String::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8 text")),
        );
    });
}
