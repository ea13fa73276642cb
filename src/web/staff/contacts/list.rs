//! `GET /contacts`: the contacts the person may see, keyset pages ordered by address.

use actix_web::{get, web};
use askama::Template;
use askama_web::WebTemplate;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::view::{self, LevelChoice, OptInOffer};
use crate::db::contacts::{self, Contact, ContactCursor};
use crate::db::opt_outs;
use crate::domain::rights::Access;
use crate::domain::rights::ContactsVisible;
use crate::domain::{ContactId, EmailAddress, Level, Person, rights};
use crate::web::errors::AppError;
use crate::web::keyset;
use crate::web::layout::{Area, Chrome};
use crate::web::search::search_term;
use crate::web::session::SignedIn;
use crate::web::state::AppState;

pub const PAGE_SIZE: usize = 50;
/// Longer searches are cut: nobody types more, and it bounds the LIKE pattern.

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

pub struct ContactRowView {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub owner: String,
    pub badge: Option<String>,
    pub choices: Vec<LevelChoice>,
    pub opt_in: Option<OptInOffer>,
}

/// What the add-contact form shows again after a refused submission.
#[derive(Default)]
pub struct AddForm {
    pub email: String,
    pub name: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/list.html")]
pub struct ContactsPage {
    pub chrome: Chrome,
    pub rows: Vec<ContactRowView>,
    pub search: String,
    pub next_cursor: Option<String>,
    pub is_later_page: bool,
    pub show_owner: bool,
    pub can_add: bool,
    pub add_form: AddForm,
    pub read_only: bool,
}

#[get("/contacts")]
pub async fn list(
    signed_in: SignedIn,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<ContactsPage, AppError> {
    let query = query.into_inner();
    let after = query.after.as_deref().map(decode_cursor).transpose()?;
    let search = search_term(query.q.as_deref())?;
    render(&state, &signed_in, search, after, AddForm::default()).await
}

/// Builds the page; also used to show the add-contact form again with its error.
pub async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    search: String,
    after: Option<ContactCursor>,
    add_form: AddForm,
) -> Result<ContactsPage, AppError> {
    let person = signed_in.person();
    let visible = rights::visible_contacts(&person);
    let is_later_page = after.is_some();
    let term = search.clone();
    let (mut page, suppressed, requests) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let page = contacts::page(
                conn,
                visible,
                Some(term.as_str()),
                after.as_ref(),
                PAGE_SIZE as i64 + 1,
            )?;
            let ids: Vec<ContactId> = page.iter().map(|c| c.id).collect();
            let suppressed = opt_outs::broadest_for_contacts(conn, &ids)?;
            let requests = last_requests(conn, &page, &suppressed)?;
            Ok((page, suppressed, requests))
        })
        .await?;
    let next_cursor = keyset::last_before_next_page(&mut page, PAGE_SIZE).map(encode_cursor);
    let rows = page
        .iter()
        .map(|contact| {
            let last_request = requests.get(&contact.id);
            row_view(
                &person,
                contact,
                suppressed.get(&contact.id).copied(),
                last_request,
            )
        })
        .collect();
    Ok(ContactsPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Contacts),
        rows,
        search,
        next_cursor,
        is_later_page,
        show_owner: rights::sees_other_senders(&person),
        can_add: rights::may_add_contacts(&person),
        add_form,
        read_only: rights::visible_contacts(&person) == ContactsVisible::Everywhere,
    })
}

/// When the last opt-in request about its owner's mail went to each suppressed contact on the
/// page: one query for the page, whatever its owners.
fn last_requests(
    conn: &mut crate::db::DbConnection,
    page: &[Contact],
    suppressed: &std::collections::HashMap<ContactId, Level>,
) -> diesel::QueryResult<std::collections::HashMap<ContactId, chrono::NaiveDateTime>> {
    let asked: Vec<&Contact> = page
        .iter()
        .filter(|c| suppressed.contains_key(&c.id))
        .collect();
    let emails: Vec<String> = asked.iter().map(|c| c.email.clone()).collect();
    let sent = crate::db::consent_events::last_opt_in_requests_about(conn, &emails)?;
    Ok(asked
        .into_iter()
        .filter_map(|c| {
            let at = sent.get(&(c.email.clone(), c.owner.user_id))?;
            Some((c.id, *at))
        })
        .collect())
}

fn row_view(
    person: &Person,
    contact: &Contact,
    suppressed: Option<Level>,
    last_request: Option<&chrono::NaiveDateTime>,
) -> ContactRowView {
    let may_request = rights::may_request_opt_in(person, &contact.owner) == Access::Allowed;
    let allowed = rights::manual_opt_out_levels(person, &contact.owner);
    let offered = view::offered_levels(&allowed, suppressed);
    ContactRowView {
        id: contact.id.0,
        name: contact.name.clone(),
        email: EmailAddress::to_unicode_display(&contact.email),
        owner: format!("{} · {}", contact.owner_name, contact.client_name),
        badge: suppressed.map(view::badge),
        choices: view::level_choices(contact, &offered),
        opt_in: view::opt_in_offer(may_request, suppressed, last_request),
    }
}

/// The cursor is opaque to the browser: base64url of "id:address".
fn encode_cursor(contact: &Contact) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", contact.id.0, contact.email))
}

fn decode_cursor(raw: &str) -> Result<ContactCursor, AppError> {
    let bad = || {
        AppError::BadRequest("That page link is damaged. Start again from the first page.".into())
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (id, email) = text.split_once(':').ok_or_else(bad)?;
    Ok(ContactCursor {
        email: email.to_owned(),
        id: ContactId(id.parse().map_err(|_| bad())?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_cursors_are_a_bad_request() {
        for raw in ["!!!", "bm9jb2xvbg", "eDph"] {
            assert!(
                matches!(decode_cursor(raw), Err(AppError::BadRequest(_))),
                "{raw}"
            );
        }
        let cursor = decode_cursor(&URL_SAFE_NO_PAD.encode("42:a:b@example.com")).unwrap();
        assert_eq!(cursor.id, ContactId(42));
        assert_eq!(cursor.email, "a:b@example.com");
    }
}
