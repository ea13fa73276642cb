//! Static files, compiled into the binary so a deployment is one file and no working-directory
//! assumption can break the styling.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use super::errors::AppError;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/app.css"),
    },
    Asset {
        path: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/app.js"),
    },
];

#[get("/static/{path}")]
async fn asset(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.path == path.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(asset.body))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(asset);
}
