//! The service layer called directly, as a future way in (an API, a webhook) would call it:
//! what the rights refuse is refused there, whoever calls, and nothing changes.

use std::sync::Arc;

use diesel::prelude::*;
use optouts::db::accounts;
use optouts::db::schema::preference_settings;
use optouts::domain::preferences::Overrides;
use optouts::domain::{EmailAddress, Level, Person};
use optouts::passwords::PasswordChecker;
use optouts::service::password_change::{ChangePassword, change_password};
use optouts::service::settings::{SavePreferenceSettings, save_preference_settings};
use optouts::service::{Actor, ServiceError, Services};

use crate::helpers::{Backend, TestApp, demo_app};
use crate::on_both_backends;

on_both_backends!(
    settings_above_the_actors_rights_are_refused_and_nothing_is_stored,
    a_password_change_needs_a_person,
);

const GRACE: &str = "grace.hopper@acme.example";
const CARL: &str = "carl.jensen@acme.example";

fn services(app: &TestApp) -> Services {
    Services {
        pool: app.pool.clone(),
        opt_out_writer: None,
        sender_profiles: Arc::default(),
        passwords: PasswordChecker::with_threads(1).unwrap(),
    }
}

fn person(app: &TestApp, email: &str) -> Person {
    let email = EmailAddress::parse(email).unwrap();
    accounts::find_user_by_email(&mut app.conn(), &email)
        .unwrap()
        .unwrap()
        .person()
}

/// Every stored settings row as (client, one-click level).
fn stored_rows(app: &TestApp) -> Vec<(Option<i64>, Option<String>)> {
    preference_settings::table
        .select((
            preference_settings::client_id,
            preference_settings::one_click_level,
        ))
        .order(preference_settings::id)
        .load(&mut *app.conn())
        .unwrap()
}

fn one_click_at(level: Level) -> Overrides {
    Overrides {
        levels_offered: Some(vec![Level::User, Level::Client, Level::Group]),
        one_click_level: Some(level),
        ..Overrides::default()
    }
}

async fn settings_above_the_actors_rights_are_refused_and_nothing_is_stored(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let services = services(&app);
    let (grace, carl) = (person(&app, GRACE), person(&app, CARL));
    let group = grace.group_id.unwrap();
    let before = stored_rows(&app);

    // A client admin may edit their client's row, but not make its one-click group-wide.
    let refused = save_preference_settings(
        &services,
        &Actor::signed_in(carl),
        SavePreferenceSettings {
            group,
            client: carl.client_id,
            overriding: true,
            values: one_click_at(Level::Group),
        },
    )
    .await;
    assert!(
        matches!(&refused, Err(ServiceError::Forbidden(reason)) if reason.contains("whole group")),
        "{refused:?}"
    );

    // The group defaults are not theirs at all: not found, as on the page.
    let refused = save_preference_settings(
        &services,
        &Actor::signed_in(carl),
        SavePreferenceSettings {
            group,
            client: None,
            overriding: true,
            values: one_click_at(Level::User),
        },
    )
    .await;
    assert!(
        matches!(refused, Err(ServiceError::NotFound)),
        "{refused:?}"
    );

    // Nobody signed in (the system, a recipient's link) edits settings.
    let refused = save_preference_settings(
        &services,
        &Actor::System,
        SavePreferenceSettings {
            group,
            client: None,
            overriding: true,
            values: one_click_at(Level::User),
        },
    )
    .await;
    assert!(
        matches!(refused, Err(ServiceError::NotFound)),
        "{refused:?}"
    );
    assert_eq!(stored_rows(&app), before, "nothing was stored");

    // The same call within the group admin's rights is saved.
    save_preference_settings(
        &services,
        &Actor::signed_in(grace),
        SavePreferenceSettings {
            group,
            client: None,
            overriding: true,
            values: one_click_at(Level::Group),
        },
    )
    .await
    .unwrap();
    assert!(
        stored_rows(&app).contains(&(None, Some("group".to_owned()))),
        "{:?}",
        stored_rows(&app)
    );
}

async fn a_password_change_needs_a_person(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let change = ChangePassword {
        email: GRACE.into(),
        current_password: optouts::seed::demo::DEMO_PASSWORD.into(),
        new_password: "a long new password".into(),
        new_password_again: "a long new password".into(),
        client_address: "192.0.2.7".into(),
    };
    let refused = change_password(&services(&app), &Actor::System, change).await;
    assert!(
        matches!(refused, Err(ServiceError::Forbidden(_))),
        "{refused:?}"
    );
}
