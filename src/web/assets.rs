//! The page's files, compiled into the binary: nothing else is served.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Name, content type, contents.
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
];

pub async fn index() -> Response {
    serve("index.html")
}

pub async fn file(Path(name): Path<String>) -> Response {
    serve(&name)
}

fn serve(name: &str) -> Response {
    let Some((_, kind, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    // While working on the page (debug builds only), its files can be read
    // from the source tree instead, so a reload shows an edit.
    #[cfg(debug_assertions)]
    if let Some(dir) = std::env::var_os("COMMANDER_WEB_ASSETS") {
        if let Ok(text) = std::fs::read_to_string(std::path::Path::new(&dir).join(name)) {
            return ([(header::CONTENT_TYPE, *kind)], text).into_response();
        }
    }
    ([(header::CONTENT_TYPE, *kind)], *body).into_response()
}
