//! Admin › Activity › Opt outs › Import: a CSV file's dry run, then its commit.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use futures_util::StreamExt;

use crate::domain::rights;
use crate::service::import::{self, ImportOptOuts, import_opt_outs};
use crate::service::{Actor, ServiceError};
use crate::web::csrf::tokens_match;
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::session::SignedIn;
use crate::web::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "activity/import.html")]
pub struct ImportPage {
    chrome: Chrome,
    group_name: String,
    error: Option<String>,
    preview: Option<ImportPreview>,
    added: Option<usize>,
}

pub struct ImportPreview {
    pub file_name: String,
    pub csv_text: String,
    pub to_add: usize,
    pub already_present: usize,
    pub invalid: Vec<(usize, String)>,
}

fn import_scope(signed_in: &SignedIn) -> Result<crate::domain::GroupId, AppError> {
    rights::opt_out_import_group(&signed_in.person()).ok_or(AppError::NotFound)
}

#[get("/admin/activity/opt-outs/import")]
pub(super) async fn import_form(signed_in: SignedIn) -> Result<ImportPage, AppError> {
    import_scope(&signed_in)?;
    Ok(import_page(&signed_in, None, None, None))
}

fn import_page(
    signed_in: &SignedIn,
    error: Option<String>,
    preview: Option<ImportPreview>,
    added: Option<usize>,
) -> ImportPage {
    ImportPage {
        chrome: Chrome::signed_in(
            &signed_in.account,
            signed_in.csrf_token(),
            Area::ActivityOptOuts,
        ),
        group_name: signed_in.account.group_name.clone().unwrap_or_default(),
        error,
        preview,
        added,
    }
}

/// `POST /admin/activity/opt-outs/import` (multipart): `mode=preview` with a file shows the
/// dry run; `mode=commit` with the previewed text applies it.
#[post("/admin/activity/opt-outs/import")]
pub(super) async fn import_submit(
    signed_in: SignedIn,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let group = import_scope(&signed_in)?;
    let fields = read_upload(&req, payload).await?;
    let field = |name: &str| fields.iter().find(|f| f.name == name);
    let text = |name: &str| {
        field(name)
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default()
    };
    if !tokens_match(
        field("csrf_token")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .as_deref(),
        signed_in.csrf_token(),
    ) {
        return Err(AppError::CsrfRejected);
    }
    let (bytes, file_name) = match text("mode").as_str() {
        "commit" => (text("csv_text").into_bytes(), text("file_name")),
        _ => match field("file") {
            Some(file) if !file.data.is_empty() => (
                file.data.clone(),
                file.file_name
                    .clone()
                    .unwrap_or_else(|| "upload.csv".into()),
            ),
            _ => {
                return respond(
                    &req,
                    import_page(
                        &signed_in,
                        Some("Choose a CSV file to import.".into()),
                        None,
                        None,
                    ),
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
        },
    };
    let asked = ImportOptOuts {
        csv: bytes.clone(),
        file_name: file_name.clone(),
        commit: text("mode") == "commit",
    };
    let actor = Actor::signed_in(signed_in.person());
    let report = match import_opt_outs(&state.services, &actor, asked).await {
        Ok(report) => report,
        Err(ServiceError::Invalid(message)) => {
            return respond(
                &req,
                import_page(&signed_in, Some(message), None, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(other) => return Err(other.into()),
    };
    if let Some(added) = report.added {
        tracing::info!(group = %group, added, "opt-outs imported");
        return respond(
            &req,
            import_page(&signed_in, None, None, Some(added)),
            StatusCode::OK,
        );
    }
    let preview = ImportPreview {
        file_name,
        csv_text: String::from_utf8_lossy(&bytes).into_owned(),
        to_add: report.to_add,
        already_present: report.already_present,
        invalid: report.invalid,
    };
    respond(
        &req,
        import_page(&signed_in, None, Some(preview), None),
        StatusCode::OK,
    )
}

fn respond(
    req: &HttpRequest,
    page: ImportPage,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut response = page.respond_to(req).map_into_boxed_body();
    *response.status_mut() = status;
    Ok(response)
}

struct UploadField {
    name: String,
    file_name: Option<String>,
    data: Vec<u8>,
}

/// Reads the multipart form, refusing more than the import limit (413).
async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<UploadField>, AppError> {
    let unreadable = || AppError::BadRequest("The upload could not be read. Try again.".into());
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
    let mut fields = Vec::new();
    let mut total = 0usize;
    let limit = import::MAX_FILE_BYTES * 2 + 64 * 1024;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if total > limit {
                return Err(AppError::PayloadTooLarge);
            }
            data.extend_from_slice(&chunk);
        }
        fields.push(UploadField {
            name,
            file_name,
            data,
        });
    }
    Ok(fields)
}
