//! The demo data set: group "Acme Holdings" with three clients, a login for every role, a few
//! hundred contacts (awkward names included, to prove escaping), opt-outs at every level and a
//! draft campaign. Loading it again changes nothing: every piece is found or created by its
//! natural key, and opt-outs that exist append no second event.

use anyhow::Context;
use secrecy::SecretString;

use crate::db::accounts::{self, Client, Group, NewStaffUser, StaffUser};
use crate::db::campaigns::{self, NewDraft};
use crate::db::consent_events::NewConsentEvent;
use crate::db::contacts::{self, NewContact};
use crate::db::{DbConnection, opt_outs, write_transaction};
use crate::domain::{
    ActorKind, ClientId, EmailAddress, EventKind, GroupId, Role, Scope, Source, UserId,
};
use crate::passwords;

pub const GROUP_NAME: &str = "Acme Holdings";
pub const CLIENT_NAMES: [&str; 3] = ["Newsletters", "Events", "Tax"];
/// Every demo login shares it; shown by `optouts demo` and in the README.
pub const DEMO_PASSWORD: &str = "optouts-demo-2026";

/// A demo login: (email, display name, role, client name).
type DemoLogin = (&'static str, &'static str, Role, Option<&'static str>);

pub const LOGINS: [DemoLogin; 9] = [
    (
        "grace.hopper@acme.example",
        "Grace Hopper",
        Role::GroupAdmin,
        None,
    ),
    (
        "carl.jensen@acme.example",
        "Carl Jensen",
        Role::ClientAdmin,
        Some("Newsletters"),
    ),
    (
        "nina.patel@acme.example",
        "Nina Patel",
        Role::User,
        Some("Newsletters"),
    ),
    (
        "omar.haddad@acme.example",
        "Omar Haddad",
        Role::User,
        Some("Newsletters"),
    ),
    (
        "eva.lindqvist@acme.example",
        "Eva Lindqvist",
        Role::User,
        Some("Events"),
    ),
    (
        "sam.oconnor@acme.example",
        "Sam O'Connor",
        Role::User,
        Some("Events"),
    ),
    (
        "tom.becker@acme.example",
        "Tom Becker",
        Role::User,
        Some("Tax"),
    ),
    (
        "priya.raman@acme.example",
        "Priya Raman",
        Role::User,
        Some("Tax"),
    ),
    (
        "sasha.support@optouts.example",
        "Sasha Support",
        Role::Support,
        None,
    ),
];

const FIRST_NAMES: [&str; 16] = [
    "Alice",
    "Bram",
    "Chloé",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Giulia",
    "Hiro",
    "Ingrid",
    "Jamal",
    "Katarzyna",
    "Luis",
    "Mei",
    "Noah",
    "Olu",
    "Pilar",
];
const LAST_NAMES: [&str; 12] = [
    "Andersson",
    "Brown",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hughes",
    "Ivanova",
    "Jones",
    "Kowalski",
    "Nakamura",
];
const DOMAINS: [&str; 5] = [
    "example.com",
    "example.org",
    "mail.example.net",
    "example.co.uk",
    "müller.example",
];

/// Contacts every sender has, so opt-outs at broad levels visibly cascade.
const SHARED_CONTACTS: [(&str, &str); 7] = [
    ("siobhan.obrien@example.ie", "Siobhán O'Brien"),
    ("zoe@müller.example", "Zoë Müller"),
    ("yamada@example.jp", "名前 山田"),
    ("script@example.com", "<script>alert('x')</script> Mallory"),
    ("renee.darc@example.fr", "Renée d'Arc & Co"),
    ("jane+news@example.com", "Jane Doe (news)"),
    ("o'brien@example.ie", "Pat O'Brien"),
];

/// What the loader found or made.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub users_created: usize,
    pub contacts_created: usize,
    pub opt_outs_created: usize,
    pub campaigns_created: usize,
}

pub fn load(conn: &mut DbConnection) -> anyhow::Result<Summary> {
    write_transaction(conn, |conn| {
        let mut summary = Summary::default();
        let group = find_or_create_group(conn)?;
        let clients = CLIENT_NAMES
            .iter()
            .map(|name| find_or_create_client(conn, group.id, name))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let password_hash = passwords::hash(&SecretString::from(DEMO_PASSWORD))?;
        let mut senders = Vec::new();
        for login in LOGINS {
            let (user, created) =
                find_or_create_user(conn, &group, &clients, login, &password_hash)?;
            summary.users_created += usize::from(created);
            if user.client_id.is_some() {
                senders.push(user);
            }
        }
        for (index, sender) in senders.iter().enumerate() {
            summary.contacts_created += add_contacts(conn, sender, index)?;
        }
        summary.opt_outs_created += add_opt_outs(conn, &group, &clients, &senders)?;
        summary.campaigns_created += add_draft_campaign(conn, &senders[1])?;
        Ok(summary)
    })
}

/// True when the database holds no group yet (`serve --demo` loads only then).
pub fn database_is_empty(conn: &mut DbConnection) -> anyhow::Result<bool> {
    Ok(accounts::count_groups(conn)? == 0)
}

fn find_or_create_group(conn: &mut DbConnection) -> anyhow::Result<Group> {
    Ok(match accounts::find_group_by_name(conn, GROUP_NAME)? {
        Some(group) => group,
        None => accounts::create_group(conn, GROUP_NAME)?,
    })
}

fn find_or_create_client(
    conn: &mut DbConnection,
    group: GroupId,
    name: &str,
) -> anyhow::Result<Client> {
    Ok(match accounts::find_client_by_name(conn, group, name)? {
        Some(client) => client,
        None => accounts::create_client(conn, group, name)?,
    })
}

fn find_or_create_user(
    conn: &mut DbConnection,
    group: &Group,
    clients: &[Client],
    (email, name, role, client_name): DemoLogin,
    password_hash: &str,
) -> anyhow::Result<(StaffUser, bool)> {
    let email = EmailAddress::parse(email).context("demo login address")?;
    if let Some(existing) = accounts::find_user_by_email(conn, &email)? {
        return Ok((existing, false));
    }
    let client_id: Option<ClientId> =
        client_name.and_then(|name| clients.iter().find(|c| c.name == name).map(|c| c.id));
    let group_id = role.requires_group().then_some(group.id);
    let id = accounts::create_user(
        conn,
        &NewStaffUser {
            email: &email,
            display_name: name,
            role,
            group_id,
            client_id,
            password_hash,
        },
    )?;
    let user = accounts::find_user_by_email(conn, &email)?
        .with_context(|| format!("demo user {id} vanished"))?;
    Ok((user, true))
}

/// 45 contacts per sender: the shared awkward ones plus generated, realistic names.
fn add_contacts(
    conn: &mut DbConnection,
    sender: &StaffUser,
    sender_index: usize,
) -> anyhow::Result<usize> {
    let (client_id, group_id) = sender_ids(sender)?;
    let generated = (0..GENERATED_PER_SENDER).map(|n| generated_contact(sender_index, n));
    let mut created = 0;
    let all = SHARED_CONTACTS
        .iter()
        .map(|(email, name)| ((*email).to_owned(), (*name).to_owned()))
        .chain(generated);
    for (email, name) in all {
        let email = EmailAddress::parse(&email).context("demo contact address")?;
        let new = NewContact {
            owner_user_id: sender.id,
            client_id,
            group_id,
            email: &email,
            name: &name,
        };
        created += usize::from(contacts::insert_if_absent(conn, &new)?.is_some());
    }
    Ok(created)
}

/// Opt-outs at each level, as recipients and staff would have made them.
fn add_opt_outs(
    conn: &mut DbConnection,
    group: &Group,
    clients: &[Client],
    senders: &[StaffUser],
) -> anyhow::Result<usize> {
    let mut created = 0;
    let mut record = |conn: &mut DbConnection,
                      email: &str,
                      scope: Scope,
                      source: Source,
                      actor: Option<UserId>|
     -> anyhow::Result<()> {
        let email = EmailAddress::parse(email).context("demo opt-out address")?;
        let actor_kind = if actor.is_some() {
            ActorKind::User
        } else {
            ActorKind::Recipient
        };
        let event = NewConsentEvent {
            group_id: group.id,
            email: &email,
            kind: EventKind::OptOut,
            scope: Some(scope),
            source,
            actor_kind,
            actor_user_id: actor,
            campaign_id: None,
            message_id: None,
            reason: None,
            ip_address: None,
            user_agent: None,
            evidence: None,
        };
        created += usize::from(opt_outs::record(conn, &event)?);
        Ok(())
    };
    // Group level: no one in Acme Holdings may email these.
    record(
        conn,
        "siobhan.obrien@example.ie",
        Scope::Group(group.id),
        Source::PreferenceCenter,
        None,
    )?;
    record(
        conn,
        "script@example.com",
        Scope::Group(group.id),
        Source::OneClick,
        None,
    )?;
    // Client level: Newsletters and Events each lost one shared recipient.
    record(
        conn,
        "zoe@xn--mller-kva.example",
        Scope::Client(clients[0].id),
        Source::PreferenceCenter,
        None,
    )?;
    record(
        conn,
        "yamada@example.jp",
        Scope::Client(clients[1].id),
        Source::PreferenceCenter,
        None,
    )?;
    // User level: each sender's first generated contact opted out of that sender only, and
    // one opted out by hand by the sender.
    for (index, sender) in senders.iter().enumerate() {
        let (first, _) = generated_contact(index, 0);
        record(
            conn,
            &first,
            Scope::User(sender.id),
            Source::PreferenceCenter,
            None,
        )?;
    }
    record(
        conn,
        "renee.darc@example.fr",
        Scope::User(senders[1].id),
        Source::Manual,
        Some(senders[1].id),
    )?;
    Ok(created)
}

const GENERATED_PER_SENDER: usize = 38;

/// The n-th generated contact of a sender: (address, name), the same on every run.
fn generated_contact(sender_index: usize, n: usize) -> (String, String) {
    let seed = sender_index * GENERATED_PER_SENDER + n;
    let first = FIRST_NAMES[seed % FIRST_NAMES.len()];
    let last = LAST_NAMES[(seed * 7 + sender_index) % LAST_NAMES.len()];
    let domain = DOMAINS[seed % DOMAINS.len()];
    let address = format!("{}.{}{seed}@{domain}", ascii_fold(first), ascii_fold(last));
    (address, format!("{first} {last}"))
}

fn add_draft_campaign(conn: &mut DbConnection, owner: &StaffUser) -> anyhow::Result<usize> {
    const NAME: &str = "November newsletter";
    if campaigns::find_by_owner_and_name(conn, owner.id, NAME)?.is_some() {
        return Ok(0);
    }
    let (client_id, group_id) = sender_ids(owner)?;
    campaigns::create_draft(
        conn,
        &NewDraft {
            group_id,
            client_id,
            owner_user_id: owner.id,
            name: NAME,
            subject: "What's new at Acme this November",
            from_name: &owner.display_name,
            body_text: "Hello,\n\nHere is what happened at Acme this month.\n\nBest wishes,\nThe Newsletters team",
            body_html: None,
        },
    )?;
    Ok(1)
}

fn sender_ids(sender: &StaffUser) -> anyhow::Result<(ClientId, GroupId)> {
    match (sender.client_id, sender.group_id) {
        (Some(client), Some(group)) => Ok((client, group)),
        _ => anyhow::bail!("demo sender {} has no client", sender.id),
    }
}

/// "Chloé" → "chloe": generated addresses stay plain ASCII like most real ones.
fn ascii_fold(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'é' | 'è' => Some('e'),
            'í' => Some('i'),
            'á' => Some('a'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
