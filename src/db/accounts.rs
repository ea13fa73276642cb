//! Groups, clients and staff logins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{clients, groups, users};
use super::{DbConnection, now};
use crate::domain::{ClientId, EmailAddress, GroupId, Person, Role, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub group_id: GroupId,
    pub name: String,
}

/// A staff login as stored. `Debug` by hand: the password hash never reaches a log line.
#[derive(Clone)]
pub struct StaffUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub group_id: Option<GroupId>,
    pub client_id: Option<ClientId>,
    pub password_hash: String,
    pub session_version: i64,
}

/// A staff login with the names of its group and client, for page headers.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub user: StaffUser,
    pub group_name: Option<String>,
    pub client_name: Option<String>,
}

impl std::fmt::Debug for StaffUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("group_id", &self.group_id)
            .field("client_id", &self.client_id)
            .field("password_hash", &"***")
            .field("session_version", &self.session_version)
            .finish()
    }
}

impl StaffUser {
    /// The login as the rights functions see a person.
    pub fn person(&self) -> Person {
        Person {
            id: self.id,
            role: self.role,
            group_id: self.group_id,
            client_id: self.client_id,
        }
    }
}

pub struct NewStaffUser<'a> {
    pub email: &'a EmailAddress,
    pub display_name: &'a str,
    pub role: Role,
    pub group_id: Option<GroupId>,
    pub client_id: Option<ClientId>,
    pub password_hash: &'a str,
}

#[derive(Queryable)]
struct UserRow {
    id: UserId,
    email: String,
    display_name: String,
    role: Role,
    group_id: Option<GroupId>,
    client_id: Option<ClientId>,
    password_hash: String,
    session_version: i64,
    _created_at: NaiveDateTime,
}

impl From<UserRow> for StaffUser {
    fn from(row: UserRow) -> Self {
        StaffUser {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            role: row.role,
            group_id: row.group_id,
            client_id: row.client_id,
            password_hash: row.password_hash,
            session_version: row.session_version,
        }
    }
}

pub fn find_group_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Group>> {
    groups::table
        .filter(groups::name.eq(name))
        .select((groups::id, groups::name))
        .first::<Group>(conn)
        .optional()
}

pub fn create_group(conn: &mut DbConnection, name: &str) -> QueryResult<Group> {
    let id = diesel::insert_into(groups::table)
        .values((groups::name.eq(name), groups::created_at.eq(now())))
        .returning(groups::id)
        .get_result::<GroupId>(conn)?;
    Ok(Group {
        id,
        name: name.to_owned(),
    })
}

pub fn find_client_by_name(
    conn: &mut DbConnection,
    group_id: GroupId,
    name: &str,
) -> QueryResult<Option<Client>> {
    clients::table
        .filter(clients::group_id.eq(group_id))
        .filter(clients::name.eq(name))
        .select(clients::id)
        .first::<ClientId>(conn)
        .optional()
        .map(|id| {
            id.map(|id| Client {
                id,
                group_id,
                name: name.to_owned(),
            })
        })
}

pub fn create_client(
    conn: &mut DbConnection,
    group_id: GroupId,
    name: &str,
) -> QueryResult<Client> {
    let id = diesel::insert_into(clients::table)
        .values((
            clients::group_id.eq(group_id),
            clients::name.eq(name),
            clients::created_at.eq(now()),
        ))
        .returning(clients::id)
        .get_result::<ClientId>(conn)?;
    Ok(Client {
        id,
        group_id,
        name: name.to_owned(),
    })
}

pub fn list_clients(conn: &mut DbConnection, group_id: GroupId) -> QueryResult<Vec<Client>> {
    clients::table
        .filter(clients::group_id.eq(group_id))
        .order(clients::name)
        .select((clients::id, clients::name))
        .load::<(ClientId, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(id, name)| Client { id, group_id, name })
                .collect()
        })
}

pub fn create_user(conn: &mut DbConnection, new: &NewStaffUser<'_>) -> QueryResult<UserId> {
    diesel::insert_into(users::table)
        .values((
            users::email.eq(new.email.as_str()),
            users::display_name.eq(new.display_name),
            users::role.eq(new.role),
            users::group_id.eq(new.group_id),
            users::client_id.eq(new.client_id),
            users::password_hash.eq(new.password_hash),
            users::session_version.eq(1),
            users::created_at.eq(now()),
        ))
        .returning(users::id)
        .get_result::<UserId>(conn)
}

pub fn find_user_by_email(
    conn: &mut DbConnection,
    email: &EmailAddress,
) -> QueryResult<Option<StaffUser>> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .first::<UserRow>(conn)
        .optional()
        .map(|row| row.map(StaffUser::from))
}

/// The signed-in person with the names shown in the page header.
pub fn find_account(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<StaffAccount>> {
    let row = users::table
        .left_join(groups::table.on(groups::id.nullable().eq(users::group_id)))
        .left_join(clients::table.on(clients::id.nullable().eq(users::client_id)))
        .filter(users::id.eq(id))
        .select((
            users::all_columns,
            groups::name.nullable(),
            clients::name.nullable(),
        ))
        .first::<(UserRow, Option<String>, Option<String>)>(conn)
        .optional()?;
    Ok(row.map(|(user, group_name, client_name)| StaffAccount {
        user: StaffUser::from(user),
        group_name,
        client_name,
    }))
}

/// Ends every session of the user (they carry the old version) and returns the new version.
pub fn bump_session_version(conn: &mut DbConnection, id: UserId) -> QueryResult<i64> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::session_version.eq(users::session_version + 1))
        .returning(users::session_version)
        .get_result(conn)
}

/// Stores a new password hash and, in the same statement, bumps the session version so every
/// session signed in with the old password ends. Returns the new version.
pub fn change_password(conn: &mut DbConnection, id: UserId, new_hash: &str) -> QueryResult<i64> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set((
            users::password_hash.eq(new_hash),
            users::session_version.eq(users::session_version + 1),
        ))
        .returning(users::session_version)
        .get_result(conn)
}

pub fn count_groups(conn: &mut DbConnection) -> QueryResult<i64> {
    groups::table.count().get_result(conn)
}

pub fn list_groups(conn: &mut DbConnection) -> QueryResult<Vec<Group>> {
    groups::table
        .order(groups::name)
        .select((groups::id, groups::name))
        .load::<Group>(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password_hash() {
        let user = StaffUser {
            id: UserId(1),
            email: "nina.patel@acme.example".into(),
            display_name: "Nina Patel".into(),
            role: Role::User,
            group_id: None,
            client_id: None,
            password_hash: "$argon2id$v=19$secret-hash".into(),
            session_version: 1,
        };
        let shown = format!("{user:?}");
        assert!(!shown.contains("argon2"), "{shown}");
        assert!(shown.contains("Nina Patel"));
    }
}
