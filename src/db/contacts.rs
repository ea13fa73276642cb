//! Contacts: the addresses a user keeps and sends campaigns to.

use diesel::prelude::*;

use super::schema::contacts;
use super::{DbConnection, now};
use crate::domain::{ClientId, EmailAddress, GroupId, UserId};
use crate::on_each_backend;

pub struct NewContact<'a> {
    pub owner_user_id: UserId,
    pub client_id: ClientId,
    pub group_id: GroupId,
    pub email: &'a EmailAddress,
    pub name: &'a str,
}

/// Adds the contact unless its owner already has that address; returns whether it was added.
pub fn insert_if_absent(conn: &mut DbConnection, new: &NewContact<'_>) -> QueryResult<bool> {
    let values = (
        contacts::owner_user_id.eq(new.owner_user_id.0),
        contacts::client_id.eq(new.client_id.0),
        contacts::group_id.eq(new.group_id.0),
        contacts::email.eq(new.email.as_str()),
        contacts::name.eq(new.name),
        contacts::created_at.eq(now()),
    );
    let inserted = on_each_backend!(conn, |c| diesel::insert_into(contacts::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

pub fn count_in_group(conn: &mut DbConnection, group_id: GroupId) -> QueryResult<i64> {
    contacts::table
        .filter(contacts::group_id.eq(group_id.0))
        .count()
        .get_result(conn)
}
