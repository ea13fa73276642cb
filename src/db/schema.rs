//! One schema for both backends, kept by hand (`diesel print-schema` prints different types per
//! backend). It must match `migrations/sqlite` and `migrations/postgres`.
//!
//! Opt-outs name their scope as `(level, scope_id)`: for level `group` the scope is the group
//! itself, for `client` a client id, for `user` a user id. One column for the three keeps the
//! uniqueness rule "one active opt-out per (address, group, level, scope)" a plain unique index.

diesel::table! {
    groups (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    clients (id) {
        id -> BigInt,
        group_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        display_name -> Text,
        role -> Text,
        group_id -> Nullable<BigInt>,
        client_id -> Nullable<BigInt>,
        password_hash -> Text,
        session_version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contacts (id) {
        id -> BigInt,
        owner_user_id -> BigInt,
        client_id -> BigInt,
        group_id -> BigInt,
        email -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> BigInt,
        group_id -> BigInt,
        client_id -> BigInt,
        owner_user_id -> BigInt,
        name -> Text,
        subject -> Text,
        from_name -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        kind -> Text,
        group_id -> BigInt,
        client_id -> Nullable<BigInt>,
        sender_user_id -> Nullable<BigInt>,
        campaign_id -> Nullable<BigInt>,
        contact_id -> Nullable<BigInt>,
        to_email -> Text,
        payload -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claim_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    campaign_recipients (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        contact_id -> BigInt,
        status -> Text,
        suppressed_level -> Nullable<Text>,
        message_id -> Nullable<BigInt>,
        added_at -> Timestamp,
    }
}

diesel::table! {
    opt_outs (id) {
        id -> BigInt,
        group_id -> BigInt,
        level -> Text,
        scope_id -> BigInt,
        email -> Text,
        source -> Text,
        actor_user_id -> Nullable<BigInt>,
        campaign_id -> Nullable<BigInt>,
        message_id -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    consent_events (id) {
        id -> BigInt,
        group_id -> BigInt,
        email -> Text,
        kind -> Text,
        level -> Nullable<Text>,
        scope_id -> Nullable<BigInt>,
        source -> Text,
        actor_kind -> Text,
        actor_user_id -> Nullable<BigInt>,
        campaign_id -> Nullable<BigInt>,
        message_id -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        ip_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        evidence -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    preference_settings (id) {
        id -> BigInt,
        group_id -> BigInt,
        client_id -> Nullable<BigInt>,
        levels_offered -> Nullable<Text>,
        one_click_level -> Nullable<Text>,
        confirmation_email -> Nullable<Bool>,
        ask_reason -> Nullable<Bool>,
        display_name -> Nullable<Text>,
        accent_colour -> Nullable<Text>,
        custom_message -> Nullable<Text>,
        updated_at -> Timestamp,
        updated_by_user_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        throttle_key -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    revoked_sessions (session_id) {
        session_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(clients -> groups (group_id));
diesel::joinable!(contacts -> users (owner_user_id));
diesel::joinable!(campaigns -> users (owner_user_id));
diesel::joinable!(campaign_recipients -> campaigns (campaign_id));
diesel::joinable!(campaign_recipients -> contacts (contact_id));
diesel::joinable!(opt_outs -> groups (group_id));
diesel::joinable!(consent_events -> groups (group_id));

diesel::allow_tables_to_appear_in_same_query!(
    groups,
    clients,
    users,
    contacts,
    campaigns,
    messages,
    campaign_recipients,
    opt_outs,
    consent_events,
    preference_settings,
    login_failures,
    revoked_sessions,
);

diesel::joinable!(contacts -> clients (client_id));
diesel::joinable!(contacts -> groups (group_id));
diesel::joinable!(campaigns -> clients (client_id));
diesel::joinable!(campaigns -> groups (group_id));
