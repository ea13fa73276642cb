//! The service layer called directly, as a future way in (an API, a webhook) would call it:
//! what the rights refuse is refused there, whoever calls, and nothing changes.

use std::sync::Arc;

use diesel::prelude::*;
use optouts::db::accounts;
use optouts::db::schema::opt_outs;
use optouts::db::schema::preference_settings;
use optouts::domain::ContactId;
use optouts::domain::preferences::Overrides;
use optouts::domain::{EmailAddress, Level, Person};
use optouts::passwords::PasswordChecker;
use optouts::service::import::{ImportOptOuts, import_opt_outs};
use optouts::service::manual_opt_out::{ManualOptOut, opt_out_by_hand};
use optouts::service::password_change::{ChangePassword, change_password};
use optouts::service::settings::{SavePreferenceSettings, save_preference_settings};
use optouts::service::{Actor, ServiceError, Services};

use crate::helpers::{Backend, TestApp, demo_app};
use crate::on_both_backends;

on_both_backends!(
    settings_above_the_actors_rights_are_refused_and_nothing_is_stored,
    a_password_change_needs_a_person,
    only_a_group_admin_imports_and_only_within_their_rights,
    a_manual_opt_out_above_the_actors_rights_is_refused,
);

const GRACE: &str = "grace.hopper@acme.example";
const CARL: &str = "carl.jensen@acme.example";
const NINA: &str = "nina.patel@acme.example";

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

fn opt_out_count(app: &TestApp) -> i64 {
    opt_outs::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

fn group_wide_import() -> ImportOptOuts {
    ImportOptOuts {
        csv: b"address,level\nsomeone.new@example.org,group\n".to_vec(),
        file_name: "list.csv".into(),
        commit: true,
    }
}

async fn only_a_group_admin_imports_and_only_within_their_rights(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let services = services(&app);
    let before = opt_out_count(&app);

    // A user imports nothing at all: not found, as the page answers.
    let nina = Actor::signed_in(person(&app, NINA));
    let refused = import_opt_outs(&services, &nina, group_wide_import()).await;
    assert!(
        matches!(refused, Err(ServiceError::NotFound)),
        "{refused:?}"
    );

    // A client admin imports, but a group-level row is outside their rights: reported, not added.
    let carl = Actor::signed_in(person(&app, CARL));
    let report = import_opt_outs(&services, &carl, group_wide_import())
        .await
        .unwrap();
    assert_eq!((report.to_add, report.added), (0, Some(0)));
    assert_eq!(report.invalid.len(), 1, "{report:?}");
    assert_eq!(opt_out_count(&app), before, "nothing was added");

    // The group admin's import adds the row.
    let grace = Actor::signed_in(person(&app, GRACE));
    let report = import_opt_outs(&services, &grace, group_wide_import())
        .await
        .unwrap();
    assert_eq!(report.added, Some(1));
    assert_eq!(opt_out_count(&app), before + 1);
}

async fn a_manual_opt_out_above_the_actors_rights_is_refused(backend: Backend) {
    let Some(app) = demo_app(backend).await else {
        return;
    };
    let services = services(&app);
    let contact = ContactId(app.contact_id(NINA, "o'brien@example.ie"));
    let before = opt_out_count(&app);
    let asked = |level| ManualOptOut {
        contact,
        level,
        note: String::new(),
    };

    let nina = Actor::signed_in(person(&app, NINA));
    let refused = opt_out_by_hand(&services, &nina, asked(Level::Group)).await;
    assert!(
        matches!(&refused, Err(ServiceError::Forbidden(reason)) if reason.contains("Only an admin")),
        "{refused:?}"
    );
    // Nobody signed in opts out by hand.
    let refused = opt_out_by_hand(&services, &Actor::System, asked(Level::User)).await;
    assert!(
        matches!(refused, Err(ServiceError::NotFound)),
        "{refused:?}"
    );
    assert_eq!(opt_out_count(&app), before, "nothing was recorded");

    let done = opt_out_by_hand(&services, &nina, asked(Level::User))
        .await
        .unwrap();
    assert!(done.recorded);
    assert_eq!(opt_out_count(&app), before + 1);
}
