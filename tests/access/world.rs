//! The world the access tests run in: the demo group "Acme Holdings", a second group "Globex"
//! (another tenant), objects owned by people at every distance from each signed-in role, and a
//! fingerprint of the database to prove that a refused request changed nothing.

use diesel::prelude::*;
use optouts::db::accounts::{self, NewStaffUser};
use optouts::db::campaigns::{self, NewDraft};
use optouts::db::consent_events::NewConsentEvent;
use optouts::db::contacts::{self, NewContact};
use optouts::db::schema::{
    campaign_recipients, campaigns as campaigns_table, clients, consent_events,
    contacts as contacts_table, groups, login_failures, messages, opt_outs as opt_outs_table,
    preference_settings, revoked_sessions, users,
};
use optouts::db::{DbConnection, opt_in_requests, opt_outs};
use optouts::domain::{
    ActorKind, CampaignId, ClientId, ContactId, EmailAddress, EventKind, GroupId, OptOutId, Role,
    Scope, Sender, Source, UserId,
};
use optouts::seed::demo::DEMO_PASSWORD;
use secrecy::SecretString;

use crate::helpers::{Backend, TestApp, csrf_token_in, new_client, spawn_app};

pub const GRACE: &str = "grace.hopper@acme.example";
pub const CARL: &str = "carl.jensen@acme.example";
pub const NINA: &str = "nina.patel@acme.example";
pub const OMAR: &str = "omar.haddad@acme.example";
pub const EVA: &str = "eva.lindqvist@acme.example";
pub const SASHA: &str = "sasha.support@optouts.example";
/// The other tenant's sender.
pub const URSULA: &str = "ursula@globex.example";

/// Who makes a request: one person per role, and nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// Grace: group admin of Acme Holdings, no client (does not send).
    GroupAdmin,
    /// Carl: client admin of Newsletters.
    ClientAdmin,
    /// Nina: user of Newsletters.
    User,
    /// Sasha: platform support, no group.
    Support,
    SignedOut,
}

pub const ACTORS: [Actor; 5] = [
    Actor::GroupAdmin,
    Actor::ClientAdmin,
    Actor::User,
    Actor::Support,
    Actor::SignedOut,
];

impl Actor {
    pub fn email(self) -> Option<&'static str> {
        match self {
            Actor::GroupAdmin => Some(GRACE),
            Actor::ClientAdmin => Some(CARL),
            Actor::User => Some(NINA),
            Actor::Support => Some(SASHA),
            Actor::SignedOut => None,
        }
    }
}

/// Who owns a contact or campaign, seen from the actors: Nina's own, her colleague Omar's
/// (same client), Eva's (another client of the group), Ursula's (another group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Nina,
    Omar,
    Eva,
    Ursula,
}

pub const OWNERS: [Owner; 4] = [Owner::Nina, Owner::Omar, Owner::Eva, Owner::Ursula];

impl Owner {
    pub fn email(self) -> &'static str {
        match self {
            Owner::Nina => NINA,
            Owner::Omar => OMAR,
            Owner::Eva => EVA,
            Owner::Ursula => URSULA,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Owner::Nina => "nina",
            Owner::Omar => "omar",
            Owner::Eva => "eva",
            Owner::Ursula => "ursula",
        }
    }

    /// The campaign name shown in lists, to check who sees which.
    pub fn campaign_name(self) -> String {
        format!("Matrix draft of {}", self.key())
    }
}

/// Opt-outs placed where the Admin › Activity rules differ, all with addresses starting
/// "matrix-" so one search shows them all.
pub const ACME_GROUP_OPT_OUT: &str = "matrix-acme-group@example.com";
pub const NEWSLETTERS_OPT_OUT: &str = "matrix-newsletters@example.com";
pub const EVENTS_OPT_OUT: &str = "matrix-events@example.com";
pub const GLOBEX_OPT_OUT: &str = "matrix-globex@example.com";
/// The opt-out support lifts in the matrix (in Globex, which only support reaches).
pub const GLOBEX_LIFTABLE: &str = "lift-me@example.com";

/// The ids of one owner's objects.
#[derive(Debug, Clone, Copy)]
pub struct Owned {
    pub sender: Sender,
    /// A contact nobody has opted out (yet).
    pub plain_contact: ContactId,
    /// A contact opted out of this sender's emails (an opt-in request may be sent to it).
    pub suppressed_contact: ContactId,
    /// A draft with no recipients.
    pub draft: CampaignId,
    /// A draft with one recipient, ready to send.
    pub ready: CampaignId,
}

pub struct World {
    pub app: TestApp,
    pub globex: GroupId,
    pub events: ClientId,
    pub globex_client: ClientId,
    pub liftable: OptOutId,
    /// The id of GLOBEX_OPT_OUT.
    pub globex_marker: OptOutId,
    owned: Vec<(Owner, Owned)>,
    sessions: Vec<(Actor, reqwest::Client, String)>,
}

impl World {
    /// The demo, the second tenant, every object, and one signed-in browser per role.
    pub async fn build(backend: Backend) -> Option<World> {
        let app = spawn_app(backend).await?;
        app.load_demo();
        let mut conn = app.conn();
        let acme = accounts::find_group_by_name(&mut conn, optouts::seed::demo::GROUP_NAME)
            .unwrap()
            .unwrap()
            .id;
        let events = accounts::find_client_by_name(&mut conn, acme, "Events")
            .unwrap()
            .unwrap()
            .id;
        let (globex, globex_client) = add_globex(&mut conn);
        let mut owned = Vec::new();
        for owner in OWNERS {
            owned.push((owner, add_objects_of(&mut conn, owner)));
        }
        let sender_of = |who: Owner| owned.iter().find(|(o, _)| *o == who).unwrap().1.sender;
        let newsletters = sender_of(Owner::Nina).client_id;
        let opt_out = |conn: &mut DbConnection, group, email, scope| {
            record_opt_out(conn, group, email, scope);
        };
        opt_out(&mut conn, acme, ACME_GROUP_OPT_OUT, Scope::Group(acme));
        opt_out(
            &mut conn,
            acme,
            NEWSLETTERS_OPT_OUT,
            Scope::Client(newsletters),
        );
        opt_out(&mut conn, acme, EVENTS_OPT_OUT, Scope::Client(events));
        opt_out(&mut conn, globex, GLOBEX_OPT_OUT, Scope::Group(globex));
        opt_out(&mut conn, globex, GLOBEX_LIFTABLE, Scope::Group(globex));
        let liftable = opt_out_id(&mut conn, GLOBEX_LIFTABLE);
        let globex_marker = opt_out_id(&mut conn, GLOBEX_OPT_OUT);
        // Emails in the delivery log of three scopes: Newsletters, Events and Globex.
        for owner in [Owner::Omar, Owner::Eva, Owner::Ursula] {
            let mine = owned.iter().find(|(o, _)| *o == owner).unwrap().1;
            let email = EmailAddress::parse(&suppressed_address(owner)).unwrap();
            opt_in_requests::request(
                &mut conn,
                mine.sender.user_id,
                &mine.sender,
                mine.suppressed_contact,
                &email,
            )
            .unwrap();
        }
        drop(conn);
        let mut world = World {
            app,
            globex,
            events,
            globex_client,
            liftable,
            globex_marker,
            owned,
            sessions: Vec::new(),
        };
        for actor in ACTORS {
            let (client, token) = world.open_session(actor).await;
            world.sessions.push((actor, client, token));
        }
        Some(world)
    }

    pub fn owned(&self, owner: Owner) -> Owned {
        self.owned.iter().find(|(o, _)| *o == owner).unwrap().1
    }

    /// The actor's long-lived browser and its CSRF token.
    pub fn session(&self, actor: Actor) -> (&reqwest::Client, &str) {
        let (_, client, token) = self.sessions.iter().find(|(a, _, _)| *a == actor).unwrap();
        (client, token)
    }

    /// A new browser signed in as the actor (none for the signed-out actor), with its token.
    pub async fn open_session(&self, actor: Actor) -> (reqwest::Client, String) {
        let client = new_client();
        let Some(email) = actor.email() else {
            return (client, "no-session-no-token".to_owned());
        };
        let response = self.app.login_with(&client, email, DEMO_PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in as {email}");
        let page = self.app.get_with(&client, "/account/password").await;
        assert_eq!(page.status(), 200, "account page of {email}");
        let token = csrf_token_in(&page.text().await.unwrap());
        (client, token)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(&mut self.app.conn())
    }
}

fn add_globex(conn: &mut DbConnection) -> (GroupId, ClientId) {
    let group = accounts::create_group(conn, "Globex").unwrap();
    let client = accounts::create_client(conn, group.id, "Globex Marketing").unwrap();
    let hash = optouts::passwords::hash(&SecretString::from(DEMO_PASSWORD)).unwrap();
    accounts::create_user(
        conn,
        &NewStaffUser {
            email: &EmailAddress::parse(URSULA).unwrap(),
            display_name: "Ursula Globex",
            role: Role::User,
            group_id: Some(group.id),
            client_id: Some(client.id),
            password_hash: &hash,
        },
    )
    .unwrap();
    (group.id, client.id)
}

fn suppressed_address(owner: Owner) -> String {
    format!("{}-suppressed@contacts.example", owner.key())
}

fn add_objects_of(conn: &mut DbConnection, owner: Owner) -> Owned {
    let user = accounts::find_user_by_email(conn, &EmailAddress::parse(owner.email()).unwrap())
        .unwrap()
        .unwrap();
    let sender = Sender {
        user_id: user.id,
        client_id: user.client_id.unwrap(),
        group_id: user.group_id.unwrap(),
    };
    let contact = |conn: &mut DbConnection, address: &str| {
        contacts::insert_if_absent(
            conn,
            &NewContact {
                owner_user_id: sender.user_id,
                client_id: sender.client_id,
                group_id: sender.group_id,
                email: &EmailAddress::parse(address).unwrap(),
                name: "Matrix contact",
            },
        )
        .unwrap()
        .unwrap()
    };
    let plain_contact = contact(conn, &format!("{}-plain@contacts.example", owner.key()));
    let suppressed_contact = contact(conn, &suppressed_address(owner));
    record_opt_out(
        conn,
        sender.group_id,
        &suppressed_address(owner),
        Scope::User(sender.user_id),
    );
    let draft = |conn: &mut DbConnection, name: &str| {
        campaigns::create_draft(
            conn,
            &NewDraft {
                group_id: sender.group_id,
                client_id: sender.client_id,
                owner_user_id: sender.user_id,
                name,
                subject: "Matrix",
                from_name: "Matrix",
                body_text: "Hello",
                body_html: None,
            },
        )
        .unwrap()
    };
    let draft_id = draft(conn, &owner.campaign_name());
    let ready = draft(conn, &format!("Matrix ready of {}", owner.key()));
    let ready_campaign = campaigns::find(conn, ready).unwrap().unwrap();
    campaigns::add_recipients(conn, &ready_campaign, &[plain_contact]).unwrap();
    Owned {
        sender,
        plain_contact,
        suppressed_contact,
        draft: draft_id,
        ready,
    }
}

fn opt_out_id(conn: &mut DbConnection, email: &str) -> OptOutId {
    opt_outs_table::table
        .filter(opt_outs_table::email.eq(email))
        .select(opt_outs_table::id)
        .first::<i64>(conn)
        .map(OptOutId)
        .unwrap()
}

fn record_opt_out(conn: &mut DbConnection, group: GroupId, email: &str, scope: Scope) {
    let email = EmailAddress::parse(email).unwrap();
    let recorded = opt_outs::record(
        conn,
        &NewConsentEvent {
            group_id: group,
            email: &email,
            kind: EventKind::OptOut,
            scope: Some(scope),
            source: Source::PreferenceCenter,
            actor_kind: ActorKind::Recipient,
            actor_user_id: None,
            campaign_id: None,
            message_id: None,
            reason: None,
            ip_address: None,
            user_agent: None,
            evidence: None,
        },
    )
    .unwrap();
    assert!(recorded, "fixture opt-out {email} recorded");
}

/// What a request could change, row for row: counts of every table, and the columns that
/// change in place (passwords and session versions, campaign status, preference settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    counts: Vec<(&'static str, i64)>,
    users: Vec<(i64, String, i64)>,
    campaigns: Vec<(i64, String)>,
    settings: Vec<SettingsRow>,
}

type SettingsRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<bool>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Snapshot {
    pub fn of(conn: &mut DbConnection) -> Snapshot {
        macro_rules! count {
            ($($table:ident),*) => {
                vec![$((stringify!($table), $table::table.count().get_result::<i64>(conn).unwrap())),*]
            };
        }
        let counts = count!(
            groups,
            clients,
            users,
            contacts_table,
            campaigns_table,
            campaign_recipients,
            messages,
            opt_outs_table,
            consent_events,
            preference_settings,
            login_failures,
            revoked_sessions
        );
        let users = users::table
            .order(users::id)
            .select((users::id, users::password_hash, users::session_version))
            .load(conn)
            .unwrap();
        let campaigns = campaigns_table::table
            .order(campaigns_table::id)
            .select((campaigns_table::id, campaigns_table::status))
            .load(conn)
            .unwrap();
        let settings = preference_settings::table
            .order(preference_settings::id)
            .select((
                preference_settings::id,
                preference_settings::levels_offered,
                preference_settings::one_click_level,
                preference_settings::confirmation_email,
                preference_settings::ask_reason,
                preference_settings::display_name,
                preference_settings::accent_colour,
                preference_settings::custom_message,
            ))
            .load(conn)
            .unwrap();
        Snapshot {
            counts,
            users,
            campaigns,
            settings,
        }
    }

    /// The password hash and session version of one user.
    pub fn user(&self, id: UserId) -> (String, i64) {
        self.users
            .iter()
            .find(|(uid, _, _)| *uid == id.0)
            .map(|(_, hash, version)| (hash.clone(), *version))
            .expect("user in snapshot")
    }

    /// What differs from `before`, in words, for a failure message.
    pub fn differences(&self, before: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        for ((table, now), (_, then)) in self.counts.iter().zip(&before.counts) {
            if now != then {
                out.push(format!("{table}: {then} rows -> {now}"));
            }
        }
        if self.users != before.users {
            out.push("a password or session version changed".into());
        }
        if self.campaigns != before.campaigns {
            out.push("a campaign's status changed".into());
        }
        if self.settings != before.settings {
            out.push("preference settings changed".into());
        }
        out
    }
}
