//! Contacts: the addresses a user keeps and sends campaigns to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{clients, contacts, groups, users};
use super::{DbConnection, now};
use crate::domain::rights::ContactsVisible;
use crate::domain::{ClientId, ContactId, EmailAddress, GroupId, Sender, UserId};
use crate::on_each_backend;

pub struct NewContact<'a> {
    pub owner_user_id: UserId,
    pub client_id: ClientId,
    pub group_id: GroupId,
    pub email: &'a EmailAddress,
    pub name: &'a str,
}

/// A contact with the names of its owner, client and group, for pages.
#[derive(Debug, Clone)]
pub struct Contact {
    pub id: ContactId,
    pub owner: Sender,
    pub email: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub owner_name: String,
    pub client_name: String,
    pub group_name: String,
}

/// A contact as [`with_names`] selects it, in that order.
#[derive(Queryable)]
struct ContactRow {
    id: ContactId,
    owner_user_id: UserId,
    client_id: ClientId,
    group_id: GroupId,
    email: String,
    name: String,
    created_at: NaiveDateTime,
    owner_name: String,
    client_name: String,
    group_name: String,
}

impl From<ContactRow> for Contact {
    fn from(row: ContactRow) -> Self {
        Contact {
            id: row.id,
            owner: Sender {
                user_id: row.owner_user_id,
                client_id: row.client_id,
                group_id: row.group_id,
            },
            email: row.email,
            name: row.name,
            created_at: row.created_at,
            owner_name: row.owner_name,
            client_name: row.client_name,
            group_name: row.group_name,
        }
    }
}

/// Where a keyset page starts: after this (address, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCursor {
    pub email: String,
    pub id: ContactId,
}

/// Adds the contact unless its owner already has that address; returns its id when added.
pub fn insert_if_absent(
    conn: &mut DbConnection,
    new: &NewContact<'_>,
) -> QueryResult<Option<ContactId>> {
    let values = (
        contacts::owner_user_id.eq(new.owner_user_id),
        contacts::client_id.eq(new.client_id),
        contacts::group_id.eq(new.group_id),
        contacts::email.eq(new.email.as_str()),
        contacts::name.eq(new.name),
        contacts::created_at.eq(now()),
    );
    on_each_backend!(conn, |c| diesel::insert_into(contacts::table)
        .values(values)
        .on_conflict_do_nothing()
        .returning(contacts::id)
        .get_result::<ContactId>(c)
        .optional())
}

/// The contact with its names, whoever may see it (callers check the rights).
pub fn find(conn: &mut DbConnection, id: ContactId) -> QueryResult<Option<Contact>> {
    with_names()
        .filter(contacts::id.eq(id))
        .first::<ContactRow>(conn)
        .optional()
        .map(|row| row.map(Contact::from))
}

/// The addresses of several contacts, in one query.
pub fn emails(
    conn: &mut DbConnection,
    ids: &[ContactId],
) -> QueryResult<std::collections::HashMap<ContactId, String>> {
    contacts::table
        .filter(contacts::id.eq_any(ids))
        .select((contacts::id, contacts::email))
        .load::<(ContactId, String)>(conn)
        .map(|rows| rows.into_iter().collect())
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends (PostgreSQL's LIKE is case-sensitive).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// One keyset page of the contacts a person sees, ordered by address, optionally filtered by a
/// search in the address or the name. Returns up to `limit` contacts.
pub fn page(
    conn: &mut DbConnection,
    visible: ContactsVisible,
    search: Option<&str>,
    after: Option<&ContactCursor>,
    limit: i64,
) -> QueryResult<Vec<Contact>> {
    let mut query = with_names().into_boxed();
    query = match visible {
        ContactsVisible::OwnedBy(user) => query.filter(contacts::owner_user_id.eq(user)),
        ContactsVisible::InClient(client) => query.filter(contacts::client_id.eq(client)),
        ContactsVisible::InGroup(group) => query.filter(contacts::group_id.eq(group)),
        ContactsVisible::Everywhere => query,
        ContactsVisible::Nothing => return Ok(Vec::new()),
    };
    if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
        let (address, name) = search_patterns(term);
        query = query.filter(
            contacts::email
                .like(address)
                .escape('\\')
                .or(lower(contacts::name).like(name).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(
            contacts::email.gt(after.email.clone()).or(contacts::email
                .eq(after.email.clone())
                .and(contacts::id.gt(after.id))),
        );
    }
    query
        .order((contacts::email.asc(), contacts::id.asc()))
        .limit(limit)
        .load::<ContactRow>(conn)
        .map(|rows| rows.into_iter().map(Contact::from).collect())
}

/// LIKE patterns for a search typed by staff: for the address (stored with an ASCII domain,
/// so `müller` looks for `xn--mller-kva`) and for the name (as typed).
pub fn search_patterns(term: &str) -> (String, String) {
    let address = EmailAddress::search_in_stored_form(term);
    (like_pattern(&address), like_pattern(term))
}

/// A case-insensitive "contains" pattern for LIKE on lower-cased columns.
pub fn like_pattern(term: &str) -> String {
    format!("%{}%", escape_like(&term.trim().to_lowercase()))
}

/// `%`, `_` and `\` typed by a person match themselves, not any text.
pub fn escape_like(term: &str) -> String {
    let mut escaped = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[allow(clippy::type_complexity)]
fn with_names() -> diesel::dsl::Select<
    diesel::dsl::InnerJoin<
        diesel::dsl::InnerJoin<
            diesel::dsl::InnerJoin<contacts::table, users::table>,
            clients::table,
        >,
        groups::table,
    >,
    (
        contacts::id,
        contacts::owner_user_id,
        contacts::client_id,
        contacts::group_id,
        contacts::email,
        contacts::name,
        contacts::created_at,
        users::display_name,
        clients::name,
        groups::name,
    ),
> {
    contacts::table
        .inner_join(users::table)
        .inner_join(clients::table)
        .inner_join(groups::table)
        .select((
            contacts::id,
            contacts::owner_user_id,
            contacts::client_id,
            contacts::group_id,
            contacts::email,
            contacts::name,
            contacts::created_at,
            users::display_name,
            clients::name,
            groups::name,
        ))
}

pub fn count_in_group(conn: &mut DbConnection, group_id: GroupId) -> QueryResult<i64> {
    contacts::table
        .filter(contacts::group_id.eq(group_id))
        .count()
        .get_result(conn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_typed_by_people_are_literal() {
        assert_eq!(super::escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}
