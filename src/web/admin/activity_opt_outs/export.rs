//! `GET /admin/activity/opt-outs.csv`: the list page's rows as CSV.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDateTime;

use super::{ListQuery, filter_of, rows_page, scope_for};
use crate::service::export;
use crate::web::errors::AppError;
use crate::web::session::SignedIn;
use crate::web::state::AppState;

const EXPORT_CHUNK: i64 = 2_000;

/// `GET /admin/activity/opt-outs.csv`: the filtered list, streamed page by page so memory
/// stays flat however many rows there are.
#[get("/admin/activity/opt-outs.csv")]
pub(super) async fn export_csv(
    signed_in: SignedIn,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (scope, _) = scope_for(&state, &signed_in.person(), query.group).await?;
    let filter = filter_of(&query)?;
    let lifted = query.lifted();
    let state = state.into_inner();
    struct Cursor {
        after: Option<(NaiveDateTime, i64)>,
        first: bool,
        done: bool,
    }
    let start = Cursor {
        after: None,
        first: true,
        done: false,
    };
    let body = futures_util::stream::unfold(start, move |cursor| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            if cursor.done {
                return None;
            }
            let after = cursor.after;
            let rows = state
                .db(move |conn| rows_page(conn, lifted, scope, &filter, after, EXPORT_CHUNK))
                .await;
            let rows = match rows {
                Ok(rows) => rows,
                Err(error) => {
                    return Some((
                        Err(actix_web::Error::from(error)),
                        Cursor {
                            done: true,
                            ..cursor
                        },
                    ));
                }
            };
            let write = if lifted {
                export::lifted_csv_chunk
            } else {
                export::csv_chunk
            };
            let chunk = write(&rows, cursor.first)
                .map(web::Bytes::from)
                .map_err(|e| actix_web::Error::from(AppError::internal(e)));
            let next = Cursor {
                after: rows.last().map(|r| (r.created_at, r.id.keyset_value())),
                first: false,
                done: (rows.len() as i64) < EXPORT_CHUNK,
            };
            Some((chunk, next))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"opt-outs.csv\"",
        ))
        .streaming(body))
}
